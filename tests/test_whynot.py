"""Why-not queries and their counterfactuals (mutasi_rules.planning.whynot, ``mutasi-rules why-not``).

The central property: every counterfactual a report gives, applied to the facts by the test
itself (its ``changes`` written into the display-form facts, and for time ones the facts
rebuilt for ``effective_date``), makes the rules it claims to resolve stop firing in a rule
engine built here, and in the reference interpreter.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pytest

from mutasi_rules.cli import main
from mutasi_rules.data.facts import (
    EmployeeScope,
    add_years,
    context_facts,
    employee_facts,
    fact_schema,
)
from mutasi_rules.data.loading import validate_dataset
from mutasi_rules.planning.recommendation import RecommendOptions, RunContext, prepare
from mutasi_rules.planning.whynot import (
    UnknownSubject,
    WhyNot,
    WhyNotReport,
    render_report,
    ways_out,
)
from mutasi_rules.rules.engine import RuleEngine
from mutasi_rules.rules.language import parse
from mutasi_rules.rules.language.interpreter import evaluate
from mutasi_rules.rules.rulesets import default_rules_dir

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pontianak"
VACCINATOR = "agency.dinkes-pontianak/vaksinator-training"


@pytest.fixture(scope="module")
def ctx() -> RunContext:
    dataset, problems = validate_dataset(EXAMPLE)
    assert dataset is not None, problems
    return prepare(dataset, RecommendOptions())


@pytest.fixture(scope="module")
def service(ctx: RunContext) -> Any:
    with WhyNot(ctx) as prepared:
        yield prepared


@pytest.fixture(scope="module")
def employee_blocks(ctx: RunContext) -> dict[str, list[str]]:
    """NIP -> the employee-scope block rules that fire for the person (an engine built here)."""
    nips = sorted(ctx.employees)
    with ctx.engine() as engine:
        found = engine.evaluate("employee", [ctx.employee_scope(n) for n in nips], nips)
    return {n: [f.rule_id for f in fs if f.effect.value == "block"] for n, fs in zip(nips, found, strict=True)}


def first_with(blocks: dict[str, list[str]], rule: str, ctx: RunContext | None = None) -> str:
    """The first NIP the rule blocks (with ``ctx``: one with more than 3 years to retirement)."""
    return next(nip for nip, rules in sorted(blocks.items())
                if rule in rules and (ctx is None or ctx.employee_facts(nip).years_to_retirement > 3))


def vaccination_target(ctx: RunContext) -> str:
    return next(p for p in sorted(ctx.shortages) if "vaksinasi" in ctx.index.positions[p].programmes)


# --------------------------------------------------------------------------- independent re-evaluation


def _set(tree: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        tree = tree[part]
    tree[parts[-1]] = value


class Checker:
    """Re-evaluates a counterfactual with its own engines, from the report's data only."""

    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.engines: dict[dt.date, RuleEngine] = {}
        self.expressions = {f"{r.id}/{rule.id}": r.expressions[rule.id] for r in ctx.rulesets for rule in r.rules}
        self.schemas = {s: fact_schema(s, ctx.extensions) for s in ("employee", "candidate")}

    def engine(self, day: dt.date) -> RuleEngine:
        if day not in self.engines:
            self.engines[day] = RuleEngine(self.ctx.rulesets, as_of=day, extensions=self.ctx.extensions)
        return self.engines[day]

    def fired(self, day: dt.date, employee: Any, candidate: Any, effect: str | None = None) -> set[str]:
        engine = self.engine(day)
        found = engine.evaluate("employee", [employee], ["e"])[0]
        if candidate is not None:
            found += engine.evaluate("candidate", [candidate], ["c"])[0]
        return {f.rule_key for f in found if effect is None or f.effect.value == effect}

    def changed_facts(self, report: WhyNotReport, changes: dict[str, Any]) -> tuple[dict, dict | None]:
        nip, target = report.employee.nip, report.position.position_id
        employee = self.ctx.employee_scope(nip).model_dump(mode="json")
        candidate = (self.ctx.candidate_scope(nip, target).model_dump(mode="json")
                     if report.employee.position.position_id != target else None)
        for path, value in changes.items():
            if path.startswith(("employee.", "context.")) or path == "as_of":
                _set(employee, path, value)
            if candidate is not None and (path.startswith(("candidate.", "context.")) or path == "as_of"):
                _set(candidate, path, value)
        return employee, candidate

    def check(self, report: WhyNotReport) -> int:
        checked = 0
        for cf in report.counterfactuals:
            assert cf.verified and cf.resolves, cf
            day = cf.effective_date or self.ctx.as_of
            employee, candidate = self.changed_facts(report, cf.changes)
            fired = self.fired(day, employee, candidate)
            for key in cf.resolves:
                assert key not in fired, (report.employee.nip, report.position.position_id, cf)
                scope = "candidate" if key in {r.code for r in report.reasons + report.conditions
                                               if r.scope == "candidate"} else "employee"
                fact = candidate if scope == "candidate" else employee
                assert not evaluate(self.expressions[key], fact, self.schemas[scope]), (key, cf)
            blocking_after = {k for k in fired if k in {r.code for r in report.reasons}}
            assert blocking_after <= set(cf.still_blocking), (cf, fired)
            checked += 1
        return checked


