"""Problems found in input (data files, rule files, plugins), collected rather than raised one by one.

Every problem names where it is (file, line/column or record), which field, the bad
value and why it is bad, so that a person can fix all of them in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mutasi_rules.errors import MutasiRulesError

Severity = Literal["error", "warning"]

#: A value echoed in a problem is cut to this many characters: a 100,000-character cell must
#: not become a 100,000-character error line.
MAX_VALUE_CHARS = 200
#: Messages are cut too (they may quote a value, e.g. a parser's own message).
MAX_MESSAGE_CHARS = 2_000


def shorten(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` when short; else its start, an ellipsis and its full length."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 40]}... ({len(text):,} characters in all)"


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    severity: Severity = "error"
    code: str = Field(description="Stable machine-readable kind, e.g. 'nip.invalid', 'rule.unknown_field'")
    message: str = Field(description="Why the value is bad, in English")
    file: str | None = None
    line: int | None = Field(default=None, description="1-based line (text files)")
    column: int | None = Field(default=None, description="1-based column (text files)")
    record: str | None = Field(default=None, description="Row number, record index or id")
    field: str | None = None
    value: Any = None

    @field_validator("value")
    @classmethod
    def _short_value(cls, value: Any) -> Any:
        if isinstance(value, str):
            return shorten(value)
        if isinstance(value, bytes | bytearray):
            return shorten(repr(bytes(value[:MAX_VALUE_CHARS])), MAX_VALUE_CHARS) if len(value) > 60 else value
        if isinstance(value, list | tuple | dict | set):
            if len(value) > MAX_VALUE_CHARS:
                return f"<{type(value).__name__} of {len(value):,} items>"
            text = repr(value)
            return shorten(text) if len(text) > MAX_VALUE_CHARS else value
        return value

    @field_validator("message", "record", "field")
    @classmethod
    def _short_text(cls, text: str | None) -> str | None:
        return shorten(text, MAX_MESSAGE_CHARS) if text is not None else None

    def location(self) -> str:
        parts = []
        if self.file:
            where = self.file
            if self.line is not None:
                where += f":{self.line}"
                if self.column is not None:
                    where += f":{self.column}"
            parts.append(where)
        if self.record:
            parts.append(self.record)
        if self.field:
            parts.append(f"field {self.field!r}")
        return ", ".join(parts) or "<input>"

    def __str__(self) -> str:
        text = f"{self.location()}: {self.severity}: {self.message}"
        if self.value is not None:
            text += f" (value: {self.value!r})"
        return text


class Problems:
    """An ordered collection of problems."""

    def __init__(self, items: Iterable[Problem] = ()) -> None:
        self._items: list[Problem] = list(items)

    def add(self, problem: Problem) -> None:
        self._items.append(problem)

    def error(self, code: str, message: str, **where: Any) -> None:
        self._items.append(Problem(severity="error", code=code, message=message, **where))

    def warning(self, code: str, message: str, **where: Any) -> None:
        self._items.append(Problem(severity="warning", code=code, message=message, **where))

    def extend(self, problems: Iterable[Problem]) -> None:
        self._items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self._items if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self._items if p.severity == "warning"]

    def __iter__(self) -> Iterator[Problem]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_errors(self, what: str) -> None:
        if self.errors:
            raise InputError(what, list(self._items))


class InputError(MutasiRulesError):
    """Raised with every problem found, never just the first (exit code 1).

    ``problems`` may be empty when the whole input is the problem (e.g. an unknown run id):
    then the message is ``what`` alone.
    """

    kind = "input"
    code = "input.invalid"

    def __init__(self, what: str, problems: list[Problem] | None = None, *, code: str | None = None) -> None:
        self.what = what
        self.problems = list(problems or [])
        if not self.problems:
            super().__init__(what, code=code)
            return
        errors = [p for p in self.problems if p.severity == "error"]
        lines = "\n".join(f"  {p}" for p in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(f"{what}: {len(errors)} error(s)\n{lines}{more}", code=code)


ERROR_FORMAT: Final = "mutasi-rules.error/1"


class LocalizedSummary(BaseModel):
    id: str = Field(description="In Bahasa Indonesia")
    en: str = Field(description="In English")


class ErrorReport(BaseModel):
    """The JSON problem document a command prints on standard output when it fails with ``--format json``."""

    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.error/1"] = ERROR_FORMAT
    ok: Literal[False] = False
    code: str = Field(description="Stable machine-readable kind of failure, e.g. 'input.invalid', 'plugin.failed'")
    kind: str = Field(description="input, query, usage, plugin, engine, audit, io or failure")
    exit_code: int = Field(description="The process exit code: 1 input problems, 2 usage, 3 runtime failure")
    message: LocalizedSummary = Field(description="What kind of failure this is, in both languages")
    detail: str = Field(description="What exactly failed, in English (names the file, plugin, run…)")
    context: dict[str, str] = Field(default_factory=dict,
                                    description="What the failure is about where known: plugin, hook, file")
    problems: list[Problem] = Field(default_factory=list,
                                    description="Every problem found in the input (file, row/line, field, value)")

    @classmethod
    def of(cls, error: BaseException) -> ErrorReport:
        from mutasi_rules.errors import EXIT_CODES, SUMMARIES, exit_code_of, summary

        if isinstance(error, MutasiRulesError):
            kind, code, context = error.kind, error.code, error.details()
        else:  # an OSError: a file that cannot be read or written
            kind, code = "io", "io.failed"
            filename = getattr(error, "filename", None)
            context = {"file": str(filename)} if filename is not None else {}
        assert kind in EXIT_CODES
        problems = list(getattr(error, "problems", None) or [])
        detail = error.what if isinstance(error, InputError) and problems else (str(error) or SUMMARIES[kind])
        return cls(code=code, kind=kind, exit_code=int(exit_code_of(error)),
                   message=LocalizedSummary(**summary(kind)), detail=detail, context=context, problems=problems)
