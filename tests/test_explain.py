"""Explanations of a recorded run for people: every move rule by rule, and people not moved."""

from __future__ import annotations

import functools
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from mutasi_rules.audit.log import AuditLog
from mutasi_rules.cli import main
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.explain.explanations import (
    explain_employee,
    explain_move,
    explain_result,
    explanation_json,
    md_escape,
    number,
    render_markdown,
    render_table,
)
from mutasi_rules.planning.recommendation import RecommendationResult, prepare, recommend
from mutasi_rules.rules.rulesets import Effect

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pontianak"


@functools.lru_cache(maxsize=1)
def run() -> tuple[RecommendationResult, object, list]:
    """One pipeline run of the example, with the dataset and rule sets it used (for the audit log)."""
    dataset = load_dataset(EXAMPLE)
    ctx = prepare(dataset)
    return recommend(dataset, plugins=ctx.plugins, rulesets=ctx.rulesets), dataset, ctx.rulesets


def result() -> RecommendationResult:
    return run()[0]


def conditional_move():
    return next(m for m in result().moves if m.status == "conditional" and m.trainings_required)


def excluded_nip() -> str:
    return result().excluded[0].nip


def alternative_only_nip() -> str:
    moved = {m.nip for m in result().moves} | {e.nip for e in result().excluded}
    return next(a.nip for s in result().shortages for a in s.alternatives
                if a.nip not in moved and a.outcome != "blocked")


def test_example_has_what_the_tests_need():
    assert result().moves and result().excluded
    assert conditional_move().trainings_required[0].offer is not None
    assert alternative_only_nip()


@pytest.mark.parametrize("fmt", ["text", "md"])
def test_move_explained_rule_by_rule_in_indonesian_by_default(fmt):
    move = conditional_move()
    text = explain_move(move, result(), fmt=fmt)
    assert move.name in text and move.to.position_name in text
    for finding in move.findings:
        assert finding.message.id in text.replace("\\", "")
        assert finding.rule_key in text
        assert finding.legal_basis in text
        assert finding.source in text
        assert f"versi {finding.ruleset_version}" in text
        for path in finding.facts_read:
            assert path in text
    assert "Aturan yang diperiksa dan terpenuhi" in text
    for rule in move.rules_passed:
        assert rule in text
    for part in move.score_breakdown:
        assert part.name in text
    for aspect in move.profile.aspects:
        assert aspect.aspect in text
        for factor in aspect.factors:
            assert factor.factor in text
    need = move.trainings_required[0]
    assert need.name in text and need.offer.provider in text and f"{need.offer.hours:.0f} JP" in text
    # EJ before and after of both sides, with the Indonesian decimal comma.
    for value in (move.source_effect.position_ej_before, move.target_effect.position_ej_before,
                  move.target_effect.opd_ej_after):
        assert number(value, 2, "id") in text
    assert "Dampak pada efisiensi jabatan" in text


def test_english_explanation():
    move = conditional_move()
    text = explain_move(move, result(), lang="en", fmt="text")
    assert "Rules checked that passed" in text and "Legal basis" in text
    for finding in move.findings:
        assert finding.message.en in text
    assert number(move.target_effect.position_ej_before, 2, "en") in text


def test_markdown_escapes_data_values():
    move = conditional_move()
    hostile = move.model_copy(update={"name": "<script>alert(1)</script> *x*"})
    text = explain_move(hostile, result(), fmt="md")
    assert "<script>" not in text and "&lt;script&gt;" in text and "\\*x\\*" in text
    assert md_escape("a|b") == "a\\|b"


def test_whole_run_text_lists_every_move():
    text = explain_result(result(), fmt="text", run_id="R000001-abc")
    assert "R000001-abc" in text
    for move in result().moves:
        assert f"{move.name} ({move.nip})" in text


@pytest.mark.parametrize("fmt", ["text", "md"])
def test_excluded_employee_shows_blocking_findings_and_why_not_hint(fmt):
    entry = result().excluded[0]
    text = explain_employee(result(), entry.nip, fmt=fmt)
    assert "tidak termasuk dalam rencana mutasi" in text
    assert "Tidak dapat dimutasi sama sekali" in text
    for finding in entry.findings:
        assert finding.message.id in text.replace("\\", "")
        assert finding.legal_basis in text
    assert "mutasi-rules why-not" in text


def test_alternative_employee_shows_outcome_and_reason():
    nip = alternative_only_nip()
    entries = [(s, a) for s in result().shortages for a in s.alternatives if a.nip == nip]
    text = explain_employee(result(), nip, lang="en", fmt="text")
    assert "is not in the transfer plan" in text
    for report, alt in entries:
        assert report.position.position_name in text
        assert alt.reason.en in text
    assert "mutasi-rules why-not" in text


def test_unknown_employee_says_the_record_holds_nothing():
    text = explain_employee(result(), "000000000000000000", fmt="text")
    assert "tidak memuat keterangan" in text


def test_moved_employee_via_explain_employee_is_the_move():
    move = conditional_move()
    assert explain_move(move, result(), fmt="md") in explain_employee(result(), move.nip, fmt="md")