@pytest.fixture(scope="module")
def checker(ctx: RunContext) -> Any:
    made = Checker(ctx)
    yield made
    for engine in made.engines.values():
        engine.close()


# --------------------------------------------------------------------------- the property


def test_every_counterfactual_makes_the_rule_stop_firing_when_reapplied(ctx, service, checker):
    """For every blocked (person in a surplus post, short post) pair, and a sample of others."""
    pool = sorted(e.nip for e in ctx.dataset.employees if e.position_id in ctx.surplus)
    rng = random.Random(8)
    pairs = rng.sample([(n, t) for n in pool for t in sorted(ctx.shortages)], 90)
    pairs += [(n, rng.choice(sorted(ctx.shortages))) for n in rng.sample(sorted(ctx.employees), 25)]
    kinds: set[str] = set()
    checked = blocked = 0
    for nip, target in pairs:
        report = service.query(nip, target)
        if not report.passes_rules:
            blocked += 1
        kinds |= {c.kind for c in report.counterfactuals}
        checked += checker.check(report)
        # The blocking rules the report names are exactly those an engine built here fires for the pair.
        employee, candidate = checker.changed_facts(report, {})
        blocks = {r.code for r in report.reasons if r.kind == "block"}
        assert blocks == checker.fired(ctx.as_of, employee, candidate, "block")
        assert report.passes_rules == (not blocks and not any(r.kind == "veto" for r in report.reasons))
        assert report.eligible == (not report.reasons)
        # Every blocking rule has a verified way out, or is listed as unresolved.
        assert blocks <= {k for c in report.counterfactuals for k in c.resolves} | set(report.unresolved)
        order = {"time": 0, "action": 1, "impossible": 2}
        ranks = [(order[c.kind], c.effective_date or dt.date.min) for c in report.counterfactuals
                 if c.kind != "action"]
        assert [k for k, _ in ranks] == sorted(k for k, _ in ranks)
        assert [order[c.kind] for c in report.counterfactuals] == sorted(order[c.kind] for c in report.counterfactuals)
    assert blocked > 40 and checked > 150
    assert kinds == {"time", "action", "impossible"}


