"""Each measured failure mode of durable_rules 2.0.28 (DURABLE_RULES_NOTES.md), pinned as handled.

Anything that could crash or hang the interpreter runs in a child process with a timeout
and a memory cap, so a segfault or a runaway loop fails the test instead of killing pytest.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from engine_support import AS_OF, employee_scope, rule, ruleset

from mutasi_rules.data import facts as F
from mutasi_rules.rules.engine import MAX_MESSAGE_PROPERTIES, EngineError, RuleEngine

ROOT = Path(__file__).resolve().parent.parent
MEMORY_CAP = 1536 * 1024 * 1024

PRELUDE = """
import sys
from engine_support import AS_OF, employee_scope, rule, ruleset
from mutasi_rules import facts as F
from mutasi_rules.rules.engine import RuleEngine
"""


def run_isolated(body: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a fresh interpreter capped at MEMORY_CAP bytes of address space."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT), env.get("PYTHONPATH", "")])
    code = PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
        check=False,
    )


def assert_clean(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 0, f"child exited with {result.returncode}\n{result.stderr[-3000:]}"
    assert result.stdout.strip().splitlines()[-1] == expected, result.stdout


# --------------------------------------------------------------------------- 1, 2: unhandled messages


def test_a_fact_no_rule_matches_never_raises() -> None:
    loaded = [ruleset("n", [rule("never", "employee.age > 200"), rule("p", "position.kelas > 100", "position")])]
    with RuleEngine(loaded, AS_OF, batch_size=3) as engine:
        assert engine.evaluate("employee", [employee_scope() for _ in range(10)], [str(i) for i in range(10)]) == [
            []
        ] * 10


def test_durable_itself_still_raises_on_an_unhandled_message() -> None:
    """Why the catch-all exists: without it durable raises MessageNotHandledException."""
    result = run_isolated(
        """
        from durable import engine as de
        host = de.Host()
        host.register_rulesets({"probe": {"r": {"all": [{"m": {"$and": [{"t": "x"}, {"a": 1}]}}],
                                                "run": lambda c: None}}})
        try:
            host.assert_facts("probe", [{"t": "x", "a": 2, "id": 1, "sid": "s"}])
            print("handled")
        except de.MessageNotHandledException:
            print("raised")
        """
    )
    assert_clean(result, "raised")


def test_deleting_state_after_every_batch_does_not_crash() -> None:
    result = run_isolated(
        """
        loaded = [ruleset("n", [rule("old", "employee.age > 50"), rule("never", "employee.age > 200")])]
        facts = [employee_scope(age=30 + i % 40) for i in range(300)]
        with RuleEngine(loaded, AS_OF, batch_size=7) as engine:
            counts = [sum(map(len, engine.evaluate("employee", facts, [str(i) for i in range(300)]))) for _ in range(3)]
        expected = sum(1 for f in facts if f.employee.age > 50)
        print("ok" if counts == [expected] * 3 else f"bad {counts} {expected}")
        """
    )
    assert_clean(result, "ok")


# --------------------------------------------------------------------------- 3: 1,024 sessions


def test_more_than_1024_batches_and_calls_in_one_engine() -> None:
    result = run_isolated(
        """
        loaded = [ruleset("n", [rule("old", "employee.age > 50")])]
        facts = [employee_scope(age=40 + i % 20) for i in range(1100)]
        with RuleEngine(loaded, AS_OF, batch_size=1) as engine:
            results = engine.evaluate("employee", facts, [str(i) for i in range(1100)])  # 1,100 sessions
            again = [engine.evaluate("employee", [facts[i]], [str(i)])[0] for i in range(1100)]  # 1,100 more
        fired = [bool(r) for r in results]
        ok = fired == [f.employee.age > 50 for f in facts] and [bool(r) for r in again] == fired
        print("ok" if ok else "bad")
        """,
        timeout=120,
    )
    assert_clean(result, "ok")


# --------------------------------------------------------------------------- 4: state messages


def test_rules_a_state_message_could_satisfy_do_not_loop() -> None:
    """``$nex`` alone matches durable's ``$s`` state message; the scope guard must keep it out."""
    result = run_isolated(
        """
        loaded = [ruleset("n", [
            rule("no-rank", "not exists(employee.rank)"),
            rule("no-predikat-or-old", "not exists(employee.latest_predikat) or employee.age > 1000"),
            rule("trained", '"Vaksinator" in employee.trainings'),
            rule("untrained", '"Vaksinator" not in employee.trainings'),
            rule("some-training", "not empty(employee.trainings)"),
        ])]
        facts = [employee_scope(rank=None if i % 2 else "III/a", latest_predikat=None,
                                trainings=["Vaksinator"] if i % 3 == 0 else []) for i in range(300)]
        with RuleEngine(loaded, AS_OF, batch_size=100) as engine:
            results = engine.evaluate("employee", facts, [str(i) for i in range(300)])
        counts = {}
        for findings in results:
            for f in findings:
                counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
        expected = {"no-rank": 150, "no-predikat-or-old": 300, "trained": 100, "untrained": 200, "some-training": 100}
        print("ok" if counts == expected else f"bad {counts}")
        """,
        timeout=60,
    )
    assert_clean(result, "ok")


