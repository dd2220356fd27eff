"""The effect registry is the one description of rule effects: loading, explanations and docs agree with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mutasi_rules.rules.rulesets import EFFECT_PARAMETERS, EFFECTS, Effect, Rule

DOC = Path(__file__).resolve().parent.parent / "docs" / "rule-language.md"
BASE = {"id": "r", "title": {"id": "t", "en": "t"}, "scope": "employee", "when": "employee.age > 1",
        "message": {"id": "m", "en": "m"}, "legal_basis": "b"}
VALUES = {"training": "Pelatihan X", "component": "c", "points": 1.0, "label": "x"}


def test_every_effect_is_described_once():
    assert set(EFFECTS) == set(Effect)
    for spec in EFFECTS.values():
        assert set(spec.parameters) <= set(EFFECT_PARAMETERS)
        assert spec.label.id and spec.label.en and spec.meaning.id and spec.meaning.en


@pytest.mark.parametrize("effect", list(Effect), ids=lambda e: e.value)
def test_a_rule_needs_exactly_its_effects_parameters(effect):
    needs = EFFECTS[effect].parameters
    Rule.model_validate({**BASE, "effect": effect.value, **{k: VALUES[k] for k in needs}})
    for missing in needs:
        with pytest.raises(ValueError, match=f"needs '{missing}'"):
            Rule.model_validate({**BASE, "effect": effect.value, **{k: VALUES[k] for k in needs if k != missing}})
    for extra in set(EFFECT_PARAMETERS) - set(needs):
        with pytest.raises(ValueError, match="does not apply"):
            Rule.model_validate({**BASE, "effect": effect.value, **{k: VALUES[k] for k in needs}, extra: VALUES[extra]})


def test_the_rule_language_doc_lists_each_effect_as_the_registry_does():
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| [^|]* \| ([^|]+) \|$", DOC.read_text(encoding="utf-8"), re.M))
    assert {e.value: spec.meaning.en for e, spec in EFFECTS.items()} == {k: v.strip() for k, v in rows.items()}
