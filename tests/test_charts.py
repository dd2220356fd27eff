"""The one chart module: every chart is byte-deterministic and shows the data it is given.

The SVG charts are read back: matplotlib writes each text (tick labels, values, legend,
title) as an ``<!-- text -->`` comment and each bar as a rectangle path, so the tests check
the labels per agency and that bar lengths are proportional to their EJ.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mutasi_rules.analysis.trend import Snapshot, UnitTrend, WorkloadTrend
from mutasi_rules.analysis.workload import UnitWorkload, WorkloadReport, figures_report
from mutasi_rules.explain.charts import (
    LABEL_COLOURS,
    OTHER_COLOUR,
    band_chart,
    chart_format,
    plan_chart_svg,
    plan_rows,
    trend_chart,
    workload_bars,
    workload_chart,
)


@pytest.fixture(scope="module")
def workload(example_run) -> WorkloadReport:
    dataset, result = example_run
    return figures_report(dataset, as_of=result.run.as_of, settings=result.run.options.workload)


def texts(svg: bytes | str) -> list[str]:
    return re.findall(r"<!-- (.*?) -->", svg if isinstance(svg, str) else svg.decode("utf-8"))


def rectangles(svg: bytes | str) -> list[tuple[float, float, float, float, str]]:
    """(x, y, width, height, fill) of every axis-aligned rectangle patch."""
    text = svg if isinstance(svg, str) else svg.decode("utf-8")
    found = []
    for d, fill in re.findall(r'<g id="patch_\d+">\s*<path d="([^"]*)"[^>]*?style="fill: (#[0-9a-f]{6})', text):
        points = [tuple(map(float, p)) for p in re.findall(r"[ML] (-?[\d.]+) (-?[\d.]+)", d)]
        xs, ys = {p[0] for p in points}, {p[1] for p in points}
        if len(points) == 4 and len(xs) == 2 and len(ys) == 2:
            found.append((min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys), fill))
    return found


def bars_of(svg: bytes | str, count: int, vertical: bool = True) -> list[tuple[float, str]]:
    """The lengths and fills of the ``count`` data bars (the rectangles of the most common thickness)."""
    rects = rectangles(svg)
    thickness = Counter(round(r[2] if vertical else r[3], 3) for r in rects).most_common(1)[0][0]
    bars = [r for r in rects if round(r[2] if vertical else r[3], 3) == thickness]
    assert len(bars) == count
    return [(r[3] if vertical else r[2], r[4]) for r in bars]


# --------------------------------------------------------------------------- workload bars


def test_workload_chart_has_a_bar_per_agency_proportional_to_its_ej(workload):
    svg = workload_chart(workload, "svg")
    units = [u for u in workload.opd_units() if u.ej is not None]
    bars, missing = workload_bars(workload)
    assert [b.unit_id for b in bars] == [u.unit_id for u in units] and missing == 0
    assert [b.value for b in bars] == [u.ej for u in units]
    shown = texts(svg)
    for unit in units:
        assert unit.unit_id in shown and f"{unit.ej:.2f}" in shown
    drawn = bars_of(svg, len(units))
    ratios = [length / unit.ej for (length, _fill), unit in zip(drawn, units, strict=True)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-4)
    assert [fill for _length, fill in drawn] == [b.colour for b in bars]
    assert any(t.startswith("seimbang 0.9-1.1") for t in shown)  # the band's legend, in Bahasa Indonesia


def test_bar_colour_follows_the_single_workload_label(workload):
    short = workload.opd_units()[0].model_copy(update={"labels": ["kekurangan"]})
    mixed = workload.opd_units()[1].model_copy(update={"labels": ["kekurangan", "kelebihan"]})
    report = workload.model_copy(update={"units": [short, mixed]})
    bars, _missing = workload_bars(report)
    assert [b.colour for b in bars] == [LABEL_COLOURS["kekurangan"], OTHER_COLOUR]


def test_sub_unit_chart_counts_the_units_without_ej(workload):
    parent = workload.opd_units()[0]
    children = [parent.model_copy(update={"unit_id": f"c{i}", "name": f"Child {i}", "parent_id": parent.unit_id,
                                          "is_opd": False, "ej": ej})
                for i, ej in ((1, 0.5), (2, None))]
    report = workload.model_copy(update={"units": [parent, *children]})
    bars, missing = workload_bars(report, parent.unit_id)
    assert [b.unit_id for b in bars] == ["c1"] and missing == 1
    shown = texts(workload_chart(report, "svg", parent.unit_id, lang="en"))
    assert "c1" in shown and "c2" not in shown
    assert any(t.startswith("EJ per unit:") and t.endswith("(1 without EJ not shown)") for t in shown)


def test_charts_carry_no_date_version_or_random_ids(workload):
    svg = workload_chart(workload, "svg")
    assert svg == workload_chart(workload, "svg")
    assert b"<dc:date>" not in svg and b"Matplotlib v" not in svg
    png = workload_chart(workload, "png")
    assert png.startswith(b"\x89PNG") and png == workload_chart(workload, "png")
    assert b"Software" not in png and b"matplotlib" not in png.lower()


def test_svg_is_identical_in_another_process(workload, tmp_path):
    """Without the fixed hash salt the clip-path ids would differ between processes."""
    path = tmp_path / "workload.json"
    path.write_text(workload.model_dump_json(), encoding="utf-8")
    code = ("import sys; from mutasi_rules.analysis.workload import WorkloadReport as W; "
            "from mutasi_rules.explain.charts import workload_chart; "
            "sys.stdout.buffer.write(workload_chart(W.model_validate_json(open(sys.argv[1]).read()), 'svg'))")
    other = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, check=True, timeout=120).stdout
    assert other == workload_chart(WorkloadReport.model_validate_json(path.read_text(encoding="utf-8")), "svg")


def test_chart_format_from_the_file_suffix():
    assert chart_format(".SVG") == "svg" and chart_format(".png") == "png"
    with pytest.raises(ValueError, match=r"\.png or \.svg, not '\.gif'"):
        chart_format(".gif")


# --------------------------------------------------------------------------- the report's before/after chart


def test_plan_chart_shows_every_opd_before_and_after(example_run, workload):
    _dataset, result = example_run
    rows = plan_rows(result, workload)
    svg = plan_chart_svg(rows, result.balance_before, "sebelum", "sesudah")
    assert svg.startswith("<svg") and "\n\n" not in svg
    shown = texts(svg)
    assert {"sebelum", "sesudah"} <= set(shown)
    assert all(row.name in shown for row in rows if len(row.name) <= 42)
    drawn = bars_of(svg, 2 * len(rows), vertical=False)
    values = [row.before for row in rows] + [row.after for row in rows]
    ratios = [length / value for (length, _fill), value in zip(drawn, values, strict=True) if value]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-3)


# --------------------------------------------------------------------------- trend lines


def test_trend_chart_has_a_line_per_opd_and_a_tick_per_snapshot():
    days = [dt.date(2025, 1, 1), dt.date(2025, 4, 1), dt.date(2025, 7, 1)]
    trend = WorkloadTrend(
        snapshots=[Snapshot(as_of=d, dataset=f"d{i}", source=f"s{i}", ej_mean=1.0, ej_std=0.1, outside_band=[])
                   for i, d in enumerate(days)],
        units=[UnitTrend(unit_id="dinkes", name="Dinas Kesehatan", ej=[1.3, 1.2, 1.1], staff=[10, 10, 10],
                         workload_hours=[1.0, 1.0, 1.0], change=-0.2),
               UnitTrend(unit_id="dishub", name="Dinas Perhubungan", ej=[None, 0.7, 0.8], staff=[None, 5, 5],
                         workload_hours=[None, 1.0, 1.0], change=0.1)],
        band_low=0.9, band_high=1.1,
    )
    svg = trend_chart(trend, "svg")
    assert svg == trend_chart(trend, "svg")
    shown = texts(svg)
    assert {"dinkes", "dishub", *(d.isoformat() for d in days)} <= set(shown)
    lines = re.findall(r'<g id="line2d_\d+">\s*<path d="([^"]*)"', svg.decode("utf-8"))
    vertices = sorted(len(re.findall(r"[ML] ", d)) for d in lines)
    assert 3 in vertices and 2 in vertices  # dishub has no point where its EJ is unknown


# --------------------------------------------------------------------------- the web page's bars


def _unit(ej: float | None, unit_id: str = "u") -> UnitWorkload:
    return UnitWorkload.model_construct(unit_id=unit_id, name=unit_id.upper(), ej=ej, labels=[])


@given(st.lists(st.one_of(st.none(), st.floats(0, 10, allow_nan=False)), max_size=12))
def test_web_bars_stay_on_the_track_and_name_their_side_of_the_band(ejs):
    chart = band_chart([_unit(e, f"u{i}") for i, e in enumerate(ejs)], 0.9, 1.1)
    assert chart.scale == max([2.0, *(e or 0 for e in ejs)])
    assert chart.band_x == round(0.9 / chart.scale * 100, 3)
    for row, ej in zip(chart.rows, ejs, strict=True):
        if ej is None:
            assert row.width is None and row.position is None
            continue
        assert row.width is not None and 0 <= row.width <= 100
        assert row.position == ("high" if ej > 1.1 else "low" if ej < 0.9 else "ok")


def test_web_bar_is_as_long_as_its_share_of_the_scale():
    chart = band_chart([_unit(1.0, "a"), _unit(4.0, "b")], 0.9, 1.1)
    assert chart.scale == 4.0 and [r.width for r in chart.rows] == [25.0, 100.0]
    assert (chart.band_x, chart.band_width) == (22.5, 5.0)


def test_every_chart_is_drawn_by_the_chart_module():
    """No other module of the package draws with matplotlib."""
    package = Path(__file__).resolve().parent.parent / "mutasi_rules"
    drawing = {p.relative_to(package).as_posix() for p in package.rglob("*.py")
               if re.search(r"^\s*(import|from) matplotlib\b", p.read_text(encoding="utf-8"), re.M)}
    assert drawing == {"explain/charts.py"}
