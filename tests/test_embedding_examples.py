"""The embedding examples in examples/embedding/ keep working."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from mutasi_rules import RecommendationResult, load_dataset

ROOT = Path(__file__).resolve().parent.parent


def run(script: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "examples" / "embedding" / script)], input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_json_in_json_out():
    dataset = load_dataset(ROOT / "tests" / "data" / "good" / "small.yaml")
    done = run("recommend_json.py", dataset.model_dump_json())
    assert done.returncode == 0, done.stderr
    result = RecommendationResult.model_validate_json(done.stdout)
    assert result.run.dataset == dataset.metadata.name


def test_json_errors_are_reported_as_json():
    done = run("recommend_json.py", json.dumps({"metadata": {"name": "x"}}))
    assert done.returncode == 1
    report = json.loads(done.stderr)
    assert report["error"] == "invalid dataset"
    assert {p["field"] for p in report["problems"]} >= {"metadata.as_of", "units", "positions", "employees"}


def test_library_walkthrough_prints_moves():
    done = run("hr_service.py")
    assert done.returncode == 0, done.stderr
    assert "moves; EJ spread" in done.stdout and "training first: Pelatihan Vaksinator" in done.stdout
