"""The decisions and explanations the library gives, pinned byte for byte.

A refactor must not change what the library decides or says: the result JSON and the
explanations of the bundled example and of generated 1,000- and 7,000-employee datasets are
pinned here by their SHA-256. A change that is meant to alter them (a fixed rule, a better
plan) updates ``tests/data/golden.json`` in its own commit, saying why:

    MUTASI_RULES_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.explain.explanations import explain_result, render_markdown
from mutasi_rules.planning.recommendation import RecommendOptions, recommend

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "golden.json"
CASES = ["example", "generated-1000", "generated-7000"]


def _outputs(case: str) -> dict[str, str]:
    if case == "example":
        dataset = load_dataset(ROOT / "examples" / "pontianak")
        options = RecommendOptions()  # with the two installed example plugins
    else:
        dataset = generate_dataset(int(case.rsplit("-", 1)[1]), seed=7)
        options = RecommendOptions(use_plugins=False)
    result = recommend(dataset, options)
    texts = {
        "result.json": result.to_json(),
        "explanation.id.md": explain_result(result, "id", "md"),
        "explanation.en.txt": explain_result(result, "en", "text"),
        "plan.id.md": render_markdown(result, "id"),
    }
    return {name: hashlib.sha256(text.encode("utf-8")).hexdigest() for name, text in texts.items()}


@pytest.mark.parametrize("case", CASES)
def test_outputs_are_byte_identical_to_the_pinned_ones(case):
    found = _outputs(case)
    pinned = json.loads(GOLDEN.read_text(encoding="utf-8")) if GOLDEN.exists() else {}
    if os.environ.get("MUTASI_RULES_UPDATE_GOLDEN"):
        pinned[case] = found
        GOLDEN.write_text(json.dumps(pinned, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    assert found == pinned.get(case), f"{case}: the outputs changed; if that is meant, update {GOLDEN.name}"
