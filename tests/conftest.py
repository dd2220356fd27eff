"""Test configuration shared by the suite."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

# Locally, property tests explore new examples on every run; in CI (CI=true) they run a
# fixed, reproducible set, so a landing is never decided by the luck of the draw. Any
# failure found locally is pinned as a regular test.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# cli.main reports a bug as "internal error" without a traceback (users never see one); in
# the tests the traceback is wanted.
os.environ.setdefault("MUTASI_RULES_TRACEBACK", "1")

@pytest.fixture(scope="session")
def example_run():
    """The bundled example recommended with the installed agency plugins, computed once per session."""
    from pathlib import Path

    from mutasi_rules.data.loading import load_dataset
    from mutasi_rules.planning.recommendation import RecommendOptions, recommend

    dataset = load_dataset(Path(__file__).parent.parent / "examples" / "pontianak")
    return dataset, recommend(dataset, RecommendOptions())


@pytest.fixture(scope="session")
def surge_report():
    """The bundled surge scenario (examples/pontianak/scenarios/vaksinasi-lonjakan.yaml) planned against the
    bundled example, plan date 2026-08-03: a baseline and one scenario, two pipeline runs shared by the suite."""
    import datetime as dt
    from pathlib import Path

    from mutasi_rules import RecommendOptions, load_dataset
    from mutasi_rules.data.scenario import load_scenario
    from mutasi_rules.service import Service

    example = Path(__file__).resolve().parent.parent / "examples" / "pontianak"
    surge = load_scenario(example / "scenarios" / "vaksinasi-lonjakan.yaml")
    return Service().scenarios(load_dataset(example), [surge], RecommendOptions(plan_date=dt.date(2026, 8, 3)))
