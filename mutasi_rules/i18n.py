"""User-facing words in Bahasa Indonesia (the default) or English, from a gettext message catalogue.

Messages are written in English in the code (``_("Staff needed")``) and translated by the
catalogue ``mutasi_rules/locale/id/LC_MESSAGES/mutasi_rules.po``, which Babel reads as it
is (no compile step, so an office can correct a word in the .po file and see it at once).
A message missing from the catalogue shows in English rather than failing; a test extracts
every message from the code with Babel and requires a translation for each.

Rule messages are not here: rule sets carry their own ``id`` and ``en`` texts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Literal

__all__ = ["LANGS", "Lang", "catalogue_path", "translator"]

Lang = Literal["id", "en"]
LANGS: tuple[str, ...] = ("id", "en")
DOMAIN = "mutasi_rules"
LOCALE_DIR = Path(__file__).parent / "locale"


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _messages(lang: str) -> dict[str, str]:
    """msgid -> translation of the catalogue of ``lang`` (empty for English, the language of the code)."""
    if lang == "en":
        return {}
    from babel.messages.pofile import read_po

    with catalogue_path(lang).open("rb") as handle:
        catalogue = read_po(handle, locale=lang, domain=DOMAIN)
    return {str(m.id): str(m.string) for m in catalogue if m.id and m.string and not m.fuzzy}


def translator(lang: str) -> Callable[[str], str]:
    """A ``_`` function for ``lang``: the catalogue's translation, or the English message itself."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    messages = _messages(lang)
    return lambda message: messages.get(message, message)
