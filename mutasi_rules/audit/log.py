"""The decision log: an append-only, hash-chained SQLite record of every recommendation run.

Each run appends one record holding everything needed to check and re-run the decision:
the dataset itself (canonical JSON, zlib-compressed), the YAML text of every rule set, the
plugins and their versions, the options, and the full result. Every record carries the
hash of the record before it and a hash of its own fields, so any change to a stored
record -- or a deleted or reordered one -- is found by :meth:`AuditLog.verify`, and
:func:`replay` re-runs a recorded decision and compares it with what was recorded.

The hash input of a record is documented in docs/audit.md so that an auditor can
recompute it with ``sqlite3`` and ``sha256sum`` alone.

``recorded_at`` is the only wall-clock value in the project: it is audit metadata, never an
input of a decision (the decision depends on ``as_of`` alone).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import os
import sqlite3
import tempfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from pydantic import TypeAdapter, ValidationError

from mutasi_rules import __version__
from mutasi_rules.core.canonical import canonical_json, sha256_of
from mutasi_rules.core.locations import DEFAULT_AUDIT_FILENAME, ENV_AUDIT_DB, PRIVATE_DIR_MODE, default_audit_path
from mutasi_rules.data.decisions import AppliedDecision, ReviewDecision
from mutasi_rules.data.facts import ExtensionAttribute
from mutasi_rules.data.models import Dataset
from mutasi_rules.errors import MutasiRulesError
from mutasi_rules.planning.recommendation import PluginRef, RecommendationResult, RecommendOptions, recommend
from mutasi_rules.plugins.manager import PluginError, PluginManager, load_plugins
from mutasi_rules.problems import InputError
from mutasi_rules.rules.rulesets import LoadedRuleSet, load_ruleset_text

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
LOG_FORMAT = "mutasi-rules.audit"
RECORD_FORMAT = "mutasi-rules.audit-record/1"
GENESIS_HASH = "0" * 64
DEFAULT_FILENAME = DEFAULT_AUDIT_FILENAME
BUSY_TIMEOUT_SECONDS = 30.0

#: The fields of the hash input, in the order they are serialised (sorted, as canonical JSON is).
HASH_FIELDS: tuple[str, ...] = (
    "as_of",
    "dataset_blob_sha256",
    "dataset_name",
    "dataset_sha256",
    "format",
    "library_version",
    "moves",
    "options_sha256",
    "plan_date",
    "plugins_sha256",
    "prev_hash",
    "recorded_at",
    "result_sha256",
    "rulesets_sha256",
    "seq",
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    recorded_at TEXT NOT NULL,
    as_of TEXT NOT NULL,
    plan_date TEXT NOT NULL,
    library_version TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    dataset_sha256 TEXT NOT NULL,
    dataset_blob BLOB NOT NULL,
    dataset_blob_sha256 TEXT NOT NULL,
    rulesets_json TEXT NOT NULL,
    rulesets_sha256 TEXT NOT NULL,
    plugins_json TEXT NOT NULL,
    plugins_sha256 TEXT NOT NULL,
    options_json TEXT NOT NULL,
    options_sha256 TEXT NOT NULL,
    moves INTEGER NOT NULL,
    result_json TEXT NOT NULL,
    result_sha256 TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    record_hash TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS records_inputs ON records (dataset_sha256, options_sha256);
CREATE TRIGGER IF NOT EXISTS records_no_update BEFORE UPDATE ON records
BEGIN SELECT RAISE(ABORT, 'mutasi-rules audit records are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS records_no_delete BEFORE DELETE ON records
BEGIN SELECT RAISE(ABORT, 'mutasi-rules audit records are append-only: DELETE refused'); END;
"""

_TRIGGERS = ("records_no_update", "records_no_delete")
_COLUMNS = (
    "seq", "run_id", "recorded_at", "as_of", "plan_date", "library_version", "dataset_name", "dataset_sha256",
    "dataset_blob", "dataset_blob_sha256", "rulesets_json", "rulesets_sha256", "plugins_json", "plugins_sha256",
    "options_json", "options_sha256", "moves", "result_json", "result_sha256", "prev_hash", "record_hash",
)
_PLUGINS = TypeAdapter(list[PluginRef])
#: What makes two runs the same run (find_run, append_once): equal inputs give an equal result.
_RUN_KEY = ("dataset_sha256", "options_sha256", "rulesets_sha256", "plugins_sha256", "library_version")
_FIND_RUN = f"SELECT seq FROM records WHERE {' AND '.join(f'{c} = ?' for c in _RUN_KEY)} ORDER BY seq LIMIT 1"


class AuditError(MutasiRulesError):
    """The decision log cannot be opened, read or written, or a run id is unknown (exit code 3)."""

    kind = "audit"
    code = "audit.failed"


class UnknownRun(AuditError):
    """No recorded run has this id (or the prefix given names several)."""

    code = "audit.unknown_run"


class ReplayError(AuditError):
    """A recorded run cannot be replayed (a recorded plugin is missing or fails)."""

    code = "audit.replay_failed"


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class RuleSetRecord:
    """One rule set as recorded: enough to load it again exactly."""

    id: str
    version: str
    origin: str
    sha256: str
    text: str = field(repr=False)


