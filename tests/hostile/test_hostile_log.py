"""The decision log is never fooled: tampered records are refused by every reader, wiped or
foreign files are never taken as a fresh log, creation is atomic, and a cut-off tail is found
through the head-hash anchor printed on letters and reports."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from mutasi_rules.audit import log as audit
from mutasi_rules.audit.log import AuditError, AuditLog, TamperedLogError, open_verified_record, replay
from mutasi_rules.cli import main
from mutasi_rules.core.canonical import canonical_json, sha256_of


def _record(path: Path, seq: int) -> dict:
    with AuditLog(path, create=False) as log:
        return log.raw(seq)


def test_explain_refuses_a_record_whose_result_was_edited(log_copy, tamper, tmp_path, capsys):
    """The issue's most severe case: a move's target post edited in result_json, triggers dropped."""
    row = _record(log_copy, 2)
    result = json.loads(row["result_json"])
    result["moves"][0]["to"]["position_name"] = "Kepala Dinas Palsu"
    tamper(log_copy, ("UPDATE records SET result_json = ? WHERE seq = 2", (canonical_json(result),)))
    notices, report = tmp_path / "letters", tmp_path / "report.md"
    code = main(["explain", row["run_id"], "--audit-db", str(log_copy), "--notices", str(notices),
                 "--report", str(report)])
    err = capsys.readouterr().err
    assert code == 1
    assert "fails verification" in err and "seq 2" in err and "result_json" in err
    assert not notices.exists() and not report.exists()
    with pytest.raises(TamperedLogError):
        open_verified_record(log_copy, row["run_id"])


def test_a_record_rewritten_with_recomputed_hashes_is_refused_and_not_replayed_identical(log_copy, tamper):
    """Consistent in itself (its own hashes recomputed): only the chain shows the edit."""
    row = _record(log_copy, 1)
    options = json.loads(row["options_json"])
    options["max_moves"] = 7
    fields = dict(row, options_json=canonical_json(options))
    fields["options_sha256"] = sha256_of(fields["options_json"])
    fields["record_hash"] = audit.record_hash_of(fields)
    fields["run_id"] = audit.run_id_for(1, fields["record_hash"])
    tamper(log_copy, ("UPDATE records SET options_json = ?, options_sha256 = ?, record_hash = ?, run_id = ? "
                      "WHERE seq = 1", (fields["options_json"], fields["options_sha256"], fields["record_hash"],
                                        fields["run_id"])))
    with AuditLog(log_copy, create=False) as log:
        assert audit.record_problems(log.raw(1), None) == []  # the record alone looks fine
        report = replay(log, fields["run_id"])
        assert not report.identical and not report.verifiable
        assert any(d.startswith("log integrity: seq 2") for d in report.differences)
        with pytest.raises(TamperedLogError, match="seq 2"):
            audit.verified_record(log, fields["run_id"])


def test_a_wiped_log_is_refused_not_restarted(tmp_path, small_run, capsys):
    wiped = tmp_path / "log.sqlite"
    wiped.write_bytes(b"")
    with pytest.raises(AuditError, match="empty file"):
        AuditLog(wiped)
    assert wiped.stat().st_size == 0  # nothing written into it
    assert main(["audit", "verify", "--audit-db", str(wiped)]) == 1
    assert "berkas kosong" in capsys.readouterr().err  # Bahasa Indonesia by default


def test_another_sqlite_database_is_refused_even_without_tables(tmp_path):
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("PRAGMA user_version = 7")  # a valid SQLite file with no table at all
    db.commit()
    db.close()
    size = other.stat().st_size
    assert size > 0
    with pytest.raises(AuditError, match=r"not a mutasi-rules audit log.*no tables"):
        AuditLog(other)
    assert other.stat().st_size == size


def test_log_creation_is_atomic(tmp_path, monkeypatch):
    """Killed while creating: nothing at the log's path, so the next run creates it properly."""
    path = tmp_path / "new" / "log.sqlite"

    def killed(script):
        raise KeyboardInterrupt

    monkeypatch.setattr(audit, "_split_sql", killed)
    with pytest.raises(KeyboardInterrupt):
        AuditLog(path)
    assert not path.exists() and os.listdir(path.parent) == []
    monkeypatch.undo()
    with AuditLog(path) as log:
        assert len(log) == 0
    assert path.stat().st_mode & 0o077 == 0  # owner-only: the log holds personal data
    assert [p.name for p in path.parent.iterdir()] == ["log.sqlite"]


def test_a_cut_off_tail_with_a_rewound_head_is_found_by_the_anchor(log_copy, tamper, tmp_path, capsys):
    last = _record(log_copy, 2)
    first = _record(log_copy, 1)
    # The letters of run 2 print its record hash: that is the anchor the auditor keeps.
    letters = tmp_path / "letters"
    assert main(["explain", last["run_id"], "--audit-db", str(log_copy), "--notices", str(letters),
                 "--report", str(tmp_path / "r.html")]) == 0
    letter = next(letters.iterdir()).read_text(encoding="utf-8")
    assert last["record_hash"] in letter
    assert last["record_hash"] in (tmp_path / "r.html").read_text(encoding="utf-8")
    tamper(log_copy, ("DELETE FROM records WHERE seq = 2", ()),
           ("UPDATE meta SET value = '1' WHERE key = 'head_seq'", ()),
           ("UPDATE meta SET value = ? WHERE key = 'head_hash'", (first["record_hash"],)))
    capsys.readouterr()
    assert main(["audit", "verify", "--audit-db", str(log_copy)]) == 0  # consistent in itself
    assert main(["audit", "verify", "--audit-db", str(log_copy), "--expect-head", last["record_hash"]]) == 1
    assert "no record has the expected head hash" in capsys.readouterr().out
    assert main(["audit", "verify", "--audit-db", str(log_copy), "--expect-head", first["record_hash"]]) == 0
    assert main(["explain", first["run_id"], "--audit-db", str(log_copy), "--expect-head",
                 last["record_hash"]]) == 1


def test_recommend_prints_the_record_hash(tmp_path, capsys):
    small = Path(__file__).resolve().parents[1] / "data" / "good" / "small.yaml"
    db = tmp_path / "log.sqlite"
    assert main(["recommend", str(small), "--no-plugins", "--audit-db", str(db), "--format", "json"]) == 0
    err = capsys.readouterr().err
    with AuditLog(db, create=False) as log:
        assert log.raw(1)["record_hash"] in err


def test_recommend_into_a_wiped_log_records_nothing_and_shows_nothing(tmp_path, capsys):
    small = Path(__file__).resolve().parents[1] / "data" / "good" / "small.yaml"
    wiped = tmp_path / "log.sqlite"
    wiped.write_bytes(b"")
    assert main(["recommend", str(small), "--no-plugins", "--audit-db", str(wiped)]) == 3
    captured = capsys.readouterr()
    assert captured.out == "" and "berkas kosong" in captured.err and "TIDAK dicatat" in captured.err
    assert wiped.stat().st_size == 0


def test_word_letters_carry_the_record_hash_too(log_copy, tmp_path):
    import zipfile

    row = _record(log_copy, 2)
    letters = tmp_path / "docx"
    assert main(["explain", row["run_id"], "--audit-db", str(log_copy), "--notices", str(letters),
                 "--notice-format", "docx"]) == 0
    letter = next(letters.iterdir())
    with zipfile.ZipFile(letter) as archive:
        assert row["record_hash"] in archive.read("word/document.xml").decode("utf-8")
