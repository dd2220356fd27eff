"""Hostile rule files and plugins: absurd score points, coefficients that overflow, plugins that
exit, hang or return nonsense, misspelt plugin names. Each is a clear, named failure."""

from __future__ import annotations

import textwrap
import threading
import time
from pathlib import Path

import pytest

from mutasi_rules.audit.log import AuditLog
from mutasi_rules.cli import main
from mutasi_rules.plugins import PluginError, PluginNameError, PluginSettings, ScoreComponent, TrainingOffer
from mutasi_rules.plugins.manager import PluginManager, load_plugins
from mutasi_rules.rules.rulesets import collect_rulesets

SMALL = Path(__file__).resolve().parents[1] / "data" / "good" / "small.yaml"

RULE_FILE = """\
ruleset:
  id: test.hostile
  version: "1"
  title: {{id: Uji, en: Test}}
  authority: Uji
  source: Uji
  applies_to: {{units: [], position_kinds: []}}
  effective_from: 2020-01-01
rules:
  - id: r1
    title: {{id: Uji, en: Test}}
    scope: candidate
    when: "{when}"
    effect: score
    component: kesiapan
    points: {points}
    message: {{id: "x", en: "x"}}
    legal_basis: Uji
"""


def _rules(tmp: Path, when: str = "candidate.employee.age > 1", points: str = "5") -> Path:
    folder = tmp / "rules"
    folder.mkdir(exist_ok=True)
    (folder / "r.yaml").write_text(RULE_FILE.format(when=when, points=points), encoding="utf-8")
    return folder


@pytest.mark.parametrize("points", [".nan", ".inf", "-.inf", "1e308", "-20000"])
def test_absurd_score_points_are_refused_at_load(tmp_path, points, capsys):
    folder = _rules(tmp_path, points=points)
    loaded, problems = collect_rulesets([folder])
    assert not loaded
    (problem,) = problems.errors
    assert problem.field == "rules[0].points" and problem.line == 16 and problem.file.endswith("r.yaml")
    assert main(["rules", "check", str(folder)]) == 1
    assert "r.yaml:16" in capsys.readouterr().out


def test_plausible_score_points_load(tmp_path):
    loaded, problems = collect_rulesets([_rules(tmp_path, points="-250.5")])
    assert loaded and not problems.errors


def test_a_subnormal_coefficient_is_refused_at_load_not_an_overflow(tmp_path, capsys):
    folder = _rules(tmp_path, when="candidate.employee.age * 1e-320 > 1")
    loaded, problems = collect_rulesets([folder])
    assert not loaded
    assert "too large for the rule engine" in problems.errors[0].message
    assert problems.errors[0].line == 13
    assert main(["rules", "check", str(folder)]) == 1


def test_an_empty_rules_folder_is_an_error(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["rules", "check", str(empty)]) == 1
    assert "tidak berisi berkas aturan" in capsys.readouterr().out  # in Bahasa Indonesia by default
    db = tmp_path / "log.sqlite"
    assert main(["recommend", str(SMALL), "--no-plugins", "--rules", str(empty), "--audit-db", str(db)]) == 1
    assert "tidak berisi berkas aturan" in capsys.readouterr().err
    assert not db.exists()  # nothing recorded


# --------------------------------------------------------------------------- plugins


def _manager(plugin: object, name: str = "hostile", **settings: object) -> PluginManager:
    manager = PluginManager(PluginSettings(entry_points=False, **settings), environ={})
    manager.register(plugin, name)
    return manager


@pytest.mark.parametrize("points", [float("nan"), float("inf"), 1e308])
def test_absurd_points_from_a_plugin_are_a_plugin_failure(points):
    class Scorer:
        def mutasi_rules_score_candidate(self, candidate, dataset, as_of):
            return [ScoreComponent.model_construct(name="bonus", points=points, reason={"id": "x", "en": "x"})]

    with pytest.raises(PluginError) as caught:
        _manager(Scorer()).score_candidate(None, None, None)
    assert caught.value.plugin == "hostile" and caught.value.hook == "mutasi_rules_score_candidate"
    assert "points" in str(caught.value)


@pytest.mark.parametrize("exit_with", [SystemExit(0), SystemExit("bye"), GeneratorExit()])
def test_a_plugin_that_exits_is_a_plugin_failure(exit_with):
    class Quitter:
        def mutasi_rules_training_catalogue(self):
            raise exit_with

    with pytest.raises(PluginError, match=f"hook mutasi_rules_training_catalogue: raised {type(exit_with).__name__}"):
        _manager(Quitter()).training_catalogue()


def test_a_hook_that_hangs_is_stopped_by_the_time_limit():
    class Sleeper:
        def mutasi_rules_training_catalogue(self):
            time.sleep(60)

    manager = _manager(Sleeper())
    manager.hook_seconds = 0.3
    started = time.perf_counter()
    with pytest.raises(PluginError, match=r"hostile.*mutasi_rules_training_catalogue.*time limit of 0.3 s"):
        manager.training_catalogue()
    assert time.perf_counter() - started < 5


def test_a_hook_that_catches_exception_cannot_swallow_the_time_limit():
    class Stubborn:
        def mutasi_rules_training_catalogue(self):
            while True:
                try:  # noqa: SIM105 - written as a careless plugin would
                    time.sleep(60)
                except Exception:  # noqa: BLE001 - what a careless plugin does
                    pass

    manager = _manager(Stubborn())
    manager.hook_seconds = 0.3
    with pytest.raises(PluginError, match="time limit"):
        manager.training_catalogue()