def test_time_counterfactual_is_the_first_day_the_rule_stops_firing(ctx, service, employee_blocks, checker):
    """Rebuilt facts: the rule fires the day before the effective date and not on it."""
    target = vaccination_target(ctx)
    for rule in ("min-time-in-post", "active-disciplinary-sanction"):
        nip = first_with(employee_blocks, rule, ctx)
        report = service.query(nip, target)
        [cf] = [c for c in report.counterfactuals
                if c.kind == "time" and f"national.transfer-norms/{rule}" in c.resolves]
        record = ctx.employees[nip]
        for day, fires in ((cf.effective_date - dt.timedelta(days=1), True), (cf.effective_date, False)):
            facts = EmployeeScope(as_of=day, context=context_facts(day, ctx.dataset, day),
                                  employee=employee_facts(record, ctx.index, day))
            assert (f"national.transfer-norms/{rule}" in checker.fired(day, facts, None)) is fires, (rule, day)


# --------------------------------------------------------------------------- specific cases


def test_min_time_in_post_gives_the_exact_calendar_date(ctx, service, employee_blocks):
    nip = first_with(employee_blocks, "min-time-in-post", ctx)
    report = service.query(nip, vaccination_target(ctx))
    start = ctx.employees[nip].position_start
    [cf] = [c for c in report.counterfactuals
            if c.kind == "time" and c.resolves == ["national.transfer-norms/min-time-in-post"]]
    assert cf.effective_date == add_years(start, 2)
    assert cf.changes["employee.years_in_position"] == 2.0
    assert cf.changes["as_of"] == add_years(start, 2).isoformat()
    assert add_years(start, 2).isoformat() in cf.description.en and "2 years in the current post" in cf.description.en
    assert add_years(start, 2).isoformat() in cf.description.id
    assert report.counterfactuals[0].kind == "time"


def test_missing_vaccinator_training_is_a_condition_with_an_action(ctx, service):
    # Surplus staff with a health education: the generator builds them around vaccination posts.
    pool = sorted(e.nip for e in ctx.dataset.employees
                  if e.position_id in ctx.surplus and ctx.employee_facts(e.nip).ext.get("health_education"))
    targets = [p for p in sorted(ctx.shortages) if "vaksinasi" in ctx.index.positions[p].programmes]
    reports = [service.query(n, t) for n in pool for t in targets]
    conditional = [r for r in reports if r.passes_rules and r.would_be_conditional]
    assert conditional, "the example holds surplus staff eligible for a vaccination post after training"
    for report in conditional:
        assert VACCINATOR in {c.code for c in report.conditions}
        assert VACCINATOR not in {r.code for r in report.reasons}
        [cf] = [c for c in report.counterfactuals if VACCINATOR in c.resolves]
        assert cf.kind == "action"
        assert "Pelatihan Vaksinator" in cf.changes["candidate.employee.trainings"]
        assert "Pelatihan Vaksinator" in cf.description.en and "Pelatihan Vaksinator" in cf.description.id
        assert cf.still_blocking == []


def test_cpns_is_impossible_within_this_decision(ctx, service, employee_blocks):
    nip = first_with(employee_blocks, "cpns-not-transferred")
    report = service.query(nip, vaccination_target(ctx))
    [cf] = [c for c in report.counterfactuals if "national.transfer-norms/cpns-not-transferred" in c.resolves]
    assert cf.kind == "impossible" and cf.effective_date is None
    assert cf.changes == {"employee.status": "PNS"}
    assert "PNS" in cf.description.en and "outside this decision" in cf.description.en
    assert "di luar keputusan" in cf.description.id


def test_near_retirement_is_impossible(ctx, service, employee_blocks):
    nip = first_with(employee_blocks, "near-retirement")
    report = service.query(nip, vaccination_target(ctx))
    [cf] = [c for c in report.counterfactuals if "national.transfer-norms/near-retirement" in c.resolves]
    assert cf.kind == "impossible"
    assert cf.changes["employee.years_to_retirement"] >= 1
    assert "retirement" in cf.description.en and "pensiun" in cf.description.id
    # No time counterfactual waits for it: the years to retirement only shrink.
    assert not any(c.kind == "time" and "national.transfer-norms/near-retirement" in c.resolves
                   for c in report.counterfactuals)


