"""Review decisions on a recorded run: reading a decisions file, checking it, and the lineage of a plan.

A review is checked whole before anything is recorded (:func:`check_decisions`): an
unknown NIP or position, a pin on a pair that a rule which allows no override blocks (or
that an agency plugin vetoes), or a decision that contradicts another one in the lineage
is refused, each with the reason and the rule. A pin on a pair blocked only by
``overridable`` rules is accepted: it is a recorded human override, and the re-planned
move names the reviewer, the reason and every rule overridden (``Move.review``).

The *lineage* of a run is the run and its ancestors (``run.parent_run_id``); a re-plan
honours every decision recorded on any run of its lineage.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError

from mutasi_rules.data.decisions import AppliedDecision, DecisionsFile, ReviewDecision
from mutasi_rules.planning.recommendation import RunContext, pair_subject, rule_overridable
from mutasi_rules.problems import InputError, Problem, Problems
from mutasi_rules.rules.engine import Finding, RuleEngine
from mutasi_rules.rules.rulesets import EFFECTS, _compose, _pydantic_problems, _Source

MAX_DECISIONS_FILE_BYTES = 5_000_000


def parse_decisions(text: str, origin: str) -> list[ReviewDecision]:
    """The decisions of a YAML or JSON text; :class:`InputError` with every problem (line:column) otherwise.

    YAML is read with the safe loader only (JSON is YAML, so both go the same way and both
    get positions).
    """
    problems = Problems()
    source = _Source(text, origin)
    data = _compose(text, source, problems)
    if not problems and data is not None:
        try:
            return DecisionsFile.model_validate(data).root
        except ValidationError as exc:
            _pydantic_problems(exc, source, problems)
    problems = Problems(_as_decision_problem(p) for p in problems)
    if not problems:
        problems.error("decisions.empty", "the file is empty", file=origin)
    raise InputError(f"decisions file {origin}", list(problems))


def _as_decision_problem(problem: Problem) -> Problem:
    code = problem.code.replace("rulefile.", "decisions.", 1)
    message = problem.message.replace("in a rule file (rule files are plain data)", "in a decisions file")
    return problem.model_copy(update={"code": code, "message": message})


def read_decisions(path: str | os.PathLike[str]) -> list[ReviewDecision]:
    """Read a decisions file (YAML or JSON list of decisions); :class:`InputError` names every problem."""
    origin = os.fspath(path)
    try:
        if Path(path).stat().st_size > MAX_DECISIONS_FILE_BYTES:
            raise InputError(f"decisions file {origin}", [Problem(
                code="decisions.too_large", message=f"larger than {MAX_DECISIONS_FILE_BYTES} bytes", file=origin)])
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"decisions file {origin}", [Problem(code="decisions.unreadable", message=str(exc),
                                                              file=origin)]) from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"decisions file {origin}", [Problem(code="decisions.encoding",
                                                              message=f"not UTF-8 text: {exc}", file=origin)]) from exc
    return parse_decisions(text, origin)


def check_decisions(ctx: RunContext, decisions: Sequence[ReviewDecision],
                    lineage: Sequence[AppliedDecision] = (), *, origin: str | None = None) -> Problems:
    """Every reason ``decisions`` cannot be recorded on a run prepared as ``ctx`` (empty: all good).

    ``lineage``: the decisions already recorded in the run's lineage (a new decision must not
    contradict them). Each problem names the decision (``record``: ``decision <n>``), the field,
    the value, and for a blocked pin every rule that blocks it.
    """
    problems = Problems()
    employees, positions = ctx.employees, ctx.index.positions

    def refuse(n: int, code: str, message: str, field: str | None = None, value: object = None) -> None:
        problems.error(f"decision.{code}", message, file=origin, record=f"decision {n}", field=field, value=value)

    unknown: set[int] = set()
    for n, d in enumerate(decisions, start=1):
        if d.nip is not None and d.nip not in employees:
            refuse(n, "unknown_nip", f"no employee with NIP {d.nip} in the run's dataset", "nip", d.nip)
            unknown.add(n)
        if d.position is not None and d.position not in positions:
            refuse(n, "unknown_position", f"no position {d.position!r} in the run's dataset", "position", d.position)
            unknown.add(n)
    earlier: list[tuple[str, ReviewDecision]] = [(d.id, d) for d in lineage]
    for n, d in enumerate(decisions, start=1):
        for name, other in earlier:
            conflict = _conflict(d, other)
            if conflict:
                refuse(n, "conflict", f"{d.describe()} contradicts {name} ({other.describe()}, {other.reviewer}, "
                                      f"{other.date.isoformat()}): {conflict}", "action", d.action)
        earlier.append((f"decision {n} of this review", d))
    pins = [(n, d) for n, d in enumerate(decisions, start=1) if d.action == "pin" and n not in unknown]
    if pins:
        with ctx.engine() as engine:
            for n, d in pins:
                _check_pin(ctx, engine, n, d, refuse)
    return problems


def _conflict(new: ReviewDecision, old: ReviewDecision) -> str:
    """Why two decisions cannot both hold ('' when they can)."""
    if new.model_dump(exclude={"id", "run_id"}) == old.model_dump(exclude={"id", "run_id"}):
        return "the same decision is already recorded"
    actions = {new.action, old.action}
    if "pin" not in actions:
        return ""
    pin, other = (new, old) if new.action == "pin" else (old, new)
    if other.action == "pin":
        if pin.nip == other.nip and pin.position != other.position:
            return "a person can be pinned to one position only"
        return ""
    if other.action == "reject" and pin.pair == other.pair:
        return "the same move cannot be both pinned and rejected"
    if other.action == "exclude_employee" and pin.nip == other.nip:
        return "a pinned person cannot be excluded from moving"
    if other.action == "hold_position" and pin.position == other.position:
        return "a held position receives nobody, so nobody can be pinned to it"
    return ""


def _check_pin(ctx: RunContext, engine: RuleEngine, n: int, d: ReviewDecision,
               refuse: Callable[[int, str, str, str | None, object], None]) -> None:
    nip, target = d.move
    if ctx.employees[nip].position_id == target:
        refuse(n, "pin_own_position", f"{nip} already holds {target}", "position", target)
        return
    person = engine.evaluate("employee", [ctx.employee_scope(nip)], [nip])[0]
    fact = ctx.candidate_scope(nip, target)
    pair = engine.evaluate("candidate", [fact], [pair_subject(nip, target)])[0]
    blocking: list[Finding] = [f for f in [*person, *pair] if EFFECTS[f.effect].blocks]
    hard = [f for f in blocking if not rule_overridable(ctx.rulesets, f)]
    if hard:
        rules = "; ".join(f"{f.rule_key} ({f.legal_basis}): {f.message.en}" for f in hard)
        refuse(n, "pin_blocked", f"pin {nip} -> {target} is blocked by rule(s) that allow no override: {rules}",
               "action", d.action)
    if ctx.plugins is not None:
        vetoes = ctx.plugins.veto_candidate(fact.candidate, ctx.dataset, ctx.as_of)
        if vetoes:
            said = "; ".join(f"{v.source}: {v.reason.en}" for v in vetoes)
            refuse(n, "pin_vetoed", f"pin {nip} -> {target} is vetoed by agency plugin(s), which cannot be "
                                    f"overridden: {said}", "action", d.action)


def decisions_json(decisions: Sequence[ReviewDecision]) -> str:
    """A decisions list as JSON (what ``--decisions`` reads back)."""
    return json.dumps([d.model_dump(mode="json", exclude_none=True) for d in decisions], indent=2,
                      ensure_ascii=False)


__all__ = ["check_decisions", "decisions_json", "parse_decisions", "read_decisions"]