@dataclass(frozen=True)
class DecisionRecord:
    """One recorded run. ``result()``, ``dataset()`` and ``loaded_rulesets()`` parse the stored inputs."""

    run_id: str
    seq: int
    recorded_at: dt.datetime
    as_of: dt.date
    plan_date: dt.date
    dataset_name: str
    dataset_sha256: str
    library_version: str
    rulesets: list[RuleSetRecord]
    plugins: list[PluginRef]
    options: RecommendOptions
    moves: int
    result_sha256: str
    prev_hash: str
    record_hash: str
    result_json: str = field(repr=False)
    dataset_blob: bytes = field(repr=False)

    def result(self) -> RecommendationResult:
        """The recorded result."""
        return RecommendationResult.model_validate_json(self.result_json)

    def dataset_json(self) -> str:
        """The recorded dataset as canonical JSON (raises :class:`AuditError` if the blob is damaged)."""
        try:
            return zlib.decompress(self.dataset_blob).decode("utf-8")
        except (zlib.error, UnicodeDecodeError) as exc:
            raise AuditError(f"run {self.run_id}: the stored dataset cannot be decompressed ({exc})") from exc

    def dataset(self) -> Dataset:
        """The recorded input dataset."""
        text = self.dataset_json()
        try:
            return Dataset.model_validate_json(text)
        except ValidationError as exc:
            raise AuditError(f"run {self.run_id}: the stored dataset is not a valid dataset: {exc}") from exc

    def loaded_rulesets(self, extensions: Sequence[ExtensionAttribute] = ()) -> list[LoadedRuleSet]:
        """The recorded rule sets, loaded from their stored text in the recorded order.

        ``extensions``: the plugins' fact attributes, needed by rule sets that read
        ``<entity>.ext.*`` (load the recorded plugins first; :func:`replay_inputs` does).
        """
        return [load_ruleset_text(r.text, r.origin, extensions) for r in self.rulesets]


@dataclass(frozen=True)
class RecordSummary:
    """The small columns of one record, for listings."""

    run_id: str
    seq: int
    recorded_at: str
    as_of: str
    plan_date: str
    dataset_name: str
    dataset_sha256: str
    moves: int
    library_version: str
    record_hash: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of checking the whole chain.

    ``first_bad`` is the sequence number of the first bad record (or of the first missing
    one) and ``first_bad_run_id`` its run id; ``problems`` lists every problem found, in
    sequence order; ``warnings`` are findings that do not break the chain (missing triggers).
    """

    ok: bool
    records: int
    first_bad: int | None = None
    first_bad_run_id: str | None = None
    reason: str = ""
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    head_hash: str | None = None


@dataclass(frozen=True)
class ReplayReport:
    """A recorded run re-run from its stored inputs, compared with its stored result.

    ``verifiable`` is false when the record itself fails its integrity checks (so even an
    identical replay would prove nothing); ``identical`` needs both a verifiable record and
    byte-identical canonical result JSON.
    """

    run_id: str
    identical: bool
    verifiable: bool
    recorded_sha256: str
    replayed_sha256: str | None
    differences: list[str]
    result: RecommendationResult | None = field(default=None, repr=False)


def run_id_for(seq: int, record_hash: str) -> str:
    """``R<seq, 6 digits or more>-<first 10 hex digits of the record hash>``."""
    return f"R{seq:06d}-{record_hash[:10]}"


def run_inputs(rulesets: Sequence[LoadedRuleSet], options: RecommendOptions,
               plugins: Sequence[PluginRef]) -> dict[str, str]:
    """The stored JSON (and its SHA-256) of a run's rule sets, plugins and options, as recorded."""
    rulesets_json = canonical_json([
        {"id": r.id, "version": r.version, "origin": r.origin, "sha256": r.sha256, "text": r.text}
        for r in rulesets
    ])
    plugins_json = canonical_json([p.model_dump(mode="json") for p in plugins])
    options_json = canonical_json(options.model_dump(mode="json"))
    return {
        "rulesets_json": rulesets_json,
        "rulesets_sha256": sha256_of(rulesets_json),
        "plugins_json": plugins_json,
        "plugins_sha256": sha256_of(plugins_json),
        "options_json": options_json,
        "options_sha256": sha256_of(options_json),
    }


def hash_input(fields: Mapping[str, Any]) -> str:
    """The text whose SHA-256 is the record hash: canonical JSON of exactly :data:`HASH_FIELDS`.

    ``format`` is the constant :data:`RECORD_FORMAT`; every other field is a column of the record.
    """
    values = {name: fields[name] for name in HASH_FIELDS if name != "format"}
    return canonical_json({**values, "format": RECORD_FORMAT})


