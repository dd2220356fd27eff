"""Hostile values in outputs and careless command lines: data is never markup, every Markdown
output escapes data the same way, unwritable outputs and implausible dates are clear errors."""

from __future__ import annotations

import io
import json
import os
import stat
import tempfile
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from mutasi_rules.cli import main
from mutasi_rules.core.escaping import md_escape
from mutasi_rules.explain.explanations import render_markdown, render_table
from mutasi_rules.planning.recommendation import RecommendationResult
from mutasi_rules.planning.whynot import render_report

SMALL = Path(__file__).resolve().parents[1] / "data" / "good" / "small.yaml"
MARKUP_NAMES = ["[/]", "[/bold] Siti", "Siti [b]Aminah[/b]", "[link=http://x]klik[/link]"]
HTML_NAME = '"><img src=x onerror=alert(1)>'


def _renamed(result: RecommendationResult, name: str) -> RecommendationResult:
    data = json.loads(result.to_json(indent=None))
    data["moves"][0]["name"] = name
    data["moves"][0]["to"]["position_name"] = name
    return RecommendationResult.model_validate(data)


@pytest.mark.parametrize("name", MARKUP_NAMES)
def test_names_holding_rich_markup_are_shown_as_they_are(small_run, name):
    result = _renamed(small_run[0], name)
    console = Console(file=io.StringIO(), record=True, width=400)
    render_table(result, console)  # rich.errors.MarkupError before
    assert name in console.export_text()


@pytest.mark.parametrize("command", [["workload"], ["validate"]])
def test_terminal_tables_show_markup_in_data_as_text(tmp_path, capsys, command):
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["units"][0]["name"] = "[/bold] Dinas [b]Kesehatan[/b]"
    folder = tmp_path / "[b]data[b]"
    folder.mkdir()
    path = folder / "dataset.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main([*command, str(path)]) == 0
    out = capsys.readouterr().out
    shown = "[/bold] Dinas [b]Kesehatan[/b]" if command == ["workload"] else "[b]data[b]"
    assert shown in out


def test_every_markdown_output_escapes_data_the_same_way(small_run):
    result = _renamed(small_run[0], HTML_NAME)
    plan = render_markdown(result)
    assert "<img" not in plan and md_escape(HTML_NAME) in plan
    # the same escape as explanations and letters use
    from mutasi_rules.explain.explanations import explain_result
    from mutasi_rules.explain.notices import notice_markdown

    assert "<img" not in explain_result(result, "id", "md")
    assert "<img" not in notice_markdown(result.moves[0], result)
    assert md_escape("a|b") == "a\\|b" and md_escape("x\ny") == "x y"


def test_cli_recommend_md_escapes_names(tmp_path, capsys):
    data = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["positions"][0]["name"] = HTML_NAME
    path = tmp_path / "dataset.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["recommend", str(path), "--no-plugins", "--no-audit", "--format", "md"]) == 0
    out = capsys.readouterr().out
    assert "<img" not in out


def test_why_not_markdown_uses_the_one_escape():
    import inspect

    assert "md_escape" in inspect.getsource(render_report)


# --------------------------------------------------------------------------- outputs


def test_output_onto_a_folder_is_a_usage_error(tmp_path, capsys):
    folder = tmp_path / "out"
    folder.mkdir()
    assert main(["recommend", str(SMALL), "--no-plugins", "--no-audit", "--out", str(folder)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_output_onto_a_device_is_refused_and_the_device_kept(log_copy, small_run, capsys):
    if not stat.S_ISCHR(os.stat(os.devnull).st_mode):
        pytest.skip("this machine's /dev/null is no longer a device (replaced by some other program)")
    assert main(["recommend", str(SMALL), "--no-plugins", "--no-audit", "--out", os.devnull]) == 2
    assert "device" in capsys.readouterr().err
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)
    run_id = "R000001"
    assert main(["explain", run_id, "--audit-db", str(log_copy), "--out", os.devnull]) == 2
    assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_notices_onto_a_file_and_a_pdf_report_are_usage_errors(log_copy, tmp_path, capsys):
    existing = tmp_path / "letters.txt"
    existing.write_text("keep me", encoding="utf-8")
    assert main(["explain", "R000001", "--audit-db", str(log_copy), "--notices", str(existing)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert existing.read_text(encoding="utf-8") == "keep me"
    assert main(["explain", "R000001", "--audit-db", str(log_copy), "--report", str(tmp_path / "x.pdf")]) == 2
    assert ".html, .htm, .md or .markdown" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()


def test_a_folder_that_cannot_be_written_is_a_clear_error(log_copy, tmp_path, capsys, monkeypatch):
    def refused(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refused)
    assert main(["explain", "R000001", "--audit-db", str(log_copy), "--report", str(tmp_path / "r.md")]) == 2
    err = capsys.readouterr().err
    assert "cannot write into folder" in err and "Permission denied" in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_a_clear_error(log_copy, tmp_path, capsys):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        assert main(["explain", "R000001", "--audit-db", str(log_copy), "--notices", str(folder)]) == 2
    finally:
        folder.chmod(0o700)


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(("argv", "text"), [
    (["recommend", str(SMALL), "--as-of", "9999-12-31"], "not a plausible date"),
    (["why-not", str(SMALL), "--employee", "197811052005011003", "--position", "DINKES.P2P.VAKS",
      "--as-of", "9999-12-30"], "not a plausible date"),
    (["recommend", str(SMALL), "--as-of", "1955-01-01"], "before every employee's birth date"),
    (["recommend", str(SMALL), "--plan-date", "2024-01-01"], "--plan-date 2024-01-01 is before --as-of 2024-07-01"),
])
def test_implausible_dates_are_usage_errors(capsys, argv, text):
    assert main([*argv, "--no-plugins", *(["--no-audit"] if argv[0] == "recommend" else [])]) == 2
    assert text in capsys.readouterr().err