def test_a_sanction_with_an_end_date_ends_on_a_date(ctx, service, employee_blocks):
    for nip in [n for n, rules in sorted(employee_blocks.items()) if "active-disciplinary-sanction" in rules]:
        end = ctx.employee_facts(nip).sanction_end
        report = service.query(nip, vaccination_target(ctx))
        found = [c for c in report.counterfactuals
                 if "national.transfer-norms/active-disciplinary-sanction" in c.resolves]
        if end is None:
            assert all(c.kind == "impossible" for c in found)
            continue
        [cf] = [c for c in found if c.kind == "time"]
        assert cf.effective_date == end + dt.timedelta(days=1)
        assert cf.changes["employee.under_sanction"] is False
        assert end.isoformat() in cf.description.en


def test_preconditions_are_stated_plainly(ctx, service):
    employee = next(e for e in sorted(ctx.dataset.employees, key=lambda e: e.nip)
                    if e.position_id not in ctx.surplus and e.position_id not in ctx.shortages)
    not_short = next(p for p in sorted(ctx.index.positions) if p not in ctx.shortages and p != employee.position_id)
    report = service.query(employee.nip, not_short)
    codes = {r.code for r in report.reasons if r.kind == "precondition"}
    assert codes == {"target-not-short", "source-no-surplus"}
    assert not report.eligible
    reason = next(r for r in report.reasons if r.code == "target-not-short")
    assert reason.facts_read["position.id"] == not_short and "kekurangan" in reason.message.id

    same = service.query(employee.nip, employee.position_id)
    assert "already-in-position" in {r.code for r in same.reasons}
    assert all(r.scope != "candidate" for r in same.reasons)


def test_unknown_nip_or_position_is_a_clear_error(ctx, service):
    nip = min(ctx.employees)
    with pytest.raises(UnknownSubject, match=r"NIP '000000000000000000' is not in the dataset"):
        service.query("000000000000000000", min(ctx.shortages))
    with pytest.raises(UnknownSubject, match=r"position 'no-such-post' is not in the dataset"):
        service.query(nip, "no-such-post")


def test_facts_helper_gives_the_run_contexts_facts_and_rebuilds_the_same(ctx, service):
    nip = min(e.nip for e in ctx.dataset.employees if e.position_id in ctx.surplus)
    target = vaccination_target(ctx)
    employee, candidate = service.facts(nip, target)
    assert employee == ctx.employee_scope(nip) and candidate == ctx.candidate_scope(nip, target)
    # Rebuilt with the same public builders (the path what-if facts take) they are equal.
    rebuilt = service.facts(nip, target, on=ctx.as_of, record=ctx.employees[nip])
    assert rebuilt == (employee, candidate)


def test_ways_out_follow_de_morgan():
    terms = ways_out(parse('employee.years_in_position < 2 and "X" not in employee.trainings'))
    assert [[lit.text() for lit in t] for t in terms] == [["employee.years_in_position >= 2"],
                                                          ['"X" in employee.trainings']]
    terms = ways_out(parse("employee.under_sanction or not (employee.age >= 50)"))
    assert [[lit.text() for lit in t] for t in terms] == [["not employee.under_sanction", "employee.age >= 50"]]