def record_hash_of(fields: Mapping[str, Any]) -> str:
    return sha256_of(hash_input(fields))


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _timestamp(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        raise AuditError("recorded_at needs a timezone-aware time")
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- the log


class AuditLog:
    """An append-only, hash-chained decision log in one SQLite file.

    ``create``: make the file and schema if missing (``False``: a missing file is an
    :class:`AuditError`; readers use this so that a typo does not create an empty log).
    ``clock``: the wall clock for ``recorded_at`` (tests pass a fixed one).
    """

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.path = Path(path)
        self.clock = clock or _utc_now
        if not self.path.exists():
            if not create:
                raise AuditError(f"no audit log at {self.path}")
            _create_log_file(self.path)
        elif not self.path.is_file():
            raise AuditError(f"audit log {self.path}: not a regular file")
        elif self.path.stat().st_size == 0:
            # A wiped log must not silently restart the chain: only a missing file starts a new log.
            raise AuditError(f"audit log {self.path}: empty file (0 bytes), not an audit log; a log that was wiped "
                             "or a creation that was interrupted? Move it away to start a new log")
        try:
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self._db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path}: cannot open: {exc}") from exc
        try:
            self._open()
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise AuditError(f"audit log {self.path}: not an SQLite database ({exc})") from exc
        if "meta" not in tables:
            listed = f"tables: {', '.join(sorted(tables))}" if tables else "no tables"
            raise AuditError(f"audit log {self.path}: an SQLite database but not a mutasi-rules audit log "
                             f"(no meta table; {listed}); it is not written to")
        self._check_schema()

    def _check_schema(self) -> None:
        try:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path}: cannot read its meta table: {exc}") from exc
        if meta.get("format") != LOG_FORMAT:
            raise AuditError(f"audit log {self.path}: meta format is {meta.get('format')!r}, "
                             f"expected {LOG_FORMAT!r}: not a mutasi-rules audit log")
        raw = meta.get("schema_version", "")
        if not raw.isdigit():
            raise AuditError(f"audit log {self.path}: schema_version {raw!r} is not a number")
        version = int(raw)
        if version > SCHEMA_VERSION:
            raise AuditError(f"audit log {self.path} has schema version {version}; this mutasi-rules "
                             f"({__version__}) reads schema version {SCHEMA_VERSION} at most: use a newer mutasi-rules")
        if version < 1:
            raise AuditError(f"audit log {self.path}: schema_version {version} is not a known version")

    # ----------------------------------------------------------------- lifetime

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- writing

    def append(self, result: RecommendationResult, dataset: Dataset, rulesets: Sequence[LoadedRuleSet],
               options: RecommendOptions | None = None, *, dataset_blob: bytes | None = None) -> DecisionRecord:
        """Record one run: its inputs (dataset, rule sets, options) and its result.

        ``dataset_blob``: the zlib-compressed canonical JSON of ``dataset`` when the caller
        already has it (a prepared context keeps it: re-plans of a city do not compress it
        again); it is checked against the result's dataset hash like the dataset itself.

        The inputs must be the ones the result was computed from: the dataset's canonical
        SHA-256 and the rule sets' (id, version, origin, sha256) must match the result's
        run info, and ``options`` (default: the result's) must equal the result's.
        """
        return self._append(self._fields(result, dataset, rulesets, options, dataset_blob), once=False)[0]

    def append_once(self, result: RecommendationResult, dataset: Dataset, rulesets: Sequence[LoadedRuleSet],
                    options: RecommendOptions | None = None, *,
                    dataset_blob: bytes | None = None) -> tuple[DecisionRecord, bool]:
        """Record a run unless a run of the same inputs is already recorded: ``(record, created)``.

        "The same inputs" is :meth:`find_run`'s key. The check and the insert happen in one
        write transaction, so two workers finishing the same run (a task Dask retried while the
        first attempt was still alive) record it once; the second gets the first's record.
        """
        return self._append(self._fields(result, dataset, rulesets, options, dataset_blob), once=True)

    def find_run(self, dataset_sha256: str, rulesets: Sequence[LoadedRuleSet], options: RecommendOptions,
                 plugins: Sequence[PluginRef], library_version: str = __version__) -> DecisionRecord | None:
        """The first recorded run of exactly these inputs, or None.

        The key: the dataset's canonical SHA-256, the rule sets (their stored texts), the
        options, the enabled plugins (name, version, source) and the library version: a run
        with all of them equal is deterministic and gives the same result (docs/audit.md).
        """
        inputs = run_inputs(rulesets, options, plugins)
        try:
            row = self._db.execute(_FIND_RUN, (dataset_sha256, inputs["options_sha256"], inputs["rulesets_sha256"],
                                               inputs["plugins_sha256"], library_version)).fetchone()
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path}: cannot read records: {exc}") from exc
        return None if row is None else _record(self.raw(row[0]))

    def _fields(self, result: RecommendationResult, dataset: Dataset, rulesets: Sequence[LoadedRuleSet],
                options: RecommendOptions | None, dataset_blob: bytes | None) -> dict[str, Any]:
        """The columns of a new record except seq, prev_hash, record_hash and run_id (set under the lock)."""
        run = result.run
        options = options or run.options
        if options != run.options:
            raise AuditError("the options given are not the options the result was computed with")
        try:
            dataset_text = (zlib.decompress(dataset_blob).decode("utf-8") if dataset_blob is not None
                            else canonical_json(dataset))
        except (zlib.error, UnicodeDecodeError) as exc:
            raise AuditError(f"the dataset blob given cannot be decompressed ({exc})") from exc
        dataset_sha = sha256_of(dataset_text)
        if dataset_sha != run.dataset_sha256:
            raise AuditError(f"the dataset given (sha256 {dataset_sha}) is not the one the result was computed from "
                             f"(sha256 {run.dataset_sha256})")
        given = sorted((r.id, r.version, r.origin, r.sha256) for r in rulesets)
        used = sorted((r.id, r.version, r.origin, r.sha256) for r in run.rulesets)
        if given != used:
            raise AuditError(f"the rule sets given ({_refs(given)}) are not the ones the result was computed with "
                             f"({_refs(used)})")
        blob = dataset_blob if dataset_blob is not None else zlib.compress(dataset_text.encode("utf-8"), 9)
        result_json = result.to_json(indent=None)
        return {
            "recorded_at": _timestamp(self.clock()),
            "as_of": run.as_of.isoformat(),
            "plan_date": run.plan_date.isoformat(),
            "library_version": run.library_version,
            "dataset_name": run.dataset,
            "dataset_sha256": dataset_sha,
            "dataset_blob": blob,
            "dataset_blob_sha256": sha256_of(blob),
            **run_inputs(rulesets, options, run.plugins),
            "moves": len(result.moves),
            "result_json": result_json,
            "result_sha256": sha256_of(result_json),
        }

    def _append(self, fields: dict[str, Any], *, once: bool) -> tuple[DecisionRecord, bool]:
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if once:  # inside the write lock: nobody can record the same run between the check and the insert
                    found = self._db.execute(_FIND_RUN, [fields[c] for c in _RUN_KEY]).fetchone()
                    if found is not None:
                        self._db.execute("ROLLBACK")
                        return _record(self.raw(found[0])), False
                # Read the head inside the write lock: two writers cannot both extend the same record.
                head = self._db.execute("SELECT seq, record_hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
                fields["seq"] = 1 if head is None else head[0] + 1
                fields["prev_hash"] = GENESIS_HASH if head is None else head[1]
                fields["record_hash"] = record_hash_of(fields)
                fields["run_id"] = run_id_for(fields["seq"], fields["record_hash"])
                self._db.execute(
                    f"INSERT INTO records ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})",
                    [fields[c] for c in _COLUMNS],
                )
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('head_seq', ?)",
                                 (str(fields["seq"]),))
                self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('head_hash', ?)",
                                 (fields["record_hash"],))
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path}: cannot record the run: {exc}") from exc
        return _record(fields), True

    # ----------------------------------------------------------------- reading

    def _rows(self, where: str = "", params: Sequence[Any] = ()) -> Iterator[dict[str, Any]]:
        try:
            cursor = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM records {where} ORDER BY seq", params)
            for row in cursor:
                yield dict(zip(_COLUMNS, row, strict=True))
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path}: cannot read records: {exc}") from exc

    def raw(self, seq: int) -> dict[str, Any]:
        """The stored columns of record ``seq`` as they are (for integrity checks)."""
        rows = list(self._rows("WHERE seq = ?", (seq,)))
        if not rows:
            raise AuditError(f"audit log {self.path}: no record with seq {seq}")
        return rows[0]

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM records").fetchone()[0])

    def get(self, run_id: str) -> DecisionRecord:
        """The record of ``run_id`` (a unique prefix such as ``R000042`` is accepted too)."""
        rows = list(self._rows("WHERE run_id = ?", (run_id,)))
        if not rows and len(run_id) >= 2:
            pattern = run_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = list(self._rows("WHERE run_id LIKE ? ESCAPE '\\'", (pattern,)))
        if len(rows) != 1:
            count = len(self)
            known = "the log is empty" if not count else f"it holds {count} run(s), {self._first_last()}"
            what = "is ambiguous" if rows else "is not in the audit log"
            raise UnknownRun(f"run id {run_id!r} {what} {self.path} ({known}; see: mutasi-rules audit list)")
        return _record(rows[0])

    def _first_last(self) -> str:
        first = self._db.execute("SELECT run_id FROM records ORDER BY seq LIMIT 1").fetchone()[0]
        last = self._db.execute("SELECT run_id FROM records ORDER BY seq DESC LIMIT 1").fetchone()[0]
        return f"{first} to {last}"

    def records(self) -> Iterator[DecisionRecord]:
        """Every record, in sequence order."""
        for row in self._rows():
            yield _record(row)

    def summaries(self) -> Iterator[RecordSummary]:
        """The small columns of every record, in sequence order (no blobs are read)."""
        names = [f.name for f in RecordSummary.__dataclass_fields__.values()]
        try:
            for row in self._db.execute(f"SELECT {', '.join(names)} FROM records ORDER BY seq"):
                yield RecordSummary(**dict(zip(names, row, strict=True)))
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path}: cannot read records: {exc}") from exc

    # ----------------------------------------------------------------- verification

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """One consistent view of the log for a read of several statements.

        Without it, a writer committing between reading the head and reading the records
        makes an intact log look cut short (a false "tampered"). Re-entrant: inside a
        transaction already, nothing changes.
        """
        if self._db.in_transaction:
            yield
            return
        try:
            self._db.execute("BEGIN")  # deferred: the first read fixes the view until COMMIT
        except sqlite3.Error as exc:
            raise AuditError(f"audit log {self.path}: cannot read: {exc}") from exc
        try:
            yield
        finally:
            if self._db.in_transaction:
                self._db.execute("COMMIT")  # a read: nothing is written

    def verify(self, expect_head: str | None = None) -> VerifyReport:
        """Check every record and the links between them; report every problem, first bad record first.

        ``expect_head``: a record hash printed on an earlier report or letter (the anchor). The
        log must still hold that record: a log whose tail was cut off and whose head was
        rewound is consistent in itself, and only an anchor kept outside the file finds it.
        """
        with self.snapshot():
            return self._verify(expect_head)

    def _verify(self, expect_head: str | None = None) -> VerifyReport:
        problems: list[tuple[int, str, str]] = []  # (seq, run id, reason)
        hashes: set[str] = set()
        expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
        last: tuple[int, str] | None = None
        try:
            for row in self._rows():
                count += 1
                seq = row["seq"]
                if seq > expected_seq:
                    # The first missing record is the first bad one; the next record's prev_hash names it.
                    gap = f"seq {expected_seq}" if seq == expected_seq + 1 else f"seq {expected_seq} to {seq - 1}"
                    named = run_id_for(expected_seq, row["prev_hash"]) if seq == expected_seq + 1 else ""
                    reason = f"missing: {gap} deleted (seq {seq} follows seq {expected_seq - 1})"
                    problems.append((expected_seq, named, reason))
                elif seq < expected_seq:
                    problems.append((seq, row["run_id"], f"sequence number {seq} (expected {expected_seq})"))
                for reason in record_problems(row, prev_hash):
                    problems.append((seq, row["run_id"], reason))
                expected_seq, prev_hash = seq + 1, row["record_hash"]
                last = (seq, row["record_hash"])
                hashes.add(row["record_hash"])
        except AuditError as exc:
            problems.append((expected_seq, "", str(exc)))
        meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        head_seq, head_hash = meta.get("head_seq"), meta.get("head_hash")
        head_moved = last is None or head_seq != str(last[0]) or head_hash != last[1]
        if (head_seq is not None or last is not None) and head_moved:
            ends = "is empty" if last is None else f"ends at seq {last[0]}"
            reason = (f"the log {ends} but its head (meta) is seq {head_seq} hash {head_hash}: "
                      "records at the end were removed, or the head was changed")
            bad_seq = (last[0] + 1) if last is not None else 1
            # The head names the first removed record only when exactly one was removed.
            bad_run = run_id_for(bad_seq, head_hash) if head_seq == str(bad_seq) and head_hash else ""
            problems.append((bad_seq, bad_run, reason))
        if expect_head is not None and expect_head.strip().lower() not in hashes:
            bad_seq = (last[0] + 1) if last is not None else 1
            problems.append((bad_seq, "", f"no record has the expected head hash {expect_head.strip()!r}: records "
                                          "at the end were removed and the head rewound, or this is another log"))
        triggers = {r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        warnings = [f"append-only trigger {t} is missing (dropped?)" for t in _TRIGGERS if t not in triggers]
        if not problems:
            return VerifyReport(ok=True, records=count, warnings=warnings, head_hash=last[1] if last else None)
        problems.sort(key=lambda p: p[0])
        seq, run_id, reason = problems[0]
        return VerifyReport(
            ok=False, records=count, first_bad=seq, first_bad_run_id=run_id or None, reason=reason,
            problems=[f"seq {s}{' (' + r + ')' if r else ''}: {why}" for s, r, why in problems],
            warnings=warnings, head_hash=last[1] if last else None,
        )


class TamperedLogError(AuditError):
    """The decision log fails verification: nothing read from it can be trusted."""

    def __init__(self, path: Path, report: VerifyReport) -> None:
        who = f" ({report.first_bad_run_id})" if report.first_bad_run_id else ""
        super().__init__(f"audit log {path} fails verification, first bad record seq {report.first_bad}{who}: "
                         f"{report.reason}; nothing is read from a tampered or broken log "
                         "(details: mutasi-rules audit verify)")
        self.report = report


def verified_record(log: AuditLog, run_id: str, *, expect_head: str | None = None) -> DecisionRecord:
    """The record of ``run_id``, only after the whole log verifies (hashes, chain, head, anchor).

    Every reader of a recorded run (explain, notices, report, review, re-plan) goes through
    here: a letter or report must never be built from an edited record. Raises
    :class:`TamperedLogError` for a log that fails :meth:`AuditLog.verify`, and
    :class:`AuditError` for an unknown run id.
    """
    with log.snapshot():  # the record returned is the one that was verified
        report = verify_with_reviews(log, expect_head=expect_head)
        if not report.ok:
            raise TamperedLogError(log.path, report)
        return log.get(run_id)


def open_verified_record(path: str | os.PathLike[str], run_id: str, *,
                         expect_head: str | None = None) -> DecisionRecord:
    """Open the log at ``path`` (never creating one) and return :func:`verified_record`."""
    with AuditLog(path, create=False) as log:
        return verified_record(log, run_id, expect_head=expect_head)


def record_problems(row: Mapping[str, Any], prev_hash: str | None) -> list[str]:
    """Integrity problems of one stored record (``prev_hash``: the previous record's hash; None: do not check)."""
    found: list[str] = []
    if prev_hash is not None and row["prev_hash"] != prev_hash:
        found.append(f"prev_hash {row['prev_hash']!r} is not the previous record's hash {prev_hash!r}")
    digests = [("result_json", "result_sha256"), ("rulesets_json", "rulesets_sha256"),
               ("plugins_json", "plugins_sha256"), ("options_json", "options_sha256"),
               ("dataset_blob", "dataset_blob_sha256")]
    for column, digest in digests:
        value = row[column]
        if not isinstance(value, (str, bytes)) or sha256_of(value) != row[digest]:
            found.append(f"{column} does not match {digest} (changed after it was recorded)")
    blob = row["dataset_blob"]
    try:
        if sha256_of(zlib.decompress(blob)) != row["dataset_sha256"]:
            found.append("the stored dataset does not match dataset_sha256")
    except (zlib.error, TypeError) as exc:
        found.append(f"the stored dataset cannot be decompressed ({exc})")
    try:
        expected = record_hash_of(row)
    except (TypeError, ValueError) as exc:
        found.append(f"the hash input cannot be built ({exc})")
    else:
        if row["record_hash"] != expected:
            found.append(f"record_hash {row['record_hash']!r} is not the hash of the record's fields ({expected!r})")
    if (isinstance(row["seq"], int) and isinstance(row["record_hash"], str)
            and row["run_id"] != run_id_for(row["seq"], row["record_hash"])):
        found.append(f"run_id {row['run_id']!r} does not match seq and record_hash")
    return found


def _record(row: Mapping[str, Any]) -> DecisionRecord:
    where = f"audit record seq {row['seq']} ({row['run_id']})"
    try:
        rulesets = [RuleSetRecord(id=r["id"], version=r["version"], origin=r["origin"], sha256=r["sha256"],
                                  text=r["text"]) for r in _json_loads(row["rulesets_json"])]
        return DecisionRecord(
            run_id=row["run_id"],
            seq=row["seq"],
            recorded_at=dt.datetime.fromisoformat(row["recorded_at"]),
            as_of=dt.date.fromisoformat(row["as_of"]),
            plan_date=dt.date.fromisoformat(row["plan_date"]),
            dataset_name=row["dataset_name"],
            dataset_sha256=row["dataset_sha256"],
            library_version=row["library_version"],
            rulesets=rulesets,
            plugins=_PLUGINS.validate_json(row["plugins_json"]),
            options=RecommendOptions.model_validate_json(row["options_json"]),
            moves=row["moves"],
            result_sha256=row["result_sha256"],
            prev_hash=row["prev_hash"],
            record_hash=row["record_hash"],
            result_json=row["result_json"],
            dataset_blob=row["dataset_blob"],
        )
    except (ValueError, TypeError, KeyError) as exc:  # ValidationError is a ValueError
        raise AuditError(f"{where}: a stored field cannot be read ({exc}); run mutasi-rules audit verify") from exc


def _json_loads(text: str) -> Any:
    return json.loads(text)


def _refs(refs: Sequence[tuple[str, str, str, str]]) -> str:
    return ", ".join(f"{i} {v} ({o})" for i, v, o, _ in refs) or "none"


def _split_sql(script: str) -> list[str]:
    """Statements of :data:`_SCHEMA` (triggers contain ';' inside BEGIN ... END)."""
    statements, current = [], ""
    for line in script.strip().splitlines():
        current += line + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _create_log_file(path: Path) -> None:
    """Create a new, empty log atomically: build it in a temporary file beside ``path``, then link it into place.

    A process killed while creating leaves only the temporary file, never a half-made log
    at ``path``; when two processes create the same log, the first link wins and the other
    uses it. The file is owner-only: it holds personal data.
    """
    try:
        missing = [p for p in path.parents if not p.exists()]
        for folder in reversed(missing):  # new folders owner-only too
            with contextlib.suppress(FileExistsError):
                folder.mkdir(mode=PRIVATE_DIR_MODE)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".creating", dir=path.parent)
    except OSError as exc:
        raise AuditError(f"audit log {path}: cannot create it: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        db = sqlite3.connect(tmp, isolation_level=None)
        try:
            db.execute("BEGIN IMMEDIATE")
            # Statement by statement: executescript() would COMMIT the transaction first.
            for statement in _split_sql(_SCHEMA):
                db.execute(statement)
            db.execute("INSERT INTO meta (key, value) VALUES ('format', ?)", (LOG_FORMAT,))
            db.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            db.execute("COMMIT")
        finally:
            db.close()
        try:
            os.link(tmp, path)  # refuses to replace: a log created meanwhile by another process is kept
        except FileExistsError:
            return
        except OSError:  # a file system without hard links
            if path.exists():
                return
            os.rename(tmp, path)
        logger.info("created %s, readable by its owner only", path)
    except (OSError, sqlite3.Error) as exc:
        raise AuditError(f"audit log {path}: cannot create it: {exc}") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


# --------------------------------------------------------------------------- replay


@dataclass
class ReplayInputs:
    """A recorded run's inputs, ready for :func:`mutasi_rules.planning.recommendation.prepare` or ``recommend``.

    ``notes`` lists what differs from the recorded environment (plugin or library versions).
    """

    record: DecisionRecord
    dataset: Dataset
    options: RecommendOptions
    plugins: PluginManager | None
    rulesets: list[LoadedRuleSet]
    notes: list[str]


def replay_plugins(record: DecisionRecord) -> tuple[PluginManager | None, list[str]]:
    """Load exactly the recorded plugins, by name; raise :class:`ReplayError` if one is missing.

    A plugin's behaviour is code, not data: a version other than the recorded one is
    returned as a note (the replay may then differ). Rule sets are not taken from the
    plugins; the recorded ones are used.
    """
    if not record.options.use_plugins:
        return None, []
    names = [p.name for p in record.plugins]
    settings = record.options.plugins.model_copy(update={"only": names, "skip_broken": False})
    try:
        manager = load_plugins(settings, check_names=False)  # a missing recorded plugin is named below
    except PluginError as exc:
        raise ReplayError(f"run {record.run_id}: a recorded plugin cannot be loaded: {exc}") from exc
    notes: list[str] = []
    missing: list[str] = []
    for plugin in record.plugins:
        info = manager.infos.get(plugin.name)
        if info is None or info.status != "enabled":
            why = "not installed" if info is None else f"{info.status}: {info.reason}"
            missing.append(f"{plugin.name} {plugin.version} ({plugin.source}): {why}")
        elif info.version != plugin.version:
            notes.append(f"plugin {plugin.name}: recorded version {plugin.version}, installed {info.version}")
    if missing:
        raise ReplayError(f"run {record.run_id} cannot be replayed: recorded plugin(s) not available: "
                          + "; ".join(missing))
    return manager, notes


def replay_inputs(record: DecisionRecord) -> ReplayInputs:
    """Rebuild a recorded run's inputs: stored dataset and rule-set texts, the recorded plugins, options."""
    plugins, notes = replay_plugins(record)
    if record.library_version != __version__:
        notes.insert(0, f"library: recorded mutasi-rules {record.library_version}, running {__version__}")
    extensions = plugins.fact_attributes() if plugins else []
    try:
        rulesets = record.loaded_rulesets(extensions)
    except InputError as exc:
        raise ReplayError(f"run {record.run_id}: a stored rule set does not load: {exc}") from exc
    return ReplayInputs(record=record, dataset=record.dataset(), options=record.options, plugins=plugins,
                        rulesets=rulesets, notes=notes)


def replay(log: AuditLog, run_id: str) -> ReplayReport:
    """Re-run a recorded decision from its stored inputs and compare it with the stored result.

    Raises :class:`AuditError` for an unknown run id and :class:`ReplayError` when the run
    cannot be re-run (a recorded plugin is missing). The whole log is verified first: a
    record failing its integrity checks, or a log whose chain or head is broken, is replayed
    when its inputs can still be read, and reported as not verifiable.
    """
    record = log.get(run_id)
    # The chain first: a record rewritten with recomputed hashes is consistent in itself and
    # would replay "identical"; only the links to its neighbours and the head show the edit.
    chain = verify_with_reviews(log)
    integrity = [f"record integrity: {p}" for p in record_problems(log.raw(record.seq), None)]
    integrity += [f"log integrity: {p}" for p in chain.problems]
    try:
        inputs = replay_inputs(record)
    except ReplayError:
        raise
    except AuditError as exc:
        return ReplayReport(run_id=record.run_id, identical=False, verifiable=False,
                            recorded_sha256=record.result_sha256, replayed_sha256=None,
                            differences=[*integrity, f"cannot replay: {exc}"])
    decisions, parent_run_id, review_notes = recorded_review(log, record)
    try:
        replayed = recommend(inputs.dataset, inputs.options, plugins=inputs.plugins, rulesets=inputs.rulesets,
                             decisions=decisions, parent_run_id=parent_run_id)
    except (InputError, PluginError) as exc:
        raise ReplayError(f"run {record.run_id}: the replay failed: {exc}") from exc
    replayed_json = replayed.to_json(indent=None)
    replayed_sha = sha256_of(replayed_json)
    same = replayed_sha == record.result_sha256 and replayed_json == record.result_json
    differences = [*integrity, *inputs.notes, *review_notes]
    same = same and not review_notes
    if not same:
        differences += result_differences(_json_loads(record.result_json), _json_loads(replayed_json))
    return ReplayReport(run_id=record.run_id, identical=same and not integrity, verifiable=not integrity,
                        recorded_sha256=record.result_sha256, replayed_sha256=replayed_sha,
                        differences=differences, result=replayed)


def result_differences(recorded: Any, replayed: Any, *, limit: int = 12) -> list[str]:
    """A short human list of how two result JSON documents differ: moves added/removed, then JSON paths."""
    out: list[str] = []

    def moves(doc: Any) -> dict[tuple[str, str], Any]:
        items = doc.get("moves", []) if isinstance(doc, dict) else []
        return {(m.get("nip", "?"), (m.get("to") or {}).get("position_id", "?")): m
                for m in items if isinstance(m, dict)}

    before, after = moves(recorded), moves(replayed)
    out += [f"move removed: {nip} -> {pos}" for nip, pos in sorted(before.keys() - after.keys())]
    out += [f"move added: {nip} -> {pos}" for nip, pos in sorted(after.keys() - before.keys())]
    out += [f"move changed: {nip} -> {pos}" for nip, pos in sorted(before.keys() & after.keys())
            if before[(nip, pos)] != after[(nip, pos)]]
    paths = list(_json_paths(recorded, replayed, "$", limit + 1))
    if paths:
        out.append(f"first difference at {paths[0]}")
        out += [f"difference at {p}" for p in paths[1:limit]]
        if len(paths) > limit:
            out.append("... and more")
    return out[: limit * 2]


def _short(value: Any) -> str:
    text = canonical_json(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_paths(a: Any, b: Any, path: str, limit: int) -> Iterator[str]:
    """Paths where ``a`` and ``b`` differ, in document order (sorted keys), at most ``limit``."""
    found = 0
    stack: list[tuple[Any, Any, str]] = [(a, b, path)]
    while stack and found < limit:
        x, y, here = stack.pop()
        if x == y:
            continue
        if isinstance(x, dict) and isinstance(y, dict):
            for key in sorted(x.keys() | y.keys(), reverse=True):
                stack.append((x.get(key, _MISSING), y.get(key, _MISSING), f"{here}.{key}"))
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                found += 1
                yield f"{here}: recorded {len(x)} item(s), replayed {len(y)}"
                continue
            for index in reversed(range(len(x))):
                stack.append((x[index], y[index], f"{here}[{index}]"))
        else:
            found += 1
            left = "absent" if x is _MISSING else _short(x)
            right = "absent" if y is _MISSING else _short(y)
            yield f"{here}: recorded {left}, replayed {right}"


class _Missing:
    def __repr__(self) -> str:
        return "absent"


_MISSING: Any = _Missing()


# --------------------------------------------------------------------------- review decisions
#
# Review decisions are a second kind of record in the same file: table ``reviews``, its own
# hash chain (``prev_hash`` of the review before, 64 zeros for the first), each record
# bound to the run it reviews by that run's ``record_hash``. A changed, deleted or reordered
# review, or one pointing at a run that is not (or no longer) in the log, is found by
# :meth:`AuditLog.verify`. The table is created with the first review, so older logs stay
# readable by older versions (which ignore it).

REVIEW_FORMAT = "mutasi-rules.audit-review/1"
REVIEW_HASH_FIELDS: tuple[str, ...] = (
    "decisions_sha256", "format", "prev_hash", "recorded_at", "run_id", "run_record_hash", "seq",
)
_REVIEW_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    seq INTEGER PRIMARY KEY,
    review_id TEXT NOT NULL UNIQUE,
    run_id TEXT NOT NULL,
    run_record_hash TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    decisions_json TEXT NOT NULL,
    decisions_sha256 TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    record_hash TEXT NOT NULL UNIQUE
);
CREATE TRIGGER IF NOT EXISTS reviews_no_update BEFORE UPDATE ON reviews
BEGIN SELECT RAISE(ABORT, 'mutasi-rules review records are append-only: UPDATE refused'); END;
CREATE TRIGGER IF NOT EXISTS reviews_no_delete BEFORE DELETE ON reviews
BEGIN SELECT RAISE(ABORT, 'mutasi-rules review records are append-only: DELETE refused'); END;
"""
_REVIEW_COLUMNS = ("seq", "review_id", "run_id", "run_record_hash", "recorded_at", "decisions_json",
                   "decisions_sha256", "prev_hash", "record_hash")


@dataclass(frozen=True)
class ReviewRecord:
    """One recorded review: the decisions given on one run, in the order given."""

    review_id: str
    seq: int
    run_id: str
    run_record_hash: str
    recorded_at: str
    decisions: list[AppliedDecision]
    record_hash: str


def review_id_for(seq: int, record_hash: str) -> str:
    """``V<seq, 6 digits or more>-<first 10 hex digits of the review's record hash>``."""
    return f"V{seq:06d}-{record_hash[:10]}"


def review_hash_of(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of exactly :data:`REVIEW_HASH_FIELDS` (``format``: :data:`REVIEW_FORMAT`)."""
    values = {name: fields[name] for name in REVIEW_HASH_FIELDS if name != "format"}
    return sha256_of(canonical_json({**values, "format": REVIEW_FORMAT}))


def _review_record(row: Mapping[str, Any]) -> ReviewRecord:
    try:
        decisions = [AppliedDecision.model_validate({**d, "id": f"{row['review_id']}/{n}", "run_id": row["run_id"]})
                     for n, d in enumerate(_json_loads(row["decisions_json"]), start=1)]
    except (ValueError, TypeError) as exc:
        raise AuditError(f"review record seq {row['seq']} ({row['review_id']}): its decisions cannot be read "
                         f"({exc}); run mutasi-rules audit verify") from exc
    return ReviewRecord(review_id=row["review_id"], seq=row["seq"], run_id=row["run_id"],
                        run_record_hash=row["run_record_hash"], recorded_at=row["recorded_at"],
                        decisions=decisions, record_hash=row["record_hash"])


def _has_reviews(db: sqlite3.Connection) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'reviews'").fetchone() is not None


def append_review(log: AuditLog, run_id: str, decisions: Sequence[ReviewDecision]) -> ReviewRecord:
    """Record ``decisions`` on the run ``run_id`` (a new link in the review chain, bound to the run's hash)."""
    run = log.get(run_id)
    db = log._db
    decisions_json = canonical_json([d.model_dump(mode="json") for d in decisions])
    fields: dict[str, Any] = {
        "run_id": run.run_id,
        "run_record_hash": run.record_hash,
        "recorded_at": _timestamp(log.clock()),
        "decisions_json": decisions_json,
        "decisions_sha256": sha256_of(decisions_json),
    }
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split_sql(_REVIEW_SCHEMA):
                db.execute(statement)
            head = db.execute("SELECT seq, record_hash FROM reviews ORDER BY seq DESC LIMIT 1").fetchone()
            fields["seq"] = 1 if head is None else head[0] + 1
            fields["prev_hash"] = GENESIS_HASH if head is None else head[1]
            fields["record_hash"] = review_hash_of(fields)
            fields["review_id"] = review_id_for(fields["seq"], fields["record_hash"])
            db.execute(f"INSERT INTO reviews ({', '.join(_REVIEW_COLUMNS)}) "
                       f"VALUES ({', '.join('?' for _ in _REVIEW_COLUMNS)})", [fields[c] for c in _REVIEW_COLUMNS])
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('review_head_seq', ?)", (str(fields["seq"]),))
            db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('review_head_hash', ?)",
                       (fields["record_hash"],))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise AuditError(f"audit log {log.path}: cannot record the review: {exc}") from exc
    return _review_record(fields)


def reviews_of(log: AuditLog, run_ids: Sequence[str] | None = None) -> list[ReviewRecord]:
    """The recorded reviews (of the runs ``run_ids``, or all), in the order recorded."""
    db = log._db
    if not _has_reviews(db):
        return []
    where = ""
    params: tuple[str, ...] = ()
    if run_ids is not None:
        if not run_ids:
            return []
        where = f"WHERE run_id IN ({', '.join('?' for _ in run_ids)})"
        params = tuple(run_ids)
    try:
        rows = db.execute(f"SELECT {', '.join(_REVIEW_COLUMNS)} FROM reviews {where} ORDER BY seq", params).fetchall()
    except sqlite3.Error as exc:
        raise AuditError(f"audit log {log.path}: cannot read reviews: {exc}") from exc
    return [_review_record(dict(zip(_REVIEW_COLUMNS, row, strict=True))) for row in rows]


def review_problems(log: AuditLog) -> list[tuple[int, str, str]]:
    """Integrity problems of the review chain: (seq, review id, reason), in sequence order."""
    db = log._db
    if not _has_reviews(db):
        return []
    problems: list[tuple[int, str, str]] = []
    runs = dict(db.execute("SELECT run_id, record_hash FROM records").fetchall())
    expected, prev, last = 1, GENESIS_HASH, None
    for row in db.execute(f"SELECT {', '.join(_REVIEW_COLUMNS)} FROM reviews ORDER BY seq"):
        fields = dict(zip(_REVIEW_COLUMNS, row, strict=True))
        seq, rid = fields["seq"], fields["review_id"]
        if seq != expected:
            problems.append((seq, rid, f"review seq {seq} follows review seq {expected - 1} (deleted or reordered)"))
        if fields["prev_hash"] != prev:
            problems.append((seq, rid, "prev_hash is not the previous review's hash"))
        text = fields["decisions_json"]
        if not isinstance(text, str) or sha256_of(text) != fields["decisions_sha256"]:
            problems.append((seq, rid, "decisions_json does not match decisions_sha256 (a decision was changed "
                                       "after it was recorded)"))
        if fields["record_hash"] != review_hash_of(fields):
            problems.append((seq, rid, "record_hash is not the hash of the review's fields"))
        if rid != review_id_for(seq, fields["record_hash"]):
            problems.append((seq, rid, "review_id does not match seq and record_hash"))
        if runs.get(fields["run_id"]) != fields["run_record_hash"]:
            problems.append((seq, rid, f"the reviewed run {fields['run_id']} is not in the log with the hash the "
                                       "review recorded"))
        expected, prev, last = seq + 1, fields["record_hash"], (seq, fields["record_hash"])
    meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
    head = (meta.get("review_head_seq"), meta.get("review_head_hash"))
    if head != ((str(last[0]), last[1]) if last else (None, None)):
        problems.append(((last[0] if last else 0) + 1, "",
                         f"the review chain ends at seq {last[0] if last else 0} but its head (meta) is seq {head[0]}: "
                         "reviews at the end were removed, or the head was changed"))
    return problems


def recorded_review(log: AuditLog, record: DecisionRecord) -> tuple[list[AppliedDecision], str | None, list[str]]:
    """The review decisions a recorded re-plan honoured and its parent run, as its result names them.

    Each decision is checked against the review log: one that is not recorded there, or
    differs from what was recorded, is returned as a note (the replay is then not identical).
    """
    run = _json_loads(record.result_json).get("run", {})
    decisions = [AppliedDecision.model_validate(d) for d in run.get("review_decisions", [])]
    if not decisions:
        return [], run.get("parent_run_id"), []
    recorded = {d.id: d for review in reviews_of(log) for d in review.decisions}
    notes = [f"review decision {d.id} named by the result is not in the review log as recorded"
             for d in decisions if recorded.get(d.id) != d]
    return decisions, run.get("parent_run_id"), notes


def verify_with_reviews(log: AuditLog, expect_head: str | None = None) -> VerifyReport:
    """:meth:`AuditLog.verify` of the runs (with the ``expect_head`` anchor), then the review chain:
    every problem, first bad record first."""
    with log.snapshot():
        report = log.verify(expect_head=expect_head)
        found = review_problems(log)
    if not found:
        return report
    lines = [f"review seq {s}{' (' + r + ')' if r else ''}: {why}" for s, r, why in found]
    if not report.ok:
        return VerifyReport(ok=False, records=report.records, first_bad=report.first_bad,
                            first_bad_run_id=report.first_bad_run_id, reason=report.reason,
                            problems=[*report.problems, *lines], warnings=report.warnings,
                            head_hash=report.head_hash)
    seq, rid, why = found[0]
    return VerifyReport(ok=False, records=report.records, first_bad=None, first_bad_run_id=rid or None,
                        reason=f"review seq {seq}: {why}", problems=lines, warnings=report.warnings,
                        head_hash=report.head_hash)


__all__ = [
    "ENV_AUDIT_DB",
    "HASH_FIELDS",
    "REVIEW_FORMAT",
    "AuditError",
    "AuditLog",
    "DecisionRecord",
    "RecordSummary",
    "ReplayError",
    "ReplayInputs",
    "ReplayReport",
    "ReviewRecord",
    "RuleSetRecord",
    "TamperedLogError",
    "UnknownRun",
    "VerifyReport",
    "append_review",
    "default_audit_path",
    "hash_input",
    "open_verified_record",
    "record_hash_of",
    "record_problems",
    "replay",
    "replay_inputs",
    "replay_plugins",
    "result_differences",
    "review_id_for",
    "review_problems",
    "reviews_of",
    "run_id_for",
    "run_inputs",
    "verified_record",
    "verify_with_reviews",
]
