"""Data is never markup: one escape for Markdown, and rich tables whose cells are plain text.

Names, positions, messages and legal bases come from data files and plugins. Written into
Markdown they must not become emphasis, links, tables or raw HTML (``"><img src=x
onerror=...>`` in a table cell); shown in the terminal they must not be read as rich
markup (``[/bold] Siti`` crashes rich, ``Siti [b]Aminah[/b]`` loses its brackets). Every
Markdown output uses :func:`md_escape`; every terminal table uses :class:`DataTable` or
:func:`plain`.
"""

from __future__ import annotations

from typing import Any

from rich.table import Table
from rich.text import Text

_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*[]#|"} | {"<": "&lt;", ">": "&gt;", "&": "&amp;"})


def md_escape(text: object) -> str:
    """Text from data, safe inside Markdown (also in a table cell): no emphasis, links, tables or raw HTML."""
    return str(text).translate(_MD_SPECIAL).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def plain(text: object) -> Text:
    """Data for rich: shown as it is, never read as markup."""
    return text if isinstance(text, Text) else Text(str(text))


class DataTable(Table):
    """A rich table whose title and string cells are plain text (data), never markup."""

    def __init__(self, *headers: Any, title: Any = None, **kwargs: Any) -> None:
        super().__init__(*headers, title=plain(title) if isinstance(title, str) else title, **kwargs)

    def add_row(self, *renderables: Any, **kwargs: Any) -> None:
        super().add_row(*(plain(r) if isinstance(r, str) else r for r in renderables), **kwargs)


__all__ = ["DataTable", "md_escape", "plain"]
