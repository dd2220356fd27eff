"""Datasets kept by id: uploads read and checked once, then named by their canonical SHA-256.

The HTTP service (and later the web application) receives a dataset as a JSON document, an
``.xlsx`` workbook or a ``.zip`` of table files (CSV, one per table). :func:`read_upload` reads
any of them with the same loader as files on disk (:func:`mutasi_rules.data.loading.validate_dataset`),
so the problems are the same, with the same codes, rows and fields; file names in problems
are the names the client sent, never a path on the server.

A zip is unpacked safely: only regular files, by their base name (no path is ever
followed), at most ``max_members`` of them, at most ``max_unpacked_bytes`` in all, counted
while reading (the sizes a zip declares are not trusted).

:class:`DatasetStore` keeps checked datasets as canonical JSON files named by their SHA-256
in an owner-only folder (0700, files 0600: they hold names, NIPs and birth dates), and the
most recently used ones parsed in memory.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import stat
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, ValidationError

from mutasi_rules.core.atomic import write_text
from mutasi_rules.core.canonical import canonical_json, sha256_of
from mutasi_rules.data.models import Dataset
from mutasi_rules.hosting.access import private_directory
from mutasi_rules.problems import Problems

UploadKind = str  # "json" | "yaml" | "xlsx" | "zip"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SAFE_NAME = re.compile(r"[^0-9A-Za-z._-]")
_CHUNK = 1 << 16


@dataclass(frozen=True)
class UploadLimits:
    max_members: int = 64
    max_unpacked_bytes: int = 256 * 1024 * 1024


class DatasetSummary(BaseModel):
    """What a list of datasets shows, kept beside each stored dataset so listing parses none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    as_of: dt.date
    units: int
    positions: int
    employees: int

    @classmethod
    def of(cls, dataset: Dataset) -> DatasetSummary:
        return cls(name=dataset.metadata.name, as_of=dataset.metadata.as_of, units=len(dataset.units),
                   positions=len(dataset.positions), employees=len(dataset.employees))


@dataclass(frozen=True)
class StoredDataset:
    """A checked dataset and its id (SHA-256 of its canonical JSON)."""

    id: str
    dataset: Dataset


def upload_kind(filename: str, content_type: str | None = None) -> UploadKind | None:
    """What an upload is, by its file name's extension (then by its content type)."""
    suffix = PurePosixPath(filename).suffix.lower()
    kinds = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".xlsx": "xlsx", ".zip": "zip"}
    if suffix in kinds:
        return kinds[suffix]
    by_type = {
        "application/json": "json",
        "application/zip": "zip",
        "application/x-zip-compressed": "zip",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
        "application/yaml": "yaml",
    }
    return by_type.get((content_type or "").split(";")[0].strip().lower())


def _safe_name(name: str, fallback: str) -> str:
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = _SAFE_NAME.sub("_", base).lstrip(".")
    return cleaned or fallback


@contextmanager
def _workspace(parent: str | os.PathLike[str] | None) -> Iterator[Path]:
    """An owner-only temporary folder (under ``parent`` if given), removed afterwards."""
    if parent is not None:
        private_directory(parent)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=parent))  # mkdtemp makes it 0700
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _unzip(data_path: Path, target: Path, upload_name: str, limits: UploadLimits, problems: Problems) -> bool:
    """Unpack the regular files of a zip into ``target`` by base name; False (with problems) if refused."""
    try:
        archive = zipfile.ZipFile(data_path)
    except (zipfile.BadZipFile, OSError) as exc:
        problems.error("upload.bad_zip", f"not a readable zip archive: {exc}", file=upload_name)
        return False
    with archive:
        members = [m for m in archive.infolist()
                   if not m.is_dir() and not PurePosixPath(m.filename).name.startswith(".")
                   and not m.filename.startswith("__MACOSX/")]
        if len(members) > limits.max_members:
            problems.error("upload.too_many_files",
                           f"the archive holds {len(members)} files; the limit is {limits.max_members}",
                           file=upload_name, value=len(members))
            return False
        total = 0
        seen: dict[str, str] = {}
        for member in members:
            kind = stat.S_IFMT(member.external_attr >> 16)  # 0: no type recorded (Windows, writestr)
            if kind and kind != stat.S_IFREG:
                problems.error("upload.not_a_file", "the archive entry is not a regular file (a link?) and is refused",
                               file=f"{upload_name}/{member.filename}", value=member.filename)
                return False
            name = _safe_name(member.filename, "table")
            if name in seen:
                problems.error("upload.duplicate_name",
                               f"two archive entries have the file name {name}: {seen[name]} and {member.filename}",
                               file=upload_name, value=member.filename)
                return False
            seen[name] = member.filename
            try:
                with archive.open(member) as source, open(target / name, "xb") as sink:
                    while chunk := source.read(_CHUNK):
                        total += len(chunk)
                        if total > limits.max_unpacked_bytes:
                            problems.error("upload.too_large",
                                           f"the archive unpacks to more than {limits.max_unpacked_bytes} bytes",
                                           file=upload_name, value=total)
                            return False
                        sink.write(chunk)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, OSError,
                    EOFError, ValueError) as exc:
                problems.error("upload.bad_zip", f"cannot unpack {member.filename}: {exc}", file=upload_name,
                               value=member.filename)
                return False
    if not seen:
        problems.error("upload.empty", "the archive holds no table files", file=upload_name)
        return False
    return True


