"""Published JSON Schemas are current, and documents round-trip through their models."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutasi_rules.cli import EXIT_OK, main
from mutasi_rules.core.canonical import canonical_json
from mutasi_rules.schemas import SCHEMAS, schema_for

PUBLISHED = Path(__file__).resolve().parent.parent / "docs" / "schemas"


@pytest.mark.parametrize("target", sorted(SCHEMAS))
def test_published_schema_is_current(target):
    """A changed data shape must come with its regenerated schema (make schemas)."""
    published = (PUBLISHED / f"{target}.schema.json").read_text(encoding="utf-8")
    assert published == canonical_json(schema_for(target), indent=2) + "\n", (
        f"docs/schemas/{target}.schema.json is stale: run `make schemas` and review the change"
    )


def test_schema_command_prints_the_same_schema(capsys):
    assert main(["schema", "result"]) == EXIT_OK
    assert capsys.readouterr().out == (PUBLISHED / "result.schema.json").read_text(encoding="utf-8")


def test_unknown_schema_is_a_usage_error(capsys):
    assert main(["schema", "nope"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_published_schema_is_registered():
    assert {p.name.removesuffix(".schema.json") for p in PUBLISHED.glob("*.schema.json")} == set(SCHEMAS)


def test_result_json_round_trips_through_its_model():
    from mutasi_rules.data.loading import load_dataset
    from mutasi_rules.planning.recommendation import RecommendationResult, recommend

    dataset = load_dataset(Path(__file__).resolve().parent / "data" / "good" / "small.yaml")
    result = recommend(dataset)
    again = RecommendationResult.model_validate_json(result.to_json())
    assert again.to_json() == result.to_json()