# --------------------------------------------------------------------------- 5: facts, not events


def test_every_matching_rule_fires_for_a_fact_and_identical_facts_all_count() -> None:
    rules = [rule(f"r{i}", f"employee.age > {i}") for i in range(5)]
    with RuleEngine([ruleset("f", rules)], AS_OF) as engine:
        results = engine.evaluate("employee", [employee_scope()] * 3, ["a", "b", "c"])
    assert [[f.rule_id for f in fs] for fs in results] == [[f"r{i}" for i in range(5)]] * 3
    assert [fs[0].subject for fs in results] == ["a", "b", "c"]


# --------------------------------------------------------------------------- 6: 255 properties


def _wide_extensions(count: int) -> list[F.ExtensionAttribute]:
    return [F.ExtensionAttribute(entity="employee", name=f"a{i}", type=F.FieldType.NUMBER) for i in range(count)]


def test_a_wide_schema_evaluates_because_only_read_paths_are_sent() -> None:
    result = run_isolated(
        """
        exts = [F.ExtensionAttribute(entity="employee", name=f"a{i}", type=F.FieldType.NUMBER) for i in range(400)]
        loaded = [ruleset("w", [rule("r", "employee.ext.a7 > 1 and employee.age > 1")])]
        base = employee_scope()
        wide = base.employee.model_copy(update={"ext": {f"a{i}": i for i in range(400)}})
        fact = base.model_copy(update={"employee": wide})
        assert len(F.fact_schema("employee", exts).fields) > 400
        with RuleEngine(loaded, AS_OF, extensions=exts) as engine:
            [[finding]] = engine.evaluate("employee", [fact], ["x"])
        print("ok" if finding.facts_read == {"employee.age": 44, "employee.ext.a7": 7} else "bad")
        """
    )
    assert_clean(result, "ok")


def test_reading_up_to_the_property_budget_works() -> None:
    # employee, employee.ext and t/id/sid take 5 of the budget.
    width = MAX_MESSAGE_PROPERTIES - 5
    result = run_isolated(
        f"""
        width = {width}
        exts = [F.ExtensionAttribute(entity="employee", name=f"a{{i}}", type=F.FieldType.NUMBER) for i in range(width)]
        loaded = [ruleset("w", [rule(f"r{{i}}", f"employee.ext.a{{i}} > 0") for i in range(width)])]
        base = employee_scope()
        wide = base.employee.model_copy(update={{"ext": {{f"a{{i}}": 1 for i in range(width)}}}})
        fact = base.model_copy(update={{"employee": wide}})
        with RuleEngine(loaded, AS_OF, extensions=exts) as engine:
            [findings] = engine.evaluate("employee", [fact], ["x"])
        print("ok" if len(findings) == width else f"bad {{len(findings)}}")
        """
    )
    assert_clean(result, "ok")


