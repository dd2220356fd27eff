"""User-facing words in Bahasa Indonesia (the default) or English, from a gettext message catalogue.

Messages are written in English in the code (``_("Staff needed")``) and translated by the
catalogue ``mutasi_rules/locale/id/LC_MESSAGES/mutasi_rules.po``, which Babel reads as it
is (no compile step, so an office can correct a word in the .po file and see it at once).
A message missing from the catalogue shows in English rather than failing; a test extracts
every message from the code with Babel and requires a translation for each. This is the one
text catalogue: no module keeps words of its own in both languages (tests/test_texts.py).

- ``_ = translator(lang)`` then ``_("...")``: a text shown in ``lang``.
- ``N_("...")`` / ``NC_(context, "...")``: a text kept in a table (by a code or a key) and
  translated where it is shown (:func:`localized`); a context separates one English word
  that two places translate differently.
- ``plural_translator(lang)``: an ``ngettext`` (Indonesian has one form).
- ``Localized.of(N_("..."), **values)`` (rules.rulesets): a text in both languages at once, for
  documents that carry both (results, why-not reports).
- :func:`translate_message`: a message recorded in English (a problem, a warning, a difference)
  shown in ``lang`` through catalogue entries with ``{placeholders}``; a ``*_text`` value is
  translated in turn and a ``*_token`` value is one word (no space, comma or semicolon).

Rule messages are not here: rule sets carry their own ``id`` and ``en`` texts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Literal

__all__ = ["LANGS", "NC_", "N_", "Lang", "catalogue_path", "localized", "plural_translator", "translate_message",
           "translator"]

Lang = Literal["id", "en"]
LANGS: tuple[str, ...] = ("id", "en")
DOMAIN = "mutasi_rules"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


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
    # A text with a context (msgctxt) is keyed "context\x04text", as gettext stores it. A text with a
    # plural (msgid_plural) is keyed by its singular: Indonesian has one form for every count.
    messages = {}
    for m in catalogue:
        if not m.id or not m.string or m.fuzzy:
            continue
        message, translation = (m.id[0], m.string[0]) if isinstance(m.id, (tuple, list)) else (m.id, m.string)
        if translation:
            messages[f"{m.context}\x04{message}" if m.context else str(message)] = str(translation)
    return messages


def translator(lang: str) -> Callable[[str], str]:
    """A ``_`` function for ``lang``: the catalogue's translation, or the English message itself."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    messages = _messages(lang)
    return lambda message: messages.get(message, message)


def plural_translator(lang: str) -> Callable[[str, str, int], str]:
    """An ``ngettext`` for ``lang``: English picks singular or plural by the count; Bahasa Indonesia
    has one form (``1 pegawai``, ``3 pegawai``), the catalogue's ``msgstr[0]``."""
    _ = translator(lang)
    if lang == "en":
        return lambda singular, plural, count: singular if count == 1 else plural
    return lambda singular, plural, count: _(singular)


# --------------------------------------------------------------------------- messages with values

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def _placeholder_value(values: dict[str, str], match: re.Match[str]) -> str:
    """A ``{name}`` placeholder's value, or the placeholder itself when the message has none."""
    return values.get(match.group(1), match.group(0))


@functools.cache
def _patterns(lang: str, short: bool) -> tuple[tuple[str, re.Pattern[str], str], ...]:
    """Catalogue entries with ``{name}`` placeholders as regular expressions, most specific first.

    Problems are recorded in English with their values in the text ("required column
    'nip' is missing"); the catalogue entry ``required column {name} is missing`` matches
    it and its translation is filled with the same values. Data stays as it was.
    """
    entries = []
    for message, translation in _messages(lang).items():
        # A whole message is identified only by texts with enough words of their own (not "{name}: {value}");
        # short ones ("{file} row {number}") serve for the parts of a message (placeholders named *_text).
        if "\x04" in message or not _PLACEHOLDER.search(message):
            continue
        if not short and len(_PLACEHOLDER.sub("", message)) < 8:
            continue
        pattern, last, seen = "", 0, set()
        for match in _PLACEHOLDER.finditer(message):
            # A *_text value is itself a message (translated in turn) and may hold spaces: take the longest.
            # A *_token value (a JSON path, an id, a quoted field) holds no space, comma or semicolon, so it
            # never swallows the message's words nor a clause that follows it.
            name = match.group(1)
            value = r"[^\s;,]+" if name.endswith("_token") else ".+" if name.endswith("_text") else ".+?"
            # A value named twice is the same value both times.
            group = f"(?P={name})" if name in seen else f"(?P<{name}>{value})"
            pattern += re.escape(message[last:match.start()]) + group
            seen.add(name)
            last = match.end()
        pattern += re.escape(message[last:])
        literal = len(_PLACEHOLDER.sub("", message))
        # The longest literal piece: a message without it cannot match (a substring test is cheap).
        piece = max(_PLACEHOLDER.split(message)[::2], key=len)
        entries.append((literal, piece, re.compile(pattern + r"\Z", re.DOTALL), translation))
    entries.sort(key=lambda entry: -entry[0])
    return tuple((piece, pattern, translation) for _, piece, pattern, translation in entries)


def translate_message(message: str, lang: str, *, part: bool = False) -> str:
    """A message recorded in English (a problem, a warning) in ``lang``: exact entry, else a pattern entry.

    A message the catalogue does not know is shown as it is.
    """
    if lang == "en" or not message:
        return message
    messages = _messages(lang)
    if message in messages:
        return messages[message]
    for piece, pattern, translation in _patterns(lang, part):
        if piece not in message:
            continue
        match = pattern.match(message)
        if match:
            values = {name: translate_message(value, lang, part=True) if name.endswith("_text") else value
                      for name, value in match.groupdict().items()}
            return _PLACEHOLDER.sub(functools.partial(_placeholder_value, values), translation)
    return message


# --------------------------------------------------------------------------- texts kept in tables

def N_(message: str) -> str:
    """Mark an English text for the catalogue where it is defined (translated where it is shown)."""
    return message


def NC_(context: str, message: str) -> tuple[str, str]:
    """Like :func:`N_`, for a text whose translation depends on where it is used (gettext ``msgctxt``)."""
    return (context, message)


def localized(text: str | tuple[str, str], lang: str) -> str:
    """A text marked with :func:`N_` or :func:`NC_`, in ``lang``."""
    if lang == "en":
        return text[1] if isinstance(text, tuple) else text
    messages = _messages(lang)
    if isinstance(text, tuple):
        context, message = text
        return messages.get(f"{context}\x04{message}", message)
    return messages.get(text, text)