def test_json_for_a_move_and_for_a_person_not_moved():
    move = conditional_move()
    data = explanation_json(result(), nip=move.nip, lang="en", run_id="R1")
    json.loads(canonical_json(data))  # serialisable
    person = data["employee"]
    assert person["moved"] is True and person["status"] == "conditional" and data["run_id"] == "R1"
    assert {f["rule"] for f in person["findings"]} == {f.rule_key for f in move.findings}
    assert all(f["message"] == g.message.en for f, g in zip(person["findings"], move.findings, strict=True))
    assert person["rules_passed"] == move.rules_passed
    assert person["trainings_required"][0]["offer"]["provider"] == move.trainings_required[0].offer.provider
    assert person["ej_effect"]["target"]["position_ej_before"] == move.target_effect.position_ej_before

    entry = result().excluded[0]
    other = explanation_json(result(), nip=entry.nip)["employee"]
    assert other["moved"] is False and other["known"] is True
    assert other["excluded"][0]["findings"][0]["effect"] == Effect.BLOCK.value
    assert other["excluded"][0]["findings"][0]["message"] == entry.findings[0].message.id

    everything = explanation_json(result())
    assert [m["nip"] for m in everything["moves"]] == [m.nip for m in result().moves]


def test_plan_table_and_markdown_still_render():
    console = Console(file=io.StringIO(), record=True, width=200)
    render_table(result(), console)
    assert result().moves[0].nip in console.export_text()
    assert result().moves[0].nip in render_markdown(result())


# ----------------------------------------------------------------- CLI


@pytest.fixture(scope="module")
def audit_db(tmp_path_factory) -> tuple[Path, str]:
    res, dataset, rulesets = run()
    path = tmp_path_factory.mktemp("audit") / "log.sqlite"
    with AuditLog(path) as log:
        record = log.append(res, dataset, rulesets)
    return path, record.run_id


def test_cli_explains_a_logged_run(audit_db, capsys):
    path, run_id = audit_db
    move = conditional_move()
    assert main(["explain", run_id[:7], "--audit-db", str(path), "--employee", move.nip]) == 0
    out = capsys.readouterr().out
    assert run_id in out and move.name in out and move.findings[0].rule_key in out

    assert main(["explain", run_id, "--audit-db", str(path), "--format", "json", "--lang", "en",
                 "--employee", excluded_nip()]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["employee"]["moved"] is False and data["lang"] == "en" and data["run_id"] == run_id


def test_cli_writes_notices_and_report(audit_db, tmp_path, capsys):
    path, run_id = audit_db
    notices, report = tmp_path / "notices", tmp_path / "report.html"
    assert main(["explain", run_id, "--audit-db", str(path), "--notices", str(notices), "--notice-lang", "both",
                 "--report", str(report)]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # only files were asked for
    names = sorted(p.name for p in notices.iterdir())
    assert names == sorted([f"{m.nip}.md" for m in result().moves] + [f"{m.nip}.en.md" for m in result().moves])
    html = report.read_text(encoding="utf-8")
    assert run_id in html and "<svg" in html


def test_cli_result_file_and_errors(audit_db, tmp_path, capsys):
    path, run_id = audit_db
    plan = tmp_path / "plan.json"
    plan.write_text(result().to_json(), encoding="utf-8")
    assert main(["explain", "--result", str(plan), "--format", "md"]) == 0
    assert result().moves[0].name in capsys.readouterr().out
    assert main(["explain", "R999", "--audit-db", str(path)]) == 1
    assert "tidak ada di log audit" in capsys.readouterr().err
    assert main(["explain", "--audit-db", str(path)]) == 2
    assert main(["explain", run_id, "--result", str(plan)]) == 2
    assert main(["explain", "R1", "--audit-db", str(tmp_path / "missing.sqlite")]) == 1
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert main(["explain", "--result", str(bad)]) == 1
    assert "not a mutasi-rules result" in capsys.readouterr().err


def test_each_finding_says_whether_its_basis_is_law_or_convention():
    findings = [f for m in result().moves for f in m.findings] + \
        [f for e in result().excluded for f in e.findings]
    kinds = {f.basis_kind for f in findings}
    assert None not in kinds and len(kinds) >= 2  # every bundled rule says what sets it
    move = next(m for m in result().moves if any(f.basis_kind for f in m.findings))
    text = explain_move(move, result(), lang="id", fmt="md")
    english = explain_move(move, result(), lang="en", fmt="md")
    words = {"statutory": ("ditetapkan peraturan perundang-undangan", "set by law"),
             "convention": ("konvensi, bukan ketentuan peraturan", "a convention, not set by law"),
             "agency_policy": ("kebijakan instansi", "agency policy")}
    for finding in move.findings:
        indonesian, en = words[finding.basis_kind]
        assert f"{finding.legal_basis} ({indonesian})" in text.replace("\\", "")
        assert f"{finding.legal_basis} ({en})" in english.replace("\\", "")
    person = explanation_json(result(), nip=move.nip, lang="id")["employee"]
    assert [f["basis_kind"] for f in person["findings"]] == [f.basis_kind for f in move.findings]
