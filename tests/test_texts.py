"""One text catalogue per language: no module keeps its own words in both languages (issue #13).

User-facing words are written once, in English, in the code (``_("...")``, ``N_("...")``) and
translated in ``mutasi_rules/locale/id/LC_MESSAGES/mutasi_rules.po``. This test reads every module
with the AST and fails on the ways a module used to carry its own translations: a dict of
``{"id": ..., "en": ...}`` texts, a table of ``(Indonesian, English)`` pairs, a text chosen by an
``if lang == ...`` branch, or a ``Localized(id="...", en="...")`` written out in the code.
Messages inside findings come from rule files (data) and are not concerned.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "mutasi_rules"
LANG_NAMES = {"lang", "language", "en", "indonesian"}

#: Texts still written out in both languages, each with the work that removes it. Keep this short.
KNOWN: dict[str, str] = {}


def _literal_text(node: ast.AST) -> str | None:
    """The literal words of a string constant or f-string, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def _has_words(node: ast.AST) -> bool:
    text = _literal_text(node)
    # Words, not a file suffix (".md"), a separator or a language code.
    return text is not None and re.search(r"[A-Za-z]{2,}", re.sub(r"\.\w+", "", text)) is not None \
        and text not in ("id", "en")


def _mentions_language(test: ast.AST) -> bool:
    """Whether ``test`` picks a language: ``lang == "en"``, ``lang != "id"``, or a flag such as ``en``."""
    for node in ast.walk(test):
        if isinstance(node, ast.Name) and node.id in ("en", "indonesian"):
            return True
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            named = any((isinstance(n, ast.Name) and n.id in LANG_NAMES)
                        or (isinstance(n, ast.Attribute) and n.attr in LANG_NAMES) for n in sides)
            if named and any(isinstance(n, ast.Constant) and n.value in ("id", "en") for n in sides):
                return True
    return False


def _sentences(nodes: list[ast.stmt]) -> bool:
    return any(_has_words(n) and " " in (_literal_text(n) or "") for stmt in nodes for n in ast.walk(stmt))


def own_texts(source: str) -> list[str]:
    """Where ``source`` keeps words of its own in both languages: ``line: what``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Dict):
            keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
            if {"id", "en"} <= keys and any(_has_words(v) for v in node.values):
                found.append(f"{node.lineno}: a dict of texts keyed 'id' and 'en'")
            pairs = [v for v in node.values if isinstance(v, ast.Tuple) and len(v.elts) == 2
                     and all(_has_words(e) for e in v.elts)]
            if len(pairs) >= max(3, 0.8 * len(node.values)):  # a few entries may be symbols ("—")
                found.append(f"{node.lineno}: a table of (Indonesian, English) pairs")
        elif isinstance(node, ast.IfExp) and _mentions_language(node.test):
            if _has_words(node.body) and _has_words(node.orelse):
                found.append(f"{node.lineno}: a text chosen by language ({ast.unparse(node.test)})")
        elif isinstance(node, ast.If) and _mentions_language(node.test):
            if _sentences(node.body) and (_sentences(node.orelse) or not node.orelse):
                found.append(f"{node.lineno}: sentences written under 'if {ast.unparse(node.test)}'")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "Localized":
            texts = {k.arg: k.value for k in node.keywords}
            if any(_has_words(texts[lang]) for lang in ("id", "en") if lang in texts):
                found.append(f"{node.lineno}: Localized(id=..., en=...) written out")
    return sorted(found, key=lambda f: int(f.split(":")[0]))


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "locale" not in p.parts)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_keeps_its_own_texts(path: Path) -> None:
    name = str(path.relative_to(PACKAGE))
    found = own_texts(path.read_text(encoding="utf-8"))
    if name in KNOWN:
        assert found, f"{name} no longer keeps texts of its own: remove it from KNOWN"
        return
    assert found == [], f"{name}: words belong in the message catalogue (mutasi_rules/core/i18n.py): {found}"


@pytest.mark.parametrize("source", [
    'T = {"a": {"id": "Rencana mutasi", "en": "Transfer plan"}}',
    'T = {"a": ("Rencana", "Plan"), "b": ("Beban kerja", "Workload"), "c": ("Pegawai", "Staff")}',
    'x = "dan" if lang == "id" else "and"',
    'if en:\n    s = f"Plan of {x} moves"\nelse:\n    s = f"Rencana {x} mutasi"',
    'r = Localized(id=f"Ditahan {x}", en=f"Held {x}")',
])
def test_the_check_finds_each_kind_of_own_table(source: str) -> None:
    assert own_texts(source)


@pytest.mark.parametrize("source", [
    'name = f"{stem}.md" if lang == "id" else f"{stem}.{lang}.md"',  # a file name, not words
    'sep = "," if lang == "id" else "."',
    'r = Localized.of(N_("Held by {who}"), who=x)',
    'r = Localized(id=a.id, en=a.en)',
    'T = {"a": N_("Transfer plan"), "b": NC_("letter", "To"), "c": N_("Workload")}',
])
def test_the_check_lets_catalogue_texts_pass(source: str) -> None:
    assert own_texts(source) == []
