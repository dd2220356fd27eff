"""The command line as programs use it: JSON in and out, exit codes from one map, quiet pipes, a cheap start."""

from __future__ import annotations

import argparse
import ast
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mutasi_rules import documents
from mutasi_rules.cli import build_parser, main
from mutasi_rules.errors import EXIT_CODES, ExitCode, MutasiRulesError
from mutasi_rules.problems import ErrorReport

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "good" / "small.yaml"
HEAVY = {"numpy", "scipy", "durable", "matplotlib", "openpyxl", "rich", "pydantic", "yaml", "pluggy"}


def leaf_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield " ".join(path), parser
        return
    for name, sub in subcommands[0].choices.items():
        yield from leaf_parsers(sub, (*path, name))


@pytest.mark.parametrize("command", [name for name, _ in leaf_parsers(build_parser())])
def test_every_command_takes_format_json(command):
    parser = dict(leaf_parsers(build_parser()))[command]
    (option,) = [a for a in parser._actions if "--format" in a.option_strings]
    assert "json" in option.choices


def error_report(capsys) -> dict:
    captured = capsys.readouterr()
    document = json.loads(captured.out)
    ErrorReport.model_validate(document)
    return document


def test_input_problems_are_a_json_problem_document_with_exit_1(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.read_text(encoding="utf-8").replace('nip: "198503122010011002"', 'nip: "198513122010011002"'),
                   encoding="utf-8")
    assert main(["recommend", str(bad), "--format", "json", "--no-audit"]) == ExitCode.PROBLEMS
    document = error_report(capsys)
    assert document["code"] == "dataset.invalid" and document["exit_code"] == 1 and document["kind"] == "input"
    assert document["message"]["id"] and document["message"]["en"]
    assert document["problems"] and all(p["file"] == str(bad) for p in document["problems"])
    assert any(p["field"] for p in document["problems"])


def test_usage_errors_are_json_too(capsys):
    assert main(["recommend", "--format", "json"]) == ExitCode.USAGE  # DATASET missing
    document = error_report(capsys)
    assert document["code"] == "usage.arguments" and "DATASET" in document["detail"]
    assert main(["plugins", "list", "--format", "json", "--plugin-option", "no-colon"]) == ExitCode.USAGE
    assert error_report(capsys)["code"] == "usage.plugin_option"


def test_an_audit_failure_is_json_with_exit_3(tmp_path, capsys):
    assert main(["audit", "list", "--format", "json", "--audit-db", str(tmp_path / "none.sqlite")]) == 3
    document = error_report(capsys)
    assert document["kind"] == "audit" and "none.sqlite" in document["detail"]


def test_exit_codes_come_from_one_map():
    from mutasi_rules.audit.log import AuditError, ReplayError
    from mutasi_rules.planning.whynot import UnknownSubject
    from mutasi_rules.plugins import PluginConflictError, PluginError
    from mutasi_rules.problems import InputError
    from mutasi_rules.rules.engine import EngineError

    expected = {InputError("x"): 1, UnknownSubject("x"): 1, PluginError("p", "h", "r"): 3,
                PluginConflictError(["a", "b"], "h", "r"): 3, EngineError("x"): 3, AuditError("x"): 3,
                ReplayError("x"): 3}
    for error, code in expected.items():
        assert isinstance(error, MutasiRulesError)
        assert error.exit_code == code == EXIT_CODES[error.kind]
        assert error.code and "." in error.code
    assert isinstance(UnknownSubject("x"), LookupError) and isinstance(EngineError("x"), RuntimeError)


