"""Canonical JSON and hashing: the basis of byte-identical output and of audit hashes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from enum import Enum
from typing import Any

from pydantic import BaseModel


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical_json(value: Any, *, indent: int | None = None) -> str:
    """Sorted keys, no ASCII escaping, fixed separators: same value, same text."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=separators, indent=indent, default=_default)


def sha256_of(value: Any) -> str:
    """Hex SHA-256 of the canonical JSON of ``value`` (or of raw bytes/text)."""
    if isinstance(value, bytes):
        data = value
    elif isinstance(value, str):
        data = value.encode("utf-8")
    else:
        data = canonical_json(value).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


#: The date every member of a zip this library writes carries (an office file is a zip).
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def canonical_zip(data: bytes) -> bytes:
    """A zip (.xlsx, .docx) re-packed with a fixed date and mode on every member: same content, same bytes."""
    import io
    import zipfile

    clean = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(clean, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=ZIP_EPOCH)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o600 << 16
            target.writestr(member, source.read(info.filename))
    return clean.getvalue()
