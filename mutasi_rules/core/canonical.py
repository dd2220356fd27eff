"""Canonical JSON and hashing: the basis of byte-identical output and of audit hashes."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import typing
from collections.abc import Iterator
from enum import Enum
from typing import Any

from pydantic import BaseModel, TypeAdapter

#: Text is hashed in slices of this many characters, so a large document is never encoded whole.
_SLICE = 1 << 20


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


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_default)


@functools.lru_cache(maxsize=64)
def _streamable(model: type[BaseModel]) -> dict[str, TypeAdapter[Any]] | None:
    """For a model whose JSON is its fields' JSON under their names: the item adapter of each list field.

    ``None`` when the model's dump is not simply its fields (computed fields, excluded
    fields, serialisation by alias, a model serialiser): those are dumped whole.
    """
    schema = model.__pydantic_core_schema__
    custom = "serialization" in schema or "serialization" in schema.get("schema", {})  # a model serialiser
    if model.model_computed_fields or model.model_config.get("serialize_by_alias") or custom:
        return None
    adapters: dict[str, TypeAdapter[Any]] = {}
    for name, field in model.model_fields.items():
        if field.exclude or field.serialization_alias:
            return None
        if typing.get_origin(field.annotation) is list:
            (item,) = typing.get_args(field.annotation)
            adapters[name] = TypeAdapter(item)
    return adapters


def canonical_json_parts(value: Any) -> Iterator[str]:
    """The canonical JSON of ``value`` (no indent) in pieces that join to :func:`canonical_json`.

    A model's list fields are dumped one item at a time, each serialised by the field's item
    type as the whole dump would: a dataset of 100,000 employees is never one tree of dicts
    (that tree cost 0.5 GB at the pipeline's peak).
    """
    adapters = _streamable(type(value)) if isinstance(value, BaseModel) else None
    if adapters is None:
        yield canonical_json(value)
        return
    yield "{"
    for index, name in enumerate(sorted(type(value).model_fields)):
        yield ("," if index else "") + json.dumps(name, ensure_ascii=False) + ":"
        adapter = adapters.get(name)
        if adapter is None:
            yield _dumps(value.model_dump(mode="json", include={name})[name])
            continue
        yield "["
        for position, item in enumerate(getattr(value, name)):
            yield ("," if position else "") + _dumps(adapter.dump_python(item, mode="json"))
        yield "]"
    yield "}"


def canonical_json(value: Any, *, indent: int | None = None) -> str:
    """Sorted keys, no ASCII escaping, fixed separators: same value, same text."""
    if isinstance(value, BaseModel):
        if indent is None and _streamable(type(value)):
            return "".join(canonical_json_parts(value))
        value = value.model_dump(mode="json")
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=separators, indent=indent, default=_default)


def sha256_of(value: Any) -> str:
    """Hex SHA-256 of the canonical JSON of ``value`` (or of raw bytes/text)."""
    digest = hashlib.sha256()
    if isinstance(value, bytes):
        digest.update(value)
    elif isinstance(value, str):
        for start in range(0, len(value), _SLICE):  # a slice of characters encodes on its own
            digest.update(value[start:start + _SLICE].encode("utf-8"))
    else:
        for part in canonical_json_parts(value):
            digest.update(part.encode("utf-8"))
    return digest.hexdigest()


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
