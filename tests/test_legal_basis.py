"""docs/legal-basis.md and the bundled rule files agree: every rule is in the table with the
same kind of basis, and every statutory rule cites an article."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mutasi_rules.plugins.manager import PluginManager
from mutasi_rules.rules.rulesets import LoadedRuleSet, load_rulesets

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "legal-basis.md").read_text(encoding="utf-8")
KIND_WORDS = {"statutory": "statutory", "convention": "convention", "agency policy": "agency_policy"}


def _bundled() -> list[LoadedRuleSet]:
    manager = PluginManager().load()
    national = load_rulesets([ROOT / "rules"], extensions=manager.fact_attributes())
    return [*national, *manager.rulesets(national)]


def _table() -> dict[tuple[str, str], dict[str, str]]:
    """(rule set id, rule id) -> row, from the doc's per-rule-set tables."""
    rows: dict[tuple[str, str], dict[str, str]] = {}
    ruleset = None
    for line in DOC.splitlines():
        heading = re.match(r"## (\S+) \(.*version ([^)]+)\)", line)
        if heading:
            ruleset = heading.group(1)
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if ruleset and len(cells) == 6 and cells[0].startswith("`"):
            rows[(ruleset, cells[0].strip("`"))] = dict(zip(
                ("rule", "instrument", "article", "summary", "kind", "checked"), cells, strict=True))
    return rows


BUNDLED = _bundled()
RULES = [(loaded, rule) for loaded in BUNDLED for rule in loaded.rules]


@pytest.mark.parametrize(("loaded", "rule"), RULES, ids=[f"{lo.id}/{r.id}" for lo, r in RULES])
def test_every_bundled_rule_is_in_the_table_with_its_kind(loaded: LoadedRuleSet, rule) -> None:
    row = _table().get((loaded.id, rule.id))
    assert row is not None, f"{loaded.id}/{rule.id} is missing from docs/legal-basis.md"
    assert rule.basis_kind is not None, f"{loaded.id}/{rule.id} does not say what sets it (basis_kind)"
    assert KIND_WORDS[row["kind"]] == rule.basis_kind, (loaded.id, rule.id)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["checked"]), row
    if rule.basis_kind == "statutory":
        assert re.search(r"\bpasal \d+", rule.legal_basis), f"{rule.id}: a statutory rule cites its article"


def test_the_table_lists_no_rule_that_does_not_exist_and_the_versions_agree() -> None:
    existing = {(loaded.id, rule.id) for loaded, rule in RULES}
    assert set(_table()) == existing
    for loaded in BUNDLED:
        assert f"## {loaded.id} (" in DOC and f"version {loaded.version})" in DOC, loaded.id


def test_the_table_says_it_needs_review_by_a_domain_expert() -> None:
    assert "Needs review by a domain expert" in DOC