def test_recommend_reads_a_json_dataset_from_stdin(monkeypatch, capsys, tmp_path):
    from mutasi_rules.data.loading import load_dataset

    monkeypatch.setattr(sys, "stdin", io.StringIO(load_dataset(SMALL).model_dump_json()))
    assert main(["recommend", "-", "--format", "json", "--audit-db", str(tmp_path / "a.sqlite")]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["run"]["dataset"] == load_dataset(SMALL).metadata.name

    monkeypatch.setattr(sys, "stdin", io.StringIO('{"metadata": {"name": "x"}}'))
    assert main(["recommend", "-", "--format", "json", "--no-audit"]) == 1
    document = error_report(capsys)
    assert {p["file"] for p in document["problems"]} == {"<stdin>"}


def test_options_file_is_read_and_the_command_line_wins(tmp_path, capsys):
    options = tmp_path / "options.json"
    options.write_text(json.dumps({"max_moves": 0, "use_plugins": False}), encoding="utf-8")
    assert main(["recommend", str(SMALL), "--options", str(options), "--format", "json", "--no-audit"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["moves"] == [] and result["run"]["options"]["max_moves"] == 0
    assert result["run"]["options"]["use_plugins"] is False
    assert main(["recommend", str(SMALL), "--options", str(options), "--max-moves", "3", "--format", "json",
                 "--no-audit"]) == 0
    assert json.loads(capsys.readouterr().out)["run"]["options"]["max_moves"] == 3

    options.write_text(json.dumps({"max_moves": -1, "alternatives_per_position": "many"}), encoding="utf-8")
    assert main(["recommend", str(SMALL), "--options", str(options), "--format", "json", "--no-audit"]) == 1
    document = error_report(capsys)
    assert document["code"] == "options.invalid"
    assert {p["field"] for p in document["problems"]} == {"max_moves", "alternatives_per_position"}


def test_a_closed_pipe_ends_quietly():
    reader = subprocess.Popen([sys.executable, "-m", "mutasi_rules", "schema", "result"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    reader.stdout.close()  # like `| head` that has read enough before the command writes
    _, err = reader.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
    assert reader.returncode in (0, 141)


def test_help_imports_no_heavy_library():
    code = ("import sys; from mutasi_rules.cli import build_parser; build_parser(); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {sorted(HEAVY)!r}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"


def test_the_cli_copies_of_library_constants_agree():
    from mutasi_rules.cli import explain, generate, plugins
    from mutasi_rules.data import generator, loading
    from mutasi_rules.explain.notices import NoticeSettings
    from mutasi_rules.plugins import manager

    assert NoticeSettings().objection_days == explain.DEFAULT_OBJECTION_DAYS
    assert generate.MIN_EMPLOYEES == generator.MIN_EMPLOYEES
    assert generate.FORMATS == loading.FORMATS
    assert plugins.ENV_DISABLE == manager.ENV_DISABLE


def test_the_library_prints_nothing():
    """Only the command line writes to the terminal; the library logs to the ``mutasi_rules`` logger."""
    offenders = []
    for path in (ROOT / "mutasi_rules").rglob("*.py"):
        if "cli" in path.relative_to(ROOT / "mutasi_rules").parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                offenders.append(f"{path.name}:{node.lineno}")
            if isinstance(node, ast.Attribute) and node.attr in ("stdout", "stderr") and \
                    isinstance(node.value, ast.Name) and node.value.id == "sys":
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_library_messages_go_through_logging(tmp_path, caplog):
    from mutasi_rules.audit.log import AuditLog

    with caplog.at_level("INFO", logger="mutasi_rules"), AuditLog(tmp_path / "new.sqlite"):
        pass
    assert any(r.name.startswith("mutasi_rules") and "new.sqlite" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- JSON outputs match their schemas


def test_json_outputs_match_their_published_models(tmp_path, capsys):
    db = tmp_path / "audit.sqlite"
    assert main(["recommend", str(SMALL), "--format", "json", "--audit-db", str(db)]) == 0
    capsys.readouterr()

    def output(*argv: str, code: int = 0):
        assert main(list(argv)) == code
        return json.loads(capsys.readouterr().out)

    (row,) = documents.AuditList.model_validate(output("audit", "list", "--format", "json", "--audit-db", str(db))).root
    verify = documents.AuditVerifyReport.model_validate(output("audit", "verify", "--format", "json",
                                                               "--audit-db", str(db)))
    assert verify.ok and verify.records == 1
    replayed = documents.AuditReplayReport.model_validate(output("audit", "replay", row.run_id, "--format", "json",
                                                                 "--audit-db", str(db)))
    assert replayed.identical
    explanation = documents.Explanation.model_validate(output("explain", row.run_id, "--format", "json",
                                                              "--audit-db", str(db)))
    assert explanation.run_id == row.run_id and explanation.moves is not None
    plugins = documents.PluginList.model_validate(output("plugins", "list", "--format", "json"))
    assert {p.name for p in plugins.plugins} >= {"mutasi-rules-dinkes-pontianak"}
    check = documents.RuleCheckReport.model_validate(output("rules", "check", str(ROOT / "rules"), "--format", "json"))
    assert check.ok and len(check.rulesets) == 5
    tests = documents.RuleTestSummary.model_validate(output("rules", "test", str(ROOT / "rules" / "national" /
                                                                                 "training.yaml"), "--format", "json"))
    assert tests.ok and tests.passed == len(tests.cases) > 0


def test_audit_verify_json_reports_tampering_with_exit_1(tmp_path, capsys):
    import sqlite3

    db = tmp_path / "audit.sqlite"
    assert main(["recommend", str(SMALL), "--format", "json", "--audit-db", str(db)]) == 0
    capsys.readouterr()
    with sqlite3.connect(db) as connection:
        connection.execute("DROP TRIGGER records_no_update")
        connection.execute("UPDATE records SET moves = moves + 1")
    assert main(["audit", "verify", "--format", "json", "--audit-db", str(db)]) == 1
    report = documents.AuditVerifyReport.model_validate(json.loads(capsys.readouterr().out))
    assert not report.ok and report.first_bad == 1


def test_verbose_shows_library_log_messages(tmp_path, capsys):
    db = tmp_path / "fresh" / "audit.sqlite"
    assert main(["-v", "recommend", str(SMALL), "--format", "json", "--audit-db", str(db)]) == 0
    assert f"INFO: created {db}, readable by its owner only" in capsys.readouterr().err


def test_an_unexpected_error_is_reported_without_a_traceback(monkeypatch, capsys):
    from mutasi_rules.cli import validate

    monkeypatch.delenv("MUTASI_RULES_TRACEBACK", raising=False)
    def broken(args):
        raise TypeError("boom")

    monkeypatch.setattr(validate, "run", broken)
    assert main(["validate", str(SMALL)]) == ExitCode.FAILURE
    err = capsys.readouterr().err
    assert "internal error" in err and "TypeError: boom" in err and "Traceback" not in err
    assert main(["validate", str(SMALL), "--format", "json"]) == ExitCode.FAILURE
    assert error_report(capsys)["code"] == "internal.error"


def test_validate_reads_standard_input_too(monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"metadata": {"name": "x"}}'))
    assert main(["validate", "-", "--format", "json"]) == 1
    problems = json.loads(capsys.readouterr().out)
    assert problems and {p["file"] for p in problems} == {"<stdin>"}


def test_a_skipped_plugin_is_logged_for_host_applications(tmp_path, capsys, caplog):
    broken = tmp_path / "broken_catalogue.py"
    broken.write_text("def mutasi_rules_training_catalogue():\n    raise RuntimeError('catalogue offline')\n",
                      encoding="utf-8")
    argv = ["-v", "recommend", str(SMALL), "--plugin", str(broken), "--skip-broken-plugins", "--format", "json",
            "--no-audit"]
    assert main(argv) == 0
    assert "catalogue offline" in capsys.readouterr().err
    assert any(r.name == "mutasi_rules.service" and "catalogue offline" in r.getMessage() for r in caplog.records)