def _renamed(problems: Problems, folder: Path, upload_name: str) -> Problems:
    """Problems naming the client's file names instead of the temporary folder's paths."""
    prefix = str(folder)

    def name(file: str | None) -> str | None:
        if file is None or not file.startswith(prefix):
            return file
        rest = file[len(prefix):].lstrip("/")
        if rest.startswith("tables"):
            rest = rest[len("tables"):].lstrip("/")
            return f"{upload_name}/{rest}" if rest else upload_name
        return upload_name

    def text(message: str) -> str:  # an exception's text quoted in a message may hold the temporary path
        return (message.replace(f"{prefix}/tables/", f"{upload_name}/").replace(f"{prefix}/tables", upload_name)
                .replace(f"{prefix}/", "").replace(prefix, upload_name))

    return Problems(p.model_copy(update={"file": name(p.file), "message": text(p.message)}) for p in problems)


def read_upload(data: bytes, filename: str, *, kind: UploadKind | None = None,
                limits: UploadLimits = UploadLimits(),
                workspace: str | os.PathLike[str] | None = None) -> tuple[Dataset | None, Problems]:
    """Read and check an uploaded dataset: the dataset (None when it has errors) and every problem.

    ``kind``: json, yaml, xlsx or zip (default: from ``filename``). ``workspace``: where the
    temporary owner-only folder is made (default: the system's temporary folder).
    """
    upload_name = _safe_name(filename, "upload")
    kind = kind or upload_kind(filename)
    problems = Problems()
    if kind not in ("json", "yaml", "xlsx", "zip"):
        problems.error("upload.format", "a dataset upload is a .json, .yaml, .xlsx or .zip (of CSV tables) file",
                       file=upload_name, value=PurePosixPath(filename).suffix or None)
        return None, problems
    from mutasi_rules.data.loading import validate_dataset

    with _workspace(workspace) as folder:
        if kind == "zip":
            archive = folder / "upload.zip"
            archive.write_bytes(data)
            tables = folder / "tables"
            tables.mkdir(mode=0o700)
            if not _unzip(archive, tables, upload_name, limits, problems):
                return None, problems
            target = tables
        else:
            target = folder / f"upload.{'yaml' if kind == 'yaml' else kind}"
            target.write_bytes(data)
        dataset, found = validate_dataset(target)
        return dataset, _renamed(found, folder, upload_name)


class UnknownDataset(LookupError):
    """No stored dataset has this id."""


class DatasetStore:
    """Checked datasets by id in an owner-only folder; the ``memory`` most recent kept parsed."""

    def __init__(self, folder: str | os.PathLike[str], *, memory: int = 4) -> None:
        self.folder = private_directory(folder)
        self._memory = max(memory, 1)
        self._parsed: OrderedDict[str, Dataset] = OrderedDict()
        self._lock = threading.Lock()

    def _path(self, ident: str) -> Path:
        if not _SHA256.match(ident):
            raise UnknownDataset(ident)
        return self.folder / f"{ident}.json"

    def _remember(self, ident: str, dataset: Dataset) -> None:
        with self._lock:
            self._parsed[ident] = dataset
            self._parsed.move_to_end(ident)
            while len(self._parsed) > self._memory:
                self._parsed.popitem(last=False)

    def put(self, dataset: Dataset) -> StoredDataset:
        """Store a checked dataset (idempotent: the same dataset has the same id)."""
        text = canonical_json(dataset)
        ident = sha256_of(text)
        path = self._path(ident)
        if not path.exists():
            # The summary first: a dataset file is never listed without one for long.
            self._write_summary(ident, DatasetSummary.of(dataset))
            write_text(path, text)  # owner-only (0600), as every atomic output
        self._remember(ident, dataset)
        return StoredDataset(ident, dataset)

    def _summary_path(self, ident: str) -> Path:
        return self._path(ident).with_suffix(".summary.json")

    def _write_summary(self, ident: str, summary: DatasetSummary) -> None:
        write_text(self._summary_path(ident), summary.model_dump_json())

    def summary(self, ident: str) -> DatasetSummary:
        """Name, date and sizes of a stored dataset, without parsing it (once written).

        A store written before summaries existed, or a summary lost or damaged, is mended from
        the dataset itself on first use.
        """
        try:
            return DatasetSummary.model_validate_json(self._summary_path(ident).read_bytes())
        except (FileNotFoundError, ValidationError):
            summary = DatasetSummary.of(self.get(ident).dataset)
            self._write_summary(ident, summary)
            return summary

    def get(self, ident: str) -> StoredDataset:
        """A stored dataset; raises :class:`UnknownDataset`."""
        with self._lock:
            cached = self._parsed.get(ident)
            if cached is not None:
                self._parsed.move_to_end(ident)
                return StoredDataset(ident, cached)
        path = self._path(ident)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UnknownDataset(ident) from None
        dataset = Dataset.model_validate_json(text)
        self._remember(ident, dataset)
        return StoredDataset(ident, dataset)

    def ids(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json") if _SHA256.match(p.stem))

    def __contains__(self, ident: object) -> bool:
        return isinstance(ident, str) and bool(_SHA256.match(ident)) and (self.folder / f"{ident}.json").exists()


__all__ = [
    "DatasetStore",
    "DatasetSummary",
    "StoredDataset",
    "UnknownDataset",
    "UploadLimits",
    "read_upload",
    "upload_kind",
]
