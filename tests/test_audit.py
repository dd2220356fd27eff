"""The decision log: chain integrity under tampering, replay, crash safety, concurrency and the CLI."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import pytest

from mutasi_rules.audit import log as audit
from mutasi_rules.audit.log import (
    AuditError,
    AuditLog,
    ReplayError,
    default_audit_path,
    replay,
    result_differences,
)
from mutasi_rules.cli import main
from mutasi_rules.core.canonical import canonical_json, sha256_of
from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.planning.recommendation import RecommendOptions, load_run_rulesets, recommend
from mutasi_rules.plugins.manager import PluginSettings, load_plugins

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pontianak"
SMALL = ROOT / "tests" / "data" / "good" / "small.yaml"
DOCS = ROOT / "docs" / "audit.md"


class Clock:
    """A deterministic clock: one second per call."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 7, 1, 8, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=1)
        return self.now


def run_pipeline(dataset, options):
    plugins = load_plugins(options.plugins) if options.use_plugins else None
    rulesets = load_run_rulesets(options, plugins)
    return recommend(dataset, options, plugins=plugins, rulesets=rulesets), rulesets


@pytest.fixture(scope="module")
def example_run():
    """The bundled example with the installed agency plugins: a run with moves and plugin rule sets."""
    dataset = load_dataset(EXAMPLE)
    result, rulesets = run_pipeline(dataset, RecommendOptions())
    assert result.moves and result.run.plugins
    return result, dataset, rulesets


@pytest.fixture(scope="module")
def small_run():
    dataset = generate_dataset(150, seed=5)
    result, rulesets = run_pipeline(dataset, RecommendOptions(use_plugins=False))
    return result, dataset, rulesets


@pytest.fixture(scope="module")
def built_log(tmp_path_factory, example_run, small_run):
    """Three records: small, example, small. Tests work on copies."""
    path = tmp_path_factory.mktemp("audit") / "log.sqlite"
    with AuditLog(path, clock=Clock()) as log:
        for run in (small_run, example_run, small_run):
            log.append(*run)
    return path


@pytest.fixture
def log_path(built_log, tmp_path):
    path = tmp_path / "log.sqlite"
    shutil.copy(built_log, path)
    return path


