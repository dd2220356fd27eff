"""Workload trend: EJ per agency across snapshots ordered by as_of."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from mutasi_rules.analysis.trend import chart_bytes, render_table
from mutasi_rules.analysis.workload import figures_report
from mutasi_rules.cli import main
from mutasi_rules.data.generator import generate_dataset
from mutasi_rules.data.loading import save_dataset
from mutasi_rules.service import Service

DATES = (dt.date(2026, 7, 1), dt.date(2025, 7, 1), dt.date(2026, 1, 1))  # given out of order


@pytest.fixture(scope="module")
def snapshots():
    return [generate_dataset(200, seed=seed, as_of=day) for seed, day in enumerate(DATES, 1)]


def test_trend_over_three_generated_snapshots(snapshots):
    trend = Service().trend(snapshots, sources=["a", "b", "c"])
    assert [s.as_of for s in trend.snapshots] == sorted(DATES)
    assert [s.source for s in trend.snapshots] == ["b", "c", "a"]
    ordered = sorted(snapshots, key=lambda d: d.metadata.as_of)
    reports = [figures_report(d) for d in ordered]
    for unit in trend.units:
        expected = [next((u.ej for u in r.opd_units() if u.unit_id == unit.unit_id), None) for r in reports]
        assert unit.ej == expected
        if unit.change is not None:
            assert unit.change == pytest.approx(expected[-1] - expected[0], abs=1e-4)
    assert [s.ej_std for s in trend.snapshots] == [r.balance.ej_std for r in reports]
    assert {u.unit_id for u in trend.units} == {u.unit_id for r in reports for u in r.opd_units()}
    assert "dinkes" in render_table(trend)
    assert chart_bytes(trend, "svg") == chart_bytes(trend, "svg")


def test_cli_trend_table_json_and_chart(snapshots, tmp_path, capsys):
    paths = []
    for i, dataset in enumerate(snapshots):
        path = tmp_path / f"snap{i}.json"
        save_dataset(dataset, path, "json")
        paths.append(str(path))
    assert main(["workload", *paths, "--trend", "--format", "json", "--chart", str(tmp_path / "t.svg")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [s["as_of"] for s in data["snapshots"]] == [d.isoformat() for d in sorted(DATES)]
    assert (tmp_path / "t.svg").read_bytes().startswith(b"<?xml")
    assert main(["workload", *paths, "--trend"]) == 0
    assert "2025-07-01" in capsys.readouterr().out
    assert main(["workload", *paths, "--trend", "--format", "xlsx", "--out", str(tmp_path / "t.xlsx")]) == 0
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "t.xlsx")["EJ per OPD"]
    assert [c.value for c in sheet[1]][2:5] == [d.isoformat() for d in sorted(DATES)]
    assert main(["workload", *paths]) == 2  # several datasets need --trend
    assert main(["workload", *paths, "--trend", "--format", "csv"]) == 2