def test_reading_more_paths_than_durable_accepts_is_a_clear_error() -> None:
    width = MAX_MESSAGE_PROPERTIES
    exts = _wide_extensions(width)
    loaded = [ruleset("w", [rule(f"r{i}", f"employee.ext.a{i} > 0") for i in range(width)])]
    with pytest.raises(EngineError, match=r"scope employee: the rules read 250 fact paths.*at most 250"):
        RuleEngine(loaded, AS_OF, extensions=exts)


# --------------------------------------------------------------------------- the 64-node evaluation stack


def test_many_rules_whose_first_conditions_hold_do_not_overflow_durables_stack() -> None:
    """More than 64 passing sibling conditions fail a batch with error 303 (measured).

    300 rules: all start with a condition that holds, half end with one that does not; some
    have or-branches that all hold. The rules are arranged behind group guards.
    """
    result = run_isolated(
        """
        from mutasi_rules.rules.engine import compile_ruleset_json
        rules = []
        for i in range(300):
            tail = "employee.kelas > 0" if i % 2 else "employee.kelas > 100"
            head = f"employee.years_of_service > {i / 1000}"
            if i % 10 == 0:
                head += f" or employee.positions_held > {i / 1000}"
            rules.append(rule(f"r{i:03d}", f"({head}) and employee.age > {i % 40} and {tail}"))
        loaded = [ruleset("wide", rules)]
        rules_json = compile_ruleset_json(loaded, "employee", AS_OF)["mutasi-rules.employee"]
        assert {"$neq": {"t": "~0"}} in rules_json["wide/r000"]["all"][0]["m"]["$and"]
        facts = [employee_scope(age=44, kelas=6, positions_held=2, years_of_service=19.5) for _ in range(5)]
        with RuleEngine(loaded, AS_OF, batch_size=5) as engine:
            results = engine.evaluate("employee", facts, [str(i) for i in range(5)])
        expected = [f"r{i:03d}" for i in range(300) if i % 2]
        print("ok" if all([f.rule_id for f in fs] == expected for fs in results) else "bad")
        """
    )
    assert_clean(result, "ok")


def test_rules_with_too_many_or_alternatives_are_refused() -> None:
    from mutasi_rules.rules.engine import compile_problem
    from mutasi_rules.rules.language.parser import parse

    when = " and ".join(f"(employee.age > {i} or employee.kelas > {i})" for i in range(5))  # 2**5 branches
    problem = compile_problem(parse(when))
    assert problem is not None and "32 or-alternatives" in problem
    with pytest.raises(EngineError, match="32 or-alternatives"):
        RuleEngine([ruleset("x", [rule("r", when)])], AS_OF)
    # Equality tests of one path against several values are exclusive: they count once.
    assert compile_problem(parse(" and ".join('employee.rank in ["I/a", "I/b", "I/c", "I/d"]'
                                              for _ in range(4)))) is None


# --------------------------------------------------------------------------- 7: hosts and threads


def test_engines_start_no_dispatch_threads_and_use_unique_ruleset_names() -> None:
    loaded = [ruleset("n", [rule("old", "employee.age > 40")])]
    before = threading.active_count()
    engines = [RuleEngine(loaded, AS_OF) for _ in range(20)]
    assert threading.active_count() == before
    for engine in engines:
        assert [[f.rule_id for f in fs] for fs in engine.evaluate("employee", [employee_scope()], ["x"])] == [["old"]]
        engine.close()


def test_evaluation_from_several_threads_is_serialised_and_complete() -> None:
    loaded = [ruleset("n", [rule("old", "employee.age > 50"), rule("young", "employee.age < 30")])]
    facts = [employee_scope(age=20 + i % 50) for i in range(200)]
    expected = [["old"] if f.employee.age > 50 else ["young"] if f.employee.age < 30 else [] for f in facts]
    outcomes: list[bool] = []
    with RuleEngine(loaded, AS_OF, batch_size=16) as engine:

        def work() -> None:
            results = engine.evaluate("employee", facts, [str(i) for i in range(200)])
            outcomes.append([[f.rule_id for f in fs] for fs in results] == expected)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert outcomes == [True] * 4