def tamper(path: Path, sql: str, params=()) -> None:
    """What someone with write access could do: drop the triggers, then edit."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER IF EXISTS records_no_update")
    db.execute("DROP TRIGGER IF EXISTS records_no_delete")
    db.execute(sql, params)
    db.commit()
    db.close()


def verify(path: Path) -> audit.VerifyReport:
    with AuditLog(path, create=False) as log:
        return log.verify()


# --------------------------------------------------------------------------- writing and reading


def test_records_chain_and_round_trip(log_path, example_run):
    result, _, rulesets = example_run
    with AuditLog(log_path, create=False) as log:
        records = list(log.records())
        assert [r.seq for r in records] == [1, 2, 3]
        assert records[0].prev_hash == audit.GENESIS_HASH
        assert [r.prev_hash for r in records[1:]] == [r.record_hash for r in records[:-1]]
        assert all(re.fullmatch(rf"R{r.seq:06d}-{r.record_hash[:10]}", r.run_id) for r in records)
        second = log.get(records[1].run_id)
        assert log.get("R000002").run_id == second.run_id  # a unique prefix
        assert second.result().to_json() == result.to_json()
        assert sha256_of(second.dataset().model_dump(mode="json")) == result.run.dataset_sha256
        assert second.options == result.run.options
        assert [(r.id, r.origin, r.sha256, r.text) for r in second.rulesets] == \
            [(r.id, r.origin, r.sha256, r.text) for r in rulesets]
        assert [p.name for p in second.plugins] == [p.name for p in result.run.plugins]
        assert second.moves == len(result.moves) and second.as_of == result.run.as_of
        assert second.recorded_at == dt.datetime(2026, 7, 1, 8, 0, 2, tzinfo=dt.UTC)
        assert log.verify().ok and log.verify().records == 3


def test_unknown_run_id_is_a_clear_error(log_path):
    with (AuditLog(log_path, create=False) as log,
          pytest.raises(AuditError, match=r"R999999.*not in the audit log.*3 run")):
        log.get("R999999-0000000000")


def test_append_refuses_inputs_the_result_was_not_computed_from(tmp_path, example_run, small_run):
    result, dataset, rulesets = example_run
    with AuditLog(tmp_path / "a.sqlite") as log:
        with pytest.raises(AuditError, match="dataset given"):
            log.append(result, small_run[1], rulesets)
        with pytest.raises(AuditError, match="rule sets given"):
            log.append(result, dataset, rulesets[:-1])
        with pytest.raises(AuditError, match="options"):
            log.append(result, dataset, rulesets, RecommendOptions(max_moves=1))
        assert len(log) == 0


def test_triggers_refuse_update_and_delete(log_path):
    db = sqlite3.connect(log_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only: UPDATE"):
        db.execute("UPDATE records SET moves = 0 WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only: DELETE"):
        db.execute("DELETE FROM records WHERE seq = 3")
    db.close()
    assert verify(log_path).ok


def test_schema_version_and_foreign_files(tmp_path, log_path):
    db = sqlite3.connect(log_path)
    db.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(AuditError, match=r"schema version 2.*reads schema version 1 at most"):
        AuditLog(log_path)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(AuditError, match="not an SQLite database"):
        AuditLog(garbage)
    other = tmp_path / "other.sqlite"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(AuditError, match="not a mutasi-rules audit log"):
        AuditLog(other)
    with pytest.raises(AuditError, match="no audit log"):
        AuditLog(tmp_path / "missing.sqlite", create=False)
    assert not (tmp_path / "missing.sqlite").exists()


def test_default_path_is_the_users_data_folder_unless_the_environment_says(tmp_path):
    home = {"HOME": str(tmp_path / "home")}
    assert default_audit_path(environ=home) == tmp_path / "home" / ".local" / "share" / "mutasi-rules" / \
        "mutasi-rules-audit.sqlite"
    xdg = {**home, "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert default_audit_path(environ=xdg) == tmp_path / "xdg" / "mutasi-rules" / "mutasi-rules-audit.sqlite"
    assert default_audit_path(environ={**home, "XDG_DATA_HOME": "relative"}).is_relative_to(tmp_path / "home")
    env = {**xdg, "MUTASI_RULES_AUDIT_DB": str(tmp_path / "x.sqlite")}
    assert default_audit_path(environ=env) == tmp_path / "x.sqlite"


def test_a_new_log_and_its_folders_are_private(tmp_path, small_run):
    path = tmp_path / "new" / "deeper" / "log.sqlite"
    with AuditLog(path) as log:
        log.append(*small_run)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_documented_hash_recipe_recomputes_every_record_hash(log_path):
    """The SQL in docs/audit.md, run by SQLite itself, gives the stored record hashes."""
    query = re.search(r"```sql\n(SELECT json_object.*?);\n```", DOCS.read_text(encoding="utf-8"), re.DOTALL).group(1)
    db = sqlite3.connect(log_path)
    for seq, stored in db.execute("SELECT seq, record_hash FROM records ORDER BY seq").fetchall():
        (text,) = db.execute(query.replace("WHERE seq = 1", f"WHERE seq = {seq}")).fetchone()
        assert hashlib.sha256(text.encode("utf-8")).hexdigest() == stored
    db.close()
    if shutil.which("sqlite3"):  # the shell too, as the docs show it
        out = subprocess.run(["sqlite3", str(log_path), query], capture_output=True, check=True).stdout
        assert hashlib.sha256(out.rstrip(b"\n")).hexdigest() == verify_hash(log_path, 1)


def verify_hash(path: Path, seq: int) -> str:
    db = sqlite3.connect(path)
    (value,) = db.execute("SELECT record_hash FROM records WHERE seq = ?", (seq,)).fetchone()
    db.close()
    return value


# --------------------------------------------------------------------------- tampering

@functools.cache
def _other_dataset_blob() -> bytes:
    return zlib.compress(canonical_json(generate_dataset(150, seed=6).model_dump(mode="json")).encode())


FIELD_TAMPERING = {
    "result_json": "UPDATE records SET result_json = replace(result_json, '\"moves\":', '\"moves\" :') WHERE seq = ?",
    "result_json_and_digest": "UPDATE records SET result_json = result_json || ' ', "
                              "result_sha256 = lower(hex(zeroblob(32))) WHERE seq = ?",
    "dataset_blob": "UPDATE records SET dataset_blob = :blob WHERE seq = :seq",
    "ruleset_text": "UPDATE records SET rulesets_json = json_set(rulesets_json, '$[0].text', "
                    "json_extract(rulesets_json, '$[0].text') || '# changed') WHERE seq = ?",
    "options": "UPDATE records SET options_json = json_set(options_json, '$.max_moves', 1) WHERE seq = ?",
    "recorded_at": "UPDATE records SET recorded_at = '2020-01-01T00:00:00.000000Z' WHERE seq = ?",
    "as_of": "UPDATE records SET as_of = '2026-08-01' WHERE seq = ?",
    "plugins": "UPDATE records SET plugins_json = "
               "'[{\"name\":\"x\",\"source\":\"x\",\"version\":\"9\"}]' WHERE seq = ?",
    "moves": "UPDATE records SET moves = moves + 1 WHERE seq = ?",
    "prev_hash": "UPDATE records SET prev_hash = lower(hex(randomblob(32))) WHERE seq = ?",
    "run_id": "UPDATE records SET run_id = 'R000009-0000000000' WHERE seq = ?",
}


@pytest.mark.parametrize("seq", [1, 2, 3])
@pytest.mark.parametrize("field", sorted(FIELD_TAMPERING))
def test_tampering_with_any_field_names_that_record_first(log_path, field, seq):
    sql = FIELD_TAMPERING[field]
    tamper(log_path, sql, {"blob": _other_dataset_blob(), "seq": seq} if ":blob" in sql else (seq,))
    report = verify(log_path)
    assert not report.ok
    assert report.first_bad == seq and report.first_bad_run_id
    if field == "prev_hash":
        assert "prev_hash" in report.reason


def test_a_record_rewritten_with_recomputed_hashes_breaks_the_next_link(log_path):
    db = sqlite3.connect(log_path)
    row = dict(zip(audit._COLUMNS, db.execute(f"SELECT {', '.join(audit._COLUMNS)} FROM records WHERE seq = 2")
                   .fetchone(), strict=True))
    db.close()
    row["recorded_at"] = "2026-07-01T09:00:00.000000Z"
    row["record_hash"] = audit.record_hash_of(row)
    tamper(log_path, "UPDATE records SET recorded_at = ?, record_hash = ?, run_id = ? WHERE seq = 2",
           (row["recorded_at"], row["record_hash"], audit.run_id_for(2, row["record_hash"])))
    report = verify(log_path)
    assert not report.ok and report.first_bad == 3 and "prev_hash" in report.reason


def test_deleting_a_record_names_the_missing_one(log_path):
    second = verify_hash(log_path, 2)
    tamper(log_path, "DELETE FROM records WHERE seq = 2")
    report = verify(log_path)
    assert not report.ok and report.records == 2
    assert report.first_bad == 2 and report.first_bad_run_id == audit.run_id_for(2, second)
    assert "missing" in report.reason
    assert any("trigger" in w for w in report.warnings)


def test_deleting_the_last_record_is_found_through_the_head(log_path):
    third = verify_hash(log_path, 3)
    tamper(log_path, "DELETE FROM records WHERE seq = 3")
    report = verify(log_path)
    assert not report.ok and report.first_bad == 3 and report.first_bad_run_id == audit.run_id_for(3, third)


def test_reordering_records_is_found(log_path):
    tamper(log_path, "UPDATE records SET seq = 99 WHERE seq = 2")
    tamper(log_path, "UPDATE records SET seq = 2 WHERE seq = 3")
    tamper(log_path, "UPDATE records SET seq = 3 WHERE seq = 99")
    report = verify(log_path)
    assert not report.ok and report.first_bad == 2


def test_dropped_triggers_alone_are_a_warning_not_a_break(log_path):
    tamper(log_path, "SELECT 1")
    report = verify(log_path)
    assert report.ok and len(report.warnings) == 2


# --------------------------------------------------------------------------- replay


def test_replay_of_an_untouched_record_is_identical(log_path):
    with AuditLog(log_path, create=False) as log:
        for run_id in ("R000002", "R000003"):  # with plugins and plugin rule sets; without plugins
            report = replay(log, run_id)
            assert report.identical and report.verifiable and report.differences == []
            assert report.replayed_sha256 == report.recorded_sha256 == log.get(run_id).result_sha256


def test_replay_uses_the_stored_rules_not_the_paths_in_the_options(tmp_path, small_run):
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules)
    dataset = small_run[1]
    options = RecommendOptions(use_plugins=False, rules=[str(rules)])
    result, rulesets = run_pipeline(dataset, options)
    with AuditLog(tmp_path / "a.sqlite") as log:
        record = log.append(result, dataset, rulesets)
        shutil.rmtree(rules)  # the rule files are gone; the record still holds their text
        assert replay(log, record.run_id).identical


def test_replay_after_tampering_with_the_stored_dataset_is_not_verifiable(log_path):
    tamper(log_path, "UPDATE records SET dataset_blob = ? WHERE seq = 3", (_other_dataset_blob(),))
    with AuditLog(log_path, create=False) as log:
        report = replay(log, "R000003")
    assert not report.identical and not report.verifiable
    assert any("dataset" in d for d in report.differences)
    assert any(d.startswith("first difference at $.") for d in report.differences)


def test_replay_after_tampering_with_the_stored_result_shows_the_removed_move(log_path):
    with AuditLog(log_path, create=False) as log:
        stored = json.loads(log.get("R000002").result_json)
    removed = stored["moves"].pop(0)
    tamper(log_path, "UPDATE records SET result_json = ? WHERE seq = 2", (canonical_json(stored),))
    with AuditLog(log_path, create=False) as log:
        report = replay(log, "R000002")
    assert not report.identical and not report.verifiable
    assert f"move added: {removed['nip']} -> {removed['to']['position_id']}" in report.differences


def test_replay_with_a_recorded_plugin_missing_fails_clearly(log_path, monkeypatch, example_run):
    name = example_run[0].run.plugins[0].name
    monkeypatch.setenv("MUTASI_RULES_DISABLE_PLUGINS", name)
    with AuditLog(log_path, create=False) as log, pytest.raises(ReplayError, match=f"not available.*{name}"):
        replay(log, "R000002")


def test_replay_reports_a_plugin_version_other_than_the_recorded_one(tmp_path, small_run):
    plugin = tmp_path / "local_agency.py"
    plugin.write_text('__version__ = "1.0"\n\ndef mutasi_rules_training_catalogue():\n    return []\n')
    settings = PluginSettings(entry_points=False, explicit=[str(plugin)])
    dataset = small_run[1]
    result, rulesets = run_pipeline(dataset, RecommendOptions(plugins=settings))
    assert [(p.name, p.version) for p in result.run.plugins] == [("local_agency", "1.0")]
    with AuditLog(tmp_path / "a.sqlite") as log:
        record = log.append(result, dataset, rulesets)
        plugin.write_text(plugin.read_text().replace('"1.0"', '"2.0"'))
        for name in [m for m in sys.modules if m.startswith("_mutasi_rules_local_local_agency")]:
            del sys.modules[name]  # the manager caches file plugins by path
        report = replay(log, record.run_id)
    assert not report.identical and report.verifiable
    assert "plugin local_agency: recorded version 1.0, installed 2.0" in report.differences


def test_result_differences_lists_moves_then_paths():
    recorded = {"moves": [{"nip": "1", "to": {"position_id": "A"}, "score": 2}], "run": {"v": "1"}}
    replayed = {"moves": [{"nip": "1", "to": {"position_id": "A"}, "score": 3},
                          {"nip": "2", "to": {"position_id": "B"}, "score": 1}], "run": {"v": "1"}}
    found = result_differences(recorded, replayed)
    assert found[:2] == ["move added: 2 -> B", "move changed: 1 -> A"]
    assert found[2] == "first difference at $.moves: recorded 1 item(s), replayed 2"
    assert result_differences(recorded, recorded) == []
    assert result_differences({"a": 1}, {"a": 2, "b": 3}) == [
        "first difference at $.a: recorded 1, replayed 2", "difference at $.b: recorded absent, replayed 3"]


# --------------------------------------------------------------------------- crash and concurrency

APPEND_SCRIPT = textwrap.dedent("""
    import os, sys, time
    from pathlib import Path
    from mutasi_rules.audit.log import AuditLog
    db, count, ready, others = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    log = AuditLog(db)
    hold = os.environ.get("HOLD_BEFORE_COMMIT")
    if hold:  # stop inside the write transaction (after INSERT, before COMMIT) so the test can kill us
        def trace(statement):
            if statement == "COMMIT":
                Path(hold).write_text("inside the write transaction", encoding="utf-8")
                time.sleep(60)
        log._db.set_trace_callback(trace)
    first = next(log.records())
    inputs = (first.result(), first.dataset(), first.loaded_rulesets())
    Path(ready).touch()
    while not all(Path(o).exists() for o in others):  # start together
        time.sleep(0.01)
    for _ in range(count):
        log.append(*inputs)