def test_an_or_rule_needs_both_parts_broken_time_and_action(tmp_path, ctx):
    rules = tmp_path / "local.yaml"
    rules.write_text("""
ruleset:
  id: test.whynot
  version: "1"
  title: {id: Uji, en: Test}
  authority: test
  source: test
  effective_from: 2020-01-01
rules:
  - id: settled-and-rated
    title: {id: Belum mapan, en: Not settled}
    scope: employee
    when: employee.years_in_position < 3 or employee.latest_predikat < "Sangat Baik"
    effect: block
    message: {id: "Belum.", en: "Not yet."}
    legal_basis: test
""", encoding="utf-8")
    options = RecommendOptions(rules=[str(default_rules_dir()), str(rules)], use_plugins=False)
    local = prepare(ctx.dataset, options)
    nip = next(n for n in sorted(local.employees)
               if local.employee_facts(n).years_in_position < 1 and local.employee_facts(n).years_to_retirement > 10
               and local.employee_facts(n).latest_predikat is not None
               and local.employee_facts(n).latest_predikat.value == "Baik")
    with WhyNot(local) as prepared:
        report = prepared.query(nip, vaccination_target(local))
    # The rule's own way out (the other resolves only what the same date resolves as well).
    [cf] = [c for c in report.counterfactuals
            if "test.whynot/settled-and-rated" in c.resolves and "candidate.missing_competencies" not in c.changes]
    assert cf.kind == "action"
    assert cf.effective_date == add_years(local.employees[nip].position_start, 3)
    assert cf.changes["employee.latest_predikat"] == "Sangat Baik"
    assert cf.changes["employee.years_in_position"] == 3.0 and "employee.age" not in cf.changes
    assert "Sangat Baik" in cf.description.en


# --------------------------------------------------------------------------- command line


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["why-not", str(EXAMPLE), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_formats_and_exit_codes(ctx, service, capsys, employee_blocks):
    nip = first_with(employee_blocks, "min-time-in-post", ctx)
    target = vaccination_target(ctx)
    code, out, _ = run_cli(capsys, "--employee", nip, "--position", target, "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data == json.loads(service.query(nip, target).to_json())
    assert data["format"] == "mutasi-rules.why-not/1" and data["eligible"] is False

    text = render_report(service.query(nip, target), "en", "text")
    assert text.startswith("Why not:") and "What would change it" in text
    assert "re-checked through the rule engine" in text
    code, out, _ = run_cli(capsys, "--employee", nip, "--position", target, "--format", "md")
    assert code == 0 and out.startswith("# Mengapa tidak:") and "## Alasan" in out
    assert out == render_report(service.query(nip, target), "id", "md")

    code, _, err = run_cli(capsys, "--employee", "000000000000000000", "--position", target)
    assert code == 1 and "000000000000000000" in err and "not in the dataset" in err
    code, _, err = run_cli(capsys, "--position", target)  # --employee missing: usage error
    assert code == 2 and "--employee" in err
    code, _, err = run_cli(capsys, "--employee", nip, "--position", target, "--plugin-option", "bad")
    assert code == 2 and "NAMA:KUNCI=NILAI" in err


def test_cli_bad_dataset_exits_1(tmp_path, capsys):
    code = main(["why-not", str(tmp_path / "missing"), "--employee", "1", "--position", "x"])
    assert code == 1
    assert "missing" in capsys.readouterr().err


def test_cli_shows_plugin_vetoes(tmp_path, ctx, capsys):
    plugin = tmp_path / "veto_all.py"
    plugin.write_text('''
from mutasi_rules.plugins import hookimpl
from mutasi_rules.plugins.types import Veto
from mutasi_rules.rules.rulesets import Localized

@hookimpl
def mutasi_rules_veto_candidate(candidate, dataset, as_of):
    return Veto(reason=Localized(id="Moratorium mutasi.", en="Transfer moratorium."), legal_basis="SE Sekda 1/2026")
''', encoding="utf-8")
    nip = min(e.nip for e in ctx.dataset.employees if e.position_id in ctx.surplus)
    code, out, _ = run_cli(capsys, "--employee", nip, "--position", vaccination_target(ctx), "--plugin", str(plugin),
                           "--format", "json")
    assert code == 0
    data = json.loads(out)
    [veto] = [r for r in data["reasons"] if r["kind"] == "veto"]
    assert veto["message"]["en"] == "Transfer moratorium." and veto["legal_basis"] == "SE Sekda 1/2026"
    assert veto["code"].startswith("veto:plugin:") and data["passes_rules"] is False
    assert all(veto["code"] in c["still_blocking"] for c in data["counterfactuals"])
