"""Resource limits on untrusted input, checked before the input is expanded or read whole.

A 1 MB spreadsheet can hold 285 MB of sheet XML, a 600-byte YAML text can expand to billions
of values through aliases, and a JSON file can nest 100,000 levels deep. Each is refused
with a clear, located problem instead of a hang, an exhausted memory or a traceback.

Every limit has a generous default (far above any real dataset) and can be raised through
an environment variable, ``MUTASI_RULES_LIMIT_<NAME>`` (see docs/data-format.md, "Limits"):

========================  =====================  ===============================================
name                      default                what
========================  =====================  ===============================================
XLSX_UNCOMPRESSED_MB      256                    uncompressed size of all parts of one .xlsx
TEXT_FILE_MB              1024                   size of one .csv / .json / .yaml file
ROWS                      1048576                data rows of one table (Excel's own maximum)
COLUMNS                   1024                   columns of one sheet
CELL_CHARS                32767                  characters in one cell (Excel's own maximum)
YAML_ALIAS_NODES          1000000                values YAML aliases may add by repetition
NESTING                   64                     nesting depth of a JSON or YAML document
PLUGIN_HOOK_SECONDS       60                     time one plugin hook call may take
========================  =====================  ===============================================
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import yaml

ENV_PREFIX = "MUTASI_RULES_LIMIT_"


class LimitExceeded(ValueError):
    """An input is larger (or deeper) than a limit allows; the message names the limit and how to raise it."""


@dataclass(frozen=True)
class Limits:
    xlsx_uncompressed_mb: int = 256
    text_file_mb: int = 1024
    rows: int = 1_048_576
    columns: int = 1024
    cell_chars: int = 32_767
    yaml_alias_nodes: int = 1_000_000
    nesting: int = 64
    plugin_hook_seconds: int = 60

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, each overridden by ``MUTASI_RULES_LIMIT_<NAME>`` when set (a positive integer)."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or not raw.strip():
                continue
            try:
                value = int(raw.strip())
            except ValueError:
                raise LimitExceeded(f"{ENV_PREFIX}{f.name.upper()}={raw!r} is not a whole number") from None
            if value < 1:
                raise LimitExceeded(f"{ENV_PREFIX}{f.name.upper()}={raw!r} must be 1 or more")
            values[f.name] = value
        return cls(**values)


def current() -> Limits:
    """The limits in force now (the environment is read on each call: tests and services may change it)."""
    return Limits.from_environment()


def how_to_raise(name: str) -> str:
    return f"raise it with the environment variable {ENV_PREFIX}{name.upper()} if the input is genuine"


# --------------------------------------------------------------------------- YAML


def check_yaml_node(root: yaml.Node | None, limits: Limits | None = None) -> None:
    """Refuse a composed YAML document whose aliases expand too far, refer to themselves, or nest too deep.

    Runs on the node graph *before* it is constructed into Python data: an alias is one
    shared node there, so the check costs one pass over the distinct nodes however far the
    aliases would expand. Raises :class:`LimitExceeded`.
    """
    if root is None:
        return
    lim = limits or current()
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative post-order walk (a deep document must not exhaust the Python stack).
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            on_path.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            if depth[key] > lim.nesting:
                raise LimitExceeded(f"the document nests deeper than {lim.nesting} levels "
                                    f"(line {node.start_mark.line + 1}); {how_to_raise('nesting')}")
            continue
        if key in size:
            continue
        if key in on_path:
            raise LimitExceeded(f"a YAML alias refers to the value that contains it (line {node.start_mark.line + 1}): "
                                "an endless document")
        on_path.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) not in size:
                stack.append((child, False))
    distinct = len(size)
    added = size[id(root)] - distinct
    if added > lim.yaml_alias_nodes:
        raise LimitExceeded(f"YAML aliases expand the document by {added:,} values, more than the limit of "
                            f"{lim.yaml_alias_nodes:,} (an alias bomb?); {how_to_raise('yaml_alias_nodes')}")


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


@contextmanager
def nesting_guard() -> Iterator[None]:
    """Turn a RecursionError of a parser (JSON or YAML nested thousands deep) into :class:`LimitExceeded`."""
    try:
        yield
    except RecursionError:
        raise LimitExceeded(f"the document nests too deeply to read; {how_to_raise('nesting')}") from None


def safe_yaml_load(text: str, loader: type[Any] | None = None, limits: Limits | None = None) -> Any:
    """``yaml.safe_load`` with :func:`check_yaml_node` between composing and constructing.

    Raises :class:`LimitExceeded` (too large or deep) or ``yaml.YAMLError`` (not YAML).
    """
    # The C loader when PyYAML was built with libyaml (the stubs declare it possibly None).
    factory: type[Any] = loader or getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
    instance = factory(text)
    try:
        with nesting_guard():
            node = instance.get_single_node()
        check_yaml_node(node, limits)
        return instance.construct_document(node) if node is not None else None
    finally:
        instance.dispose()


# --------------------------------------------------------------------------- JSON-like data


def check_nesting(data: Any, limits: Limits | None = None) -> None:
    """Refuse parsed JSON data nested deeper than the limit (iteratively: no recursion on hostile data)."""
    lim = limits or current()
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        children: Iterable[Any]
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if level > lim.nesting:
            raise LimitExceeded(f"the document nests deeper than {lim.nesting} levels; {how_to_raise('nesting')}")
        stack.extend((child, level + 1) for child in children if isinstance(child, dict | list))


__all__ = [
    "ENV_PREFIX",
    "LimitExceeded",
    "Limits",
    "check_nesting",
    "check_yaml_node",
    "current",
    "how_to_raise",
    "nesting_guard",
    "safe_yaml_load",
]