""")


def _writer(db: Path, count: int, ready: Path, others=(), env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", APPEND_SCRIPT, str(db), str(count), str(ready), *map(str, others)],
                            env={**os.environ, **(env or {})}, cwd=ROOT)


def _small_log(tmp_path: Path, small_run) -> Path:
    db = tmp_path / "log.sqlite"
    with AuditLog(db) as log:
        log.append(*small_run)
    return db


def test_a_writer_killed_inside_the_transaction_leaves_a_log_that_verifies(tmp_path, small_run):
    db = _small_log(tmp_path, small_run)
    marker = tmp_path / "inside"
    proc = _writer(db, 1, tmp_path / "ready", env={"HOLD_BEFORE_COMMIT": str(marker)})
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "writer never reached the transaction"
            time.sleep(0.02)
        assert Path(f"{db}-journal").exists()  # a write transaction is open
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    with AuditLog(db, create=False) as log:
        report = log.verify()
        assert report.ok and report.records == 1
        log.append(*small_run)
        assert log.verify().ok and len(log) == 2


def test_concurrent_writers_keep_one_chain(tmp_path, small_run):
    db = _small_log(tmp_path, small_run)
    ready = [tmp_path / "ready-a", tmp_path / "ready-b"]
    procs = [_writer(db, 4, ready[0], [ready[1]]), _writer(db, 4, ready[1], [ready[0]])]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    with AuditLog(db, create=False) as log:
        report = log.verify()
        assert report.ok and report.records == 9
        assert [r.seq for r in log.summaries()] == list(range(1, 10))


# --------------------------------------------------------------------------- command line


def test_cli_recommend_records_and_audit_commands(tmp_path, capsys):
    db = tmp_path / "audit.sqlite"
    assert main(["recommend", str(SMALL), "--format", "json", "--lang", "en", "--audit-db", str(db)]) == 0
    captured = capsys.readouterr()
    run_id = re.search(r"recorded run (R\d{6}-[0-9a-f]{10})", captured.err).group(1)
    assert json.loads(captured.out)["format"] == "mutasi-rules.recommendation/1"

    assert main(["audit", "list", "--audit-db", str(db), "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["run_id"] == run_id and row["seq"] == 1 and row["as_of"] == "2024-07-01"

    assert main(["audit", "verify", "--audit-db", str(db), "--lang", "en"]) == 0
    assert "1 record(s), chain intact" in capsys.readouterr().out
    assert main(["audit", "replay", run_id, "--audit-db", str(db), "--lang", "en"]) == 0
    assert "replay identical" in capsys.readouterr().out
    assert main(["audit", "replay", "R424242", "--audit-db", str(db)]) == 2

    tamper(db, "UPDATE records SET options_json = json_set(options_json, '$.max_moves', 0)")
    capsys.readouterr()
    assert main(["audit", "verify", "--audit-db", str(db), "--lang", "en"]) == 1
    out = capsys.readouterr().out
    assert f"first bad record seq 1 ({run_id})" in out and "options_json" in out
    assert main(["audit", "replay", run_id, "--audit-db", str(db), "--lang", "en"]) == 1
    assert "NOT VERIFIABLE" in capsys.readouterr().out


def test_cli_recommend_default_path_no_audit_and_write_failure(tmp_path, capsys, monkeypatch):
    db = tmp_path / "env.sqlite"
    monkeypatch.setenv("MUTASI_RULES_AUDIT_DB", str(db))
    assert main(["recommend", str(SMALL), "--format", "json", "--lang", "en"]) == 0
    assert f"in {db}" in capsys.readouterr().err and verify(db).records == 1

    monkeypatch.setenv("MUTASI_RULES_AUDIT_DB", str(tmp_path / "never.sqlite"))
    assert main(["recommend", str(SMALL), "--format", "json", "--no-audit"]) == 0
    assert not (tmp_path / "never.sqlite").exists()

    not_a_log = tmp_path / "plain.txt"
    not_a_log.write_text("not a database, " * 100)
    capsys.readouterr()
    assert main(["recommend", str(SMALL), "--audit-db", str(not_a_log)]) == 3
    captured = capsys.readouterr()
    assert "TIDAK dicatat" in captured.err and captured.out == ""


def test_cli_audit_on_missing_or_broken_logs(tmp_path, capsys):
    assert main(["audit", "verify", "--audit-db", str(tmp_path / "none.sqlite")]) == 3
    broken = tmp_path / "broken.sqlite"
    broken.write_bytes(b"garbage" * 200)
    assert main(["audit", "verify", "--audit-db", str(broken)]) == 1
    assert main(["audit", "list", "--audit-db", str(tmp_path / "none.sqlite")]) == 3
    assert main(["audit"]) == 2
    assert not (tmp_path / "none.sqlite").exists()


def test_cli_replay_with_a_missing_plugin_exits_3(log_path, monkeypatch, example_run, capsys):
    name = example_run[0].run.plugins[0].name
    monkeypatch.setenv("MUTASI_RULES_DISABLE_PLUGINS", name)
    assert main(["audit", "replay", "R000002", "--audit-db", str(log_path)]) == 3
    assert name in capsys.readouterr().err


def test_audit_sinks_receive_each_recorded_decision(tmp_path):
    """A plugin's mutasi_rules_decision_made gets the record, after it is in the log."""
    import textwrap

    from mutasi_rules.cli import main as cli_main

    sink = tmp_path / "sink.txt"
    plugin = tmp_path / "archive_sink.py"
    plugin.write_text(textwrap.dedent(f"""
        from mutasi_rules.audit.log import AuditLog

        def mutasi_rules_decision_made(decision):
            # The record is already committed: the log can read it back.
            with AuditLog({str(tmp_path / 'audit.sqlite')!r}) as log:
                assert log.get(decision.run_id).result_sha256 == decision.result_sha256
            with open({str(sink)!r}, "a", encoding="utf-8") as handle:
                handle.write(decision.run_id + "\\n")
    """), encoding="utf-8")
    dataset = Path(__file__).resolve().parent / "data" / "good" / "small.yaml"
    code = cli_main(["recommend", str(dataset), "--plugin", str(plugin), "--audit-db", str(tmp_path / "audit.sqlite"),
                     "--format", "json", "--out", str(tmp_path / "plan.json")])
    assert code == 0
    assert sink.read_text(encoding="utf-8").startswith("R000001-")


