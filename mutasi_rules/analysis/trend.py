"""Workload across snapshots: the EJ of every agency (OPD) in datasets taken on different dates.

Needs analysis is routine: the same city exported every quarter shows where work is
growing and where staff are drifting away from it. :func:`workload_trend` orders the
snapshots by their ``metadata.as_of`` (ties: the order given) and lists, per OPD, its EJ in
each (null where the OPD is missing or has no EJ), with the city balance figure per
snapshot. Figures only (no rules): the same arithmetic as ``mutasi-rules workload``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.analysis.workload import WorkloadSettings, figures_report
from mutasi_rules.data.models import Dataset
from mutasi_rules.problems import InputError, Problem

if TYPE_CHECKING:
    from mutasi_rules.explain.charts import ChartFormat
    from mutasi_rules.explain.spreadsheet import Sheet

TREND_FORMAT: Final = "mutasi-rules.workload-trend/1"


class Snapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    dataset: str
    as_of: dt.date
    source: str = Field(description="Where the snapshot was read from (path), or its position in the call")
    ej_mean: float | None
    ej_std: float | None = Field(description="Spread of OPD EJ (population standard deviation)")
    outside_band: list[str]


class UnitTrend(BaseModel):
    model_config = ConfigDict(frozen=True)

    unit_id: str
    name: str
    ej: list[float | None] = Field(description="EJ in each snapshot, in snapshot order")
    staff: list[int | None] = Field(description="Staff (bezetting with workload data) in each snapshot")
    workload_hours: list[float | None]
    change: float | None = Field(description="EJ in the last snapshot minus the first (both known)")


class WorkloadTrend(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: Literal["mutasi-rules.workload-trend/1"] = TREND_FORMAT
    snapshots: list[Snapshot] = Field(description="Ordered by as_of")
    units: list[UnitTrend] = Field(description="Every OPD of any snapshot, sorted by unit id")
    band_low: float
    band_high: float


def workload_trend(datasets: Sequence[Dataset], settings: WorkloadSettings | None = None,
                   *, sources: Sequence[str] | None = None) -> WorkloadTrend:
    """EJ per OPD across ``datasets``, ordered by their ``as_of`` (see the module docstring)."""
    settings = settings or WorkloadSettings()
    if not datasets:
        raise InputError("workload trend", [Problem(code="trend.no_snapshots", message="give at least one dataset")])
    names = list(sources) if sources is not None else [f"#{i + 1}" for i in range(len(datasets))]
    order = sorted(range(len(datasets)), key=lambda i: (datasets[i].metadata.as_of, i))
    reports = [figures_report(datasets[i], settings=settings) for i in order]
    snapshots = [Snapshot(dataset=r.dataset, as_of=r.as_of, source=names[i], ej_mean=r.balance.ej_mean,
                          ej_std=r.balance.ej_std, outside_band=r.balance.outside_band)
                 for i, r in zip(order, reports, strict=True)]
    by_unit: dict[str, dict[int, Any]] = {}
    unit_names: dict[str, str] = {}
    for k, report in enumerate(reports):
        for unit in report.opd_units():
            by_unit.setdefault(unit.unit_id, {})[k] = unit
            unit_names[unit.unit_id] = unit.name
    units = []
    for unit_id in sorted(by_unit):
        seen = by_unit[unit_id]
        ejs = [seen[k].ej if k in seen else None for k in range(len(reports))]
        known = [e for e in ejs if e is not None]
        change = (round(ejs[-1] - ejs[0], settings.decimals) + 0.0
                  if ejs and ejs[0] is not None and ejs[-1] is not None and len(known) >= 2 else None)
        units.append(UnitTrend(
            unit_id=unit_id, name=unit_names[unit_id], ej=ejs,
            staff=[seen[k].bezetting_with_data if k in seen else None for k in range(len(reports))],
            workload_hours=[seen[k].workload_hours if k in seen else None for k in range(len(reports))],
            change=change))
    return WorkloadTrend(snapshots=snapshots, units=units, band_low=settings.band_low, band_high=settings.band_high)


def render_table(trend: WorkloadTrend) -> str:
    """A plain-text table: one row per OPD, one EJ column per snapshot, and the change."""
    head = ["OPD", *[s.as_of.isoformat() for s in trend.snapshots], "change"]
    rows = [[u.unit_id, *[f"{e:.2f}" if e is not None else "-" for e in u.ej],
             f"{u.change:+.2f}" if u.change is not None else "-"] for u in trend.units]
    rows.append(["(spread)", *[f"{s.ej_std:.3f}" if s.ej_std is not None else "-" for s in trend.snapshots], ""])
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths,
                                                                                                    strict=True)))
             for r in [head, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + "\n"


def xlsx_sheets(trend: WorkloadTrend) -> list[Sheet]:
    """The trend as worksheets: EJ per OPD per snapshot, and the snapshots."""
    from mutasi_rules.explain.spreadsheet import Sheet

    dates = [s.as_of.isoformat() for s in trend.snapshots]
    units = Sheet("EJ per OPD", ["unit_id", "name", *dates, "change"],
                  [[u.unit_id, u.name, *u.ej, u.change] for u in trend.units])
    snapshots = Sheet("Snapshot", ["as_of", "dataset", "source", "ej_mean", "ej_std", "outside_band"],
                      [[s.as_of, s.dataset, s.source, s.ej_mean, s.ej_std, "; ".join(s.outside_band)]
                       for s in trend.snapshots])
    return [units, snapshots]


def chart_bytes(trend: WorkloadTrend, fmt: ChartFormat) -> bytes:
    """A line chart of EJ per OPD across the snapshots (:func:`mutasi_rules.explain.charts.trend_chart`)."""
    from mutasi_rules.explain.charts import trend_chart

    return trend_chart(trend, fmt)


__all__ = ["Snapshot", "UnitTrend", "WorkloadTrend", "chart_bytes", "render_table", "workload_trend", "xlsx_sheets"]
