"""Write tables to an .xlsx workbook: the dataset writer's deterministic, formula-safe workbook.

Rows are written by :func:`mutasi_rules.loading.workbook_bytes`: strings are always text
(a name starting with ``=`` is never run as a formula), dates are dates, and no timestamp is
stored anywhere, so the same tables give the same bytes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from .atomic import write_bytes
from .loading import workbook_bytes as _tables_workbook


def workbook_bytes(sheets: Mapping[str, Sequence[Sequence[Any]]]) -> bytes:
    """An .xlsx of ``sheets``: sheet name -> rows, the first row the header."""
    return _tables_workbook({name[:31]: (list(rows[0]), [list(r) for r in rows[1:]]) for name, rows in sheets.items()})


def write_workbook(path: str | os.PathLike[str], sheets: Mapping[str, Sequence[Sequence[Any]]]) -> None:
    """Write ``sheets`` to ``path`` atomically."""
    write_bytes(path, workbook_bytes(sheets))


__all__ = ["workbook_bytes", "write_workbook"]
