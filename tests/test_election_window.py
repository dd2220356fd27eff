"""The regional-election window (UU 10/2016 art. 71(2) and (4), art. 162(3)), edge by edge.

Dates go through the library's own fact builder (``facts.context_facts``) and the bundled
national rule set on durable_rules, so the edges tested are the ones a user gets. The
determination on 8 July 2020 is the one Bawaslu Sukoharjo counted back from: replacing
officials needed the Minister's approval from 8 January 2020.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from engine_support import employee

from mutasi_rules.data import facts as F
from mutasi_rules.rules.engine import RuleEngine
from mutasi_rules.rules.rulesets import load_rulesets

ROOT = Path(__file__).resolve().parent.parent
D = dt.date
DETERMINATION = D(2020, 7, 8)
INAUGURATION = D(2021, 2, 26)
WINDOW_RULES = {
    "election-window-before-determination",
    "election-window-until-inauguration",
    "election-window-end-unknown",
    "election-window-after-inauguration",
}


@pytest.fixture(scope="module")
def engine() -> Iterator[RuleEngine]:
    rulesets = [r for r in load_rulesets([ROOT / "rules" / "national"]) if r.id == "national.transfer-norms"]
    with RuleEngine(rulesets, D(2020, 1, 1)) as built:
        yield built


def _window(engine: RuleEngine, plan: dt.date, determination: dt.date | None,
            inauguration: dt.date | None) -> dict[str, str]:
    election = SimpleNamespace(candidate_determination=determination, inauguration=inauguration)
    context = F.context_facts(plan, SimpleNamespace(metadata=SimpleNamespace(election=election)), plan)  # type: ignore[arg-type]
    fact = F.EmployeeScope(as_of=plan, context=context, employee=employee(latest_predikat="Baik"))
    (findings,) = engine.evaluate("employee", [fact], ["198001012005011001"])
    return {f.rule_id: f.message.id for f in findings if f.rule_id in WINDOW_RULES}


EDGES = [
    # plan date, inauguration recorded, the window rule that fires (None: no restriction)
    (D(2020, 1, 7), INAUGURATION, None),                                     # a day before 6 months
    (D(2020, 1, 8), INAUGURATION, "election-window-before-determination"),   # exactly 6 months before
    (D(2020, 7, 7), INAUGURATION, "election-window-before-determination"),   # the day before
    (D(2020, 7, 8), INAUGURATION, "election-window-until-inauguration"),     # the determination itself
    (D(2021, 2, 25), INAUGURATION, "election-window-until-inauguration"),    # the day before inauguration
    (D(2021, 2, 26), INAUGURATION, "election-window-after-inauguration"),    # inauguration day
    (D(2021, 8, 26), INAUGURATION, "election-window-after-inauguration"),    # exactly 6 months after
    (D(2021, 8, 27), INAUGURATION, None),                                    # a day later
    (D(2020, 7, 8), None, "election-window-end-unknown"),                    # no inauguration recorded
    (D(2024, 7, 1), None, "election-window-end-unknown"),                    # ... stays in force
    (D(2021, 3, 1), D(2016, 2, 17), "election-window-end-unknown"),          # only a past inauguration
]


@pytest.mark.parametrize(("plan", "inauguration", "expected"), EDGES, ids=[str(e[0]) + ("" if e[1] else " no-inaug")
                                                                          for e in EDGES])
def test_every_window_edge(engine: RuleEngine, plan: dt.date, inauguration: dt.date | None,
                           expected: str | None) -> None:
    fired = _window(engine, plan, DETERMINATION, inauguration)
    assert set(fired) == ({expected} if expected else set()), fired


def test_month_ends_count_back_from_the_determination(engine: RuleEngine) -> None:
    # 6 months before 31 August is 28 February (the month has no 31st); the window opens then.
    assert set(_window(engine, D(2025, 2, 28), D(2025, 8, 31), None)) == {"election-window-before-determination"}
    assert not _window(engine, D(2025, 2, 27), D(2025, 8, 31), None)


def test_no_election_scheduled_no_warning(engine: RuleEngine) -> None:
    assert not _window(engine, D(2024, 7, 1), None, None)
    assert set(_window(engine, D(2024, 7, 1), None, D(2024, 3, 1))) == {"election-window-after-inauguration"}


def test_the_messages_say_how_long_and_until_what(engine: RuleEngine) -> None:
    before = _window(engine, D(2020, 1, 8), DETERMINATION, INAUGURATION)["election-window-before-determination"]
    assert "jatuh 6 bulan sebelum penetapan pasangan calon kepala daerah (2020-07-08)" in before
    unknown = _window(engine, D(2020, 9, 1), DETERMINATION, None)["election-window-end-unknown"]
    assert "belum tercatat (pelantikan tercatat: -)" in unknown and "dianggap masih berlaku" in unknown
    until = _window(engine, D(2021, 1, 26), DETERMINATION, INAUGURATION)["election-window-until-inauguration"]
    assert "1 bulan sebelum pelantikan kepala daerah terpilih (2021-02-26)" in until
    after = _window(engine, D(2021, 8, 26), DETERMINATION, INAUGURATION)["election-window-after-inauguration"]
    assert "jatuh 6 bulan setelah pelantikan" in after