def test_cli_rule_engine_failure_is_an_exit_code_not_a_traceback(tmp_path, capsys, monkeypatch):
    from mutasi_rules.planning import recommendation
    from mutasi_rules.rules.engine import EngineError

    def failing(*args, **kwargs):
        raise EngineError("durable_rules failed on a batch of 3 candidate facts: boom")

    monkeypatch.setattr(recommendation, "run_prepared", failing)
    db = tmp_path / "audit.sqlite"
    assert main(["recommend", str(SMALL), "--lang", "en", "--audit-db", str(db)]) == 3
    assert "rule engine failure: durable_rules failed" in capsys.readouterr().err
    assert main(["recommend", str(SMALL), "--audit-db", str(db)]) == 3  # Bahasa Indonesia by default
    assert "kegagalan mesin aturan: durable_rules failed" in capsys.readouterr().err
    assert main(["recommend", str(SMALL), "--format", "json", "--audit-db", str(db)]) == 3
    problem = json.loads(capsys.readouterr().out)  # with --format json: a problem document on stdout
    assert problem["code"] == "engine.failed" and problem["exit_code"] == 3
    assert "durable_rules failed" in problem["detail"] and problem["message"]["id"]
    assert not db.exists()  # nothing is recorded for a run that did not finish
    assert main(["demo", str(SMALL), "--out", str(tmp_path / "out")]) == 3


def test_readers_never_see_an_intact_log_as_tampered_while_runs_are_recorded(tmp_path):
    """Verification reads the head and the records in one snapshot: a writer committing in between
    made an intact log look cut short (found by the HTTP load benchmark: 500s on explanations)."""
    import threading

    from mutasi_rules.service import Service

    db = tmp_path / "audit.sqlite"
    dataset = load_dataset(SMALL)
    options = RecommendOptions(use_plugins=False)
    first = Service(db).recommend(dataset, options).run_id
    errors: list[str] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            try:
                Service(db).recorded_run(first)
                assert Service(db).verify().ok
            except Exception as error:  # noqa: BLE001 - every failure is the finding
                errors.append(repr(error)[:300])

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        writer = Service(db)
        for moves in range(12):
            writer.recommend(dataset, options.model_copy(update={"max_moves": moves}))
    finally:
        done.set()
        for thread in readers:
            thread.join(60)
    assert errors == [] and verify(db).records == 13