def test_the_time_limit_comes_from_the_environment():
    manager = PluginManager(PluginSettings(entry_points=False), environ={"MUTASI_RULES_LIMIT_PLUGIN_HOOK_SECONDS": "7"})
    assert manager.hook_seconds == 7


def test_cli_a_plugin_calling_sys_exit_fails_the_run_and_records_nothing(tmp_path, capsys):
    plugin = tmp_path / "quitter.py"
    plugin.write_text(textwrap.dedent("""\
        import sys

        def mutasi_rules_training_catalogue():
            sys.exit(0)
    """), encoding="utf-8")
    db = tmp_path / "log.sqlite"
    code = main(["recommend", str(SMALL), "--plugin", str(plugin), "--audit-db", str(db)])
    captured = capsys.readouterr()
    assert code == 3 and captured.out == ""
    assert "quitter" in captured.err and "mutasi_rules_training_catalogue" in captured.err
    assert "SystemExit" in captured.err
    if db.exists():
        with AuditLog(db, create=False) as log:
            assert len(log) == 0


@pytest.mark.parametrize("flag", ["--disable-plugin", "--only-plugin"])
def test_cli_misspelt_plugin_names_are_usage_errors(tmp_path, capsys, flag):
    name = load_plugins(PluginSettings(), environ={}).list_plugins()[0].name
    misspelt = name[:-1] + "x"
    code = main(["recommend", str(SMALL), flag, misspelt, "--no-audit"])
    err = capsys.readouterr().err
    assert code == 2 and repr(misspelt) in err and f"did you mean {name!r}" in err


def test_cli_misspelt_plugin_option_and_environment_names_are_usage_errors(capsys, monkeypatch):
    assert main(["recommend", str(SMALL), "--plugin-option", "no-such-plugin:k=1", "--no-audit"]) == 2
    assert "plugin options" in capsys.readouterr().err
    monkeypatch.setenv("MUTASI_RULES_DISABLE_PLUGINS", "no-such-plugin")
    assert main(["recommend", str(SMALL), "--no-audit"]) == 2
    assert "MUTASI_RULES_DISABLE_PLUGINS" in capsys.readouterr().err
    with pytest.raises(PluginNameError):
        load_plugins(PluginSettings())


@pytest.mark.parametrize("value", [
    "&a [*a]",  # refers to itself
    "{a: &a [x,x,x,x,x,x,x,x,x,x], b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a], c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b], "
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c], e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d], "
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e], g: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]}",  # 10 million values
])
def test_cli_yaml_bombs_in_plugin_options_are_usage_errors(capsys, value):
    started = time.perf_counter()
    assert main(["recommend", str(SMALL), "--plugin-option", f"x:k={value}", "--no-audit"]) == 2
    assert time.perf_counter() - started < 5
    err = capsys.readouterr().err
    assert "plugin option" in err and len(err) < 2_000


def test_a_yaml_bomb_in_a_rule_test_file_is_refused(tmp_path, capsys):
    folder = _rules(tmp_path)
    bomb = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    bomb += [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(9)]
    (folder / "r.tests.yaml").write_text("\n".join(bomb) + "\n", encoding="utf-8")
    started = time.perf_counter()
    assert main(["rules", "test", str(folder)]) == 1
    assert time.perf_counter() - started < 10
    assert "alias" in capsys.readouterr().out


def test_a_hook_that_hangs_in_a_server_thread_is_abandoned_not_waited_for():
    """The HTTP server and Dask call hooks from worker threads, where no signal can interrupt them."""
    release = threading.Event()

    class Sleeper:
        def mutasi_rules_training_catalogue(self):
            release.wait(60)

    manager = _manager(Sleeper())
    manager.hook_seconds = 0.3
    caught: list[BaseException] = []

    def request() -> None:
        try:
            manager.training_catalogue()
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            caught.append(exc)

    started = time.perf_counter()
    worker = threading.Thread(target=request)
    worker.start()
    worker.join(10)
    release.set()  # let the abandoned hook end, so it does not outlive the test
    assert not worker.is_alive() and time.perf_counter() - started < 5
    assert len(caught) == 1 and isinstance(caught[0], PluginError)
    assert "time limit of 0.3 s" in str(caught[0])


def test_in_a_worker_thread_a_hook_still_answers_and_raises_as_in_place():
    class Catalogue:
        def mutasi_rules_training_catalogue(self):
            return [TrainingOffer(name="Pelatihan Vaksinator", provider="Dinkes", hours=40)]

    class Quitter:
        def mutasi_rules_training_catalogue(self):
            raise SystemExit("bye")

    answers: list[object] = []
    thread = threading.Thread(target=lambda: answers.append(_manager(Catalogue()).training_catalogue()))
    thread.start()
    thread.join(10)
    assert [offer.name for offer in answers[0]] == ["Pelatihan Vaksinator"]

    def quit_() -> None:
        try:
            _manager(Quitter()).training_catalogue()
        except PluginError as exc:
            answers.append(exc)

    thread = threading.Thread(target=quit_)
    thread.start()
    thread.join(10)
    assert "raised SystemExit" in str(answers[1])
