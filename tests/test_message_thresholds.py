"""Explanations never contradict the facts: a value a message shows is on the same side of
every numeric threshold of the rule's condition as the value the rule read.

A person with 1.99 years in post is blocked by ``years_in_position < 2``; a message that
said "2.0 years" would contradict itself. For every bundled rule (national and the example
plugins) with a numeric threshold, and for values drawn around each threshold, the text a
message placeholder renders for the thresholded quantity (a number, or a calendar duration
between the dates the quantity is computed from) is parsed back and compared with the
threshold. Derived quantities are computed by the library's own fact builders.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mutasi_rules.data import facts as F
from mutasi_rules.plugins.manager import PluginManager
from mutasi_rules.rules.rulesets import (
    LoadedRuleSet,
    Placeholder,
    Rule,
    load_rulesets,
    numeric_thresholds,
    parse_template,
    render_message,
)

ROOT = Path(__file__).resolve().parent.parent

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
}


def _bundled_rulesets() -> list[LoadedRuleSet]:
    manager = PluginManager().load()
    national = load_rulesets([ROOT / "rules"], extensions=manager.fact_attributes())
    return [*national, *manager.rulesets(national)]


BUNDLED = _bundled_rulesets()


# A quantity computed from two dates, and how a message shows it as a duration: the date
# placeholder, its spec, its reference, and the unit the threshold is written in.
_DERIVED: dict[str, tuple[str, str, str, str]] = {
    "employee.years_in_position": ("employee.position_start", "since", "as_of", "years"),
    "employee.years_of_service": ("employee.tmt_cpns", "since", "as_of", "years"),
    "employee.years_to_retirement": ("employee.retirement_date", "until", "as_of", "years"),
    "context.months_to_candidate_determination": ("context.candidate_determination", "until", "context.plan_date",
                                                  "months"),
    "context.months_since_inauguration": ("context.inauguration", "since", "context.plan_date", "months"),
}


def _derived(path: str) -> tuple[str, str, str, str] | None:
    if path.startswith("candidate.employee."):
        found = _DERIVED.get(path.removeprefix("candidate."))
        return None if found is None else ("candidate." + found[0], *found[1:])
    return _DERIVED.get(path)


def _displays(template: str, path: str) -> list[tuple[Placeholder, int]]:
    """The placeholders of a template that show the quantity at ``path``, each with the sign
    it shows it with (a duration in the other direction shows the quantity negated)."""
    derived = _derived(path)
    shown = []
    for part in parse_template(template):
        if not isinstance(part, Placeholder):
            continue
        if part.path == path and part.duration is None:
            shown.append((part, 1))
        elif derived and part.path == derived[0] and part.duration and part.duration[1] == derived[2]:
            shown.append((part, 1 if part.duration[0] == derived[1] else -1))
    return shown


CASES = [
    (loaded.id, rule, path, op, limit)
    for loaded in BUNDLED
    for rule in loaded.rules
    if rule.id in loaded.expressions
    for path, op, limit in numeric_thresholds(loaded.expressions[rule.id])
]


def test_the_bundled_rules_with_numeric_thresholds_are_all_covered() -> None:
    keys = {f"{ruleset}/{rule.id}" for ruleset, rule, *_ in CASES}
    assert {
        "national.transfer-norms/min-time-in-post",
        "national.transfer-norms/due-for-rotation",
        "national.transfer-norms/near-retirement",
        "national.transfer-norms/election-window-before-determination",
        "national.transfer-norms/election-window-after-inauguration",
        "national.staffing-norms/position-kekurangan",
        "national.staffing-norms/position-kelebihan",
        "national.staffing-norms/unit-kekurangan-unstaffed",
    } <= keys
    for ruleset, rule, path, _, _ in CASES:
        for template in (rule.message.id, rule.message.en):
            for part in parse_template(template):
                if isinstance(part, Placeholder) and part.path == path and part.duration is None:
                    continue
                # A duration of a thresholded derived quantity must count from the reference
                # the quantity is computed from.
                derived = _derived(path)
                if isinstance(part, Placeholder) and part.duration and derived and part.path == derived[0]:
                    assert part.duration[1] == derived[2], (ruleset, rule.id, part)


# --------------------------------------------------------------------------- parsing shown values

_DURATION_PART = re.compile(r"(\d+) (tahun|bulan|hari|years?|months?|days?)")


def _shown_number(text: str, lang: str) -> float:
    if lang == "id":
        text = text.replace(".", "").replace(",", ".")
    else:
        text = text.replace(",", "")
    return float(text[:-1]) / 100 if text.endswith("%") else float(text)


def _shown_duration(text: str, unit: str) -> float:
    """A rendered duration in the threshold's unit, days as a fraction below one month
    (d/32 < 1 keeps the order of (months, days) pairs)."""
    sign = -1 if text.startswith("-") else 1
    years = months = days = 0
    for number, word in _DURATION_PART.findall(text):
        if word.startswith(("tahun", "year")):
            years = int(number)
        elif word.startswith(("bulan", "month")):
            months = int(number)
        else:
            days = int(number)
    total_months = years * 12 + months + days / 32
    return sign * (total_months / 12 if unit == "years" else total_months)


# --------------------------------------------------------------------------- values around thresholds


def _number_near(limit: float) -> st.SearchStrategy[float]:
    offsets = st.sampled_from([0, 1e-9, -1e-9, 1e-6, -1e-6, 0.0004, -0.0004, 0.004, -0.004, 0.006, -0.006,
                               0.04, -0.04, 0.05, -0.05, 0.06, -0.06])
    return st.one_of(offsets.map(lambda d: round(limit + d, 9)),
                     st.floats(limit - 1, limit + 1, allow_nan=False, allow_infinity=False))


def _date_values(path: str, limit: float, data: st.DataObject) -> tuple[float, dict[str, Any]]:
    """A consistent (quantity, fact values) pair near the threshold, built by the fact builders."""
    date_path, _, ref_path, unit = _derived(path)  # type: ignore[misc]
    months = round(limit * 12) if unit == "years" else round(limit)
    anchor = data.draw(st.dates(dt.date(1990, 1, 1), dt.date(2040, 12, 31)), label="anchor")
    jitter = data.draw(st.integers(-40, 40), label="days from the threshold date")
    rel = path.removeprefix("candidate.")
    if rel == "employee.years_to_retirement":
        # Retirement is the first of a month (the month after BUP is reached).
        bup = data.draw(st.sampled_from([58, 60, 65]), label="bup")
        retirement = F.add_months(F.add_years(anchor, bup).replace(day=1), 1)
        as_of = F.add_months(retirement, -months) + dt.timedelta(days=jitter)
        return F.elapsed_years(as_of, retirement), {date_path: retirement, ref_path: as_of}
    if rel in ("employee.years_in_position", "employee.years_of_service"):
        as_of = F.add_months(anchor, months) + dt.timedelta(days=jitter)
        return F.elapsed_years(anchor, as_of), {date_path: anchor, ref_path: as_of}
    plan = F.add_months(anchor, months if rel == "context.months_since_inauguration" else -months)
    plan += dt.timedelta(days=jitter)
    election = SimpleNamespace(
        candidate_determination=anchor if rel == "context.months_to_candidate_determination" else None,
        inauguration=anchor if rel == "context.months_since_inauguration" else None,
    )
    context = F.context_facts(plan, SimpleNamespace(metadata=SimpleNamespace(election=election)), plan)  # type: ignore[arg-type]
    value = getattr(context, rel.removeprefix("context."))
    return value, {date_path: anchor, ref_path: plan}


@pytest.mark.parametrize(
    ("ruleset", "rule", "path", "op", "limit"), CASES,
    ids=[f"{r}/{rule.id}:{p}{op}{limit:g}" for r, rule, p, op, limit in CASES],
)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_shown_value_is_on_the_same_side_of_the_threshold(
    ruleset: str, rule: Rule, path: str, op: str, limit: float, data: st.DataObject
) -> None:
    derived = _derived(path)
    if derived is None:
        value = data.draw(_number_near(limit), label=path)
        values: dict[str, Any] = {path: value}
    else:
        value, values = _date_values(path, limit, data)
    if not _OPS[op](value, limit):
        return  # the rule does not fire through this comparison
    for lang in ("id", "en"):
        for part, sign in _displays(rule.message.get(lang), path):
            text = render_message(rule.message.get(lang)[part.start:part.end], values, lang)
            shown = _shown_number(text, lang) if derived is None or part.duration is None \
                else sign * _shown_duration(text, derived[3])
            assert _OPS[op](shown, limit), (
                f"{ruleset}/{rule.id} ({lang}): {path}={value!r} satisfies {op} {limit:g}, "
                f"but the message shows {text!r}")


def test_the_issue_example_reads_as_hr_documents_write_it() -> None:
    rule = next(r for loaded in BUNDLED for r in loaded.rules if r.id == "min-time-in-post")
    values = {"employee.position_start": dt.date(2024, 7, 4), "as_of": dt.date(2026, 7, 1),
              "employee.position_name": "Pengadministrasi Umum"}
    assert F.elapsed_years(dt.date(2024, 7, 4), dt.date(2026, 7, 1)) < 2
    assert render_message(rule.message.id, values, "id").startswith("Baru 1 tahun 11 bulan 27 hari di jabatan")
    assert render_message(rule.message.en, values, "en").startswith("Only 1 year 11 months 27 days in the current")
