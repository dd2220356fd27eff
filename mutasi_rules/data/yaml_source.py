"""YAML read with file:line:column for every value: rule files, rule tests and scenario files.

PyYAML's SafeLoader only (no tag constructs an object), composed to a node tree first so
that every value -- and every character of a rule's ``when`` expression -- maps back to
its line and column. ``prefix`` names the kind of file in problem codes (``rulefile.yaml``,
``scenario.invalid``...).
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

import yaml
from pydantic import ValidationError

from mutasi_rules.core import limits
from mutasi_rules.problems import Problems
from mutasi_rules.rules.language.checker import did_you_mean

MAX_YAML_VALUES = 200_000  # aliases can make a small file a huge tree; refuse, do not hang

YamlPath = tuple[str | int, ...]


class YamlSource:
    """The text of one rule file and the YAML nodes of every value in it."""

    def __init__(self, text: str, origin: str) -> None:
        self.text = text
        self.origin = origin
        self.line_starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        # path -> (key node or None for the root / list items, value node)
        self.nodes: dict[YamlPath, tuple[yaml.Node | None, yaml.Node]] = {}

    def position(self, index: int) -> tuple[int, int]:
        """1-based (line, column) of a character index of the text."""
        index = max(0, min(index, len(self.text)))
        line = bisect.bisect_right(self.line_starts, index) - 1
        return line + 1, index - self.line_starts[line] + 1

    def locate(self, path: YamlPath, *, key: bool = True) -> tuple[int | None, int | None]:
        """Position of the deepest known prefix of ``path`` (its key, if it has one)."""
        for cut in range(len(path), -1, -1):
            found = self.nodes.get(path[:cut])
            if found is None:
                continue
            key_node, value_node = found
            node = key_node if (key and key_node is not None and cut == len(path)) else value_node
            return node.start_mark.line + 1, node.start_mark.column + 1
        return None, None

    def value_offsets(self, path: YamlPath) -> list[int] | None:
        """For a scalar, the text index of each character of its value (best effort)."""
        found = self.nodes.get(path)
        if found is None or not isinstance(found[1], yaml.ScalarNode):
            return None
        return align_scalar(self.text, found[1])


def align_scalar(text: str, node: yaml.ScalarNode) -> list[int]:
    """Map each character of a scalar's value to its index in the source text.

    Plain and quoted scalars on one line map exactly; folded lines, escapes and block
    scalars are aligned greedily (each value character is matched to the next equal
    source character, whitespace to whitespace), which is exact for expressions that do
    not contain escapes.
    """
    value: str = node.value
    start, end = node.start_mark.index, node.end_mark.index
    p = start
    if node.style in ("'", '"'):
        p += 1
    elif node.style in ("|", ">"):
        newline = text.find("\n", start, end)
        p = end if newline < 0 else newline + 1
    offsets: list[int] = []
    for ch in value:
        q = p
        if ch.isspace():
            while q < end and not text[q].isspace():
                q += 1
        else:
            while q < end and text[q] != ch:
                q += 1
        if q >= end:  # not found (escape sequences): stay where we are
            offsets.append(min(p, max(start, end - 1)))
            continue
        offsets.append(q)
        p = q + 1
    return offsets


def compose(text: str, source: YamlSource, problems: Problems, prefix: str = "rulefile") -> Any:
    """Parse YAML safely into plain data and record every node's position.

    ``prefix`` starts the problem codes (``rulefile.yaml``...): other YAML inputs located
    the same way (scenario files) report under their own name.
    """
    what = "rule file" if prefix == "rulefile" else f"{prefix} file"
    try:
        loader = yaml.SafeLoader(text)  # the reader refuses control characters here, before any parsing
    except yaml.YAMLError as exc:
        problems.error(f"{prefix}.yaml", f"not valid YAML text: {exc}", file=source.origin)
        return None
    try:
        with limits.nesting_guard():
            root = loader.get_single_node()
        if root is None:
            problems.error(f"{prefix}.empty", "the file is empty", file=source.origin)
            return None
        limits.check_yaml_node(root)  # before constructing: an alias bomb is refused, not expanded
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"{exc.context + ': ' if exc.context else ''}{exc.problem or exc}"
        if isinstance(exc, yaml.constructor.ConstructorError) and "constructor for the tag" in str(exc.problem):
            message = f"YAML tag not allowed in a {what} ({what}s are plain data): {exc.problem}"
        problems.error(
            f"{prefix}.yaml",
            message,
            file=source.origin,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        )
        return None
    except yaml.YAMLError as exc:
        problems.error(f"{prefix}.yaml", f"not valid YAML: {exc}", file=source.origin)
        return None
    except limits.LimitExceeded as exc:
        problems.error(f"{prefix}.too_large", str(exc), file=source.origin)
        return None
    finally:
        loader.dispose()
    if not index_nodes(root, source, problems, prefix):
        return None
    return data


def index_nodes(root: yaml.Node, source: YamlSource, problems: Problems, prefix: str = "rulefile") -> bool:
    """Record the node of every value path; report duplicate keys. False when too large."""
    stack: list[tuple[YamlPath, yaml.Node | None, yaml.Node]] = [((), None, root)]
    seen = 0
    while stack:
        path, key_node, node = stack.pop()
        seen += 1
        if seen > MAX_YAML_VALUES:
            problems.error(
                f"{prefix}.too_large",
                f"the file expands to more than {MAX_YAML_VALUES} values (YAML aliases?)",
                file=source.origin,
            )
            return False
        source.nodes.setdefault(path, (key_node, node))
        if isinstance(node, yaml.MappingNode):
            keys: set[str] = set()
            for k, v in node.value:
                name = str(k.value) if isinstance(k, yaml.ScalarNode) else repr(k.value)
                if name in keys:
                    problems.error(
                        f"{prefix}.duplicate_key",
                        f"key {name!r} appears twice in the same mapping",
                        file=source.origin,
                        line=k.start_mark.line + 1,
                        column=k.start_mark.column + 1,
                        field=dotted((*path, name)),
                    )
                keys.add(name)
                stack.append(((*path, name), k, v))
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                stack.append(((*path, i), None, item))
    return True


def dotted(path: Sequence[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def scalar_value(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, dt.date)) or value is None else None


def pydantic_problems(exc: ValidationError, source: YamlSource, problems: Problems,
                       code: str = "rulefile.invalid") -> None:
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        message = error["msg"]
        if error["type"] == "missing":
            line, column = source.locate(loc[:-1], key=False)
            message = f"required key {loc[-1]!r} is missing" if loc else message
        else:
            line, column = source.locate(loc)
        if error["type"] == "extra_forbidden" and loc:
            message = f"unknown key {loc[-1]!r}"
        elif error["type"] == "string_type" and isinstance(error.get("input"), (int, float)):
            message += " (quote the value in YAML: it was read as a number)"
        elif error["type"] in ("literal_error", "enum") and isinstance(error.get("input"), str):
            allowed = re.findall(r"'([^']*)'", str((error.get("ctx") or {}).get("expected", "")))
            message += did_you_mean(error["input"], allowed, quote="'")
        elif message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        problems.error(
            code,
            message,
            file=source.origin,
            line=line,
            column=column,
            field=dotted(loc) or None,
            value=scalar_value(error.get("input")),
        )
