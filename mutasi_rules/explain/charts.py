"""Every chart mutasi-rules draws, in one module: the same data give the same bytes.

- :func:`workload_chart`: EJ per unit as bars, balanced band shaded (``mutasi-rules workload --chart``);
- :func:`trend_chart`: EJ per OPD across snapshots as lines (``mutasi-rules workload --trend --chart``);
- :func:`plan_chart_svg`: EJ per OPD before and after a plan, inline in the report (HTML and Markdown);
- :func:`band_chart`: the geometry of the web application's EJ bars (drawn as inline SVG by its
  template, readable without a plotting library in the browser).

The first three are drawn by matplotlib and saved by :func:`render`, which makes the bytes
depend on the data only: the SVG ids come from a fixed hash salt (otherwise random per
process), and the metadata that changes between runs or installs is dropped (the date and the
matplotlib version in SVG, the ``Software`` chunk in PNG). Text is drawn as paths, so the
output does not depend on the fonts of the viewer. Each chart keeps the label of every bar
or line in the SVG as a comment (matplotlib writes one per text), which the tests read.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from mutasi_rules.analysis.trend import WorkloadTrend
    from mutasi_rules.analysis.workload import BalanceFigure, UnitWorkload, WorkloadReport
    from mutasi_rules.planning.recommendation import RecommendationResult

#: Fixed salt for the ids matplotlib writes into SVG (default: random per process).
SVG_HASH_SALT = "mutasi-rules"

ChartFormat = Literal["svg", "png"]
#: The formats :func:`render` writes, as file suffixes.
CHART_SUFFIXES = (".png", ".svg")

#: Bar colour by the unit's workload label (a unit with no or several labels: OTHER_COLOUR).
LABEL_COLOURS = {
    "kekurangan": "#c0392b",
    "kelebihan": "#2e86c1",
    "seimbang": "#27ae60",
}
OTHER_COLOUR = "#7f8c8d"
BAND_COLOUR = "#27ae60"


def chart_format(suffix: str) -> ChartFormat:
    """The format of a chart file from its suffix (``.svg``, ``.PNG`` …); ValueError for any other."""
    fmt = suffix.lower().lstrip(".")
    if fmt == "svg":
        return "svg"
    if fmt == "png":
        return "png"
    raise ValueError(f"a chart is written as .png or .svg, not {suffix!r}")


# --------------------------------------------------------------------------- drawing and saving


@contextmanager
def _style(font_size: float | None = None) -> Iterator[None]:
    """matplotlib settings for drawing and saving one chart (the salt is read when saving)."""
    import matplotlib

    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT, "svg.fonttype": "path",
                                "font.size": font_size or matplotlib.rcParams["font.size"]}):
        yield


def _figure(width: float, height: float, dpi: float | None = None) -> Figure:
    """A figure on the Agg canvas, independent of pyplot's global state (thread-safe, no GUI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def render(figure: Figure, fmt: ChartFormat) -> bytes:
    """``figure`` as SVG or PNG bytes without the metadata that differs between runs or installs.

    Call inside :func:`_style` (the SVG hash salt is read here).
    """
    metadata: dict[str, Any] = {"Date": None, "Creator": None} if fmt == "svg" else {"Software": None}
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt, metadata=metadata)
    return buffer.getvalue()


def inline_svg(svg: bytes) -> str:
    """An SVG document as an inline ``<svg>`` element: no XML prolog, no blank line (which would end
    a Markdown HTML block)."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg"):]
    return "\n".join(line for line in text.splitlines() if line.strip()) + "\n"


# --------------------------------------------------------------------------- workload: EJ per unit


@dataclass(frozen=True)
class Bar:
    """One bar: the unit it stands for, its EJ, the text written on it and its colour."""

    unit_id: str
    value: float
    text: str
    colour: str


def chart_units(report: WorkloadReport, unit_id: str | None) -> list[UnitWorkload]:
    """The OPD rows, or the direct sub-units of ``unit_id`` (the unit itself when it has none)."""
    if unit_id is None:
        return report.opd_units()
    children = [u for u in report.units if u.parent_id == unit_id]
    return children or [u for u in report.units if u.unit_id == unit_id]


def workload_bars(report: WorkloadReport, unit_id: str | None = None) -> tuple[list[Bar], int]:
    """The bars of :func:`workload_chart`, in report order, and how many units have no EJ (not drawn)."""
    units = chart_units(report, unit_id)
    bars = [Bar(u.unit_id, u.ej, f"{u.ej:.2f}",
                LABEL_COLOURS.get(u.labels[0], OTHER_COLOUR) if len(u.labels) == 1 else OTHER_COLOUR)
            for u in units if u.ej is not None]
    return bars, len(units) - len(bars)


def workload_chart(report: WorkloadReport, fmt: ChartFormat, unit_id: str | None = None, lang: str = "id") -> bytes:
    """A bar chart of EJ per unit (the OPDs, or the sub-units of ``unit_id``) with the balanced band shaded."""
    from mutasi_rules.core.i18n import translator

    _ = translator(lang)
    bars, missing = workload_bars(report, unit_id)
    band = report.balance
    with _style():
        figure = _figure(max(6.0, 0.45 * len(bars) + 2.0), 4.8, dpi=100)
        axes = figure.add_subplot()
        axes.axhspan(band.band_low, band.band_high, color=BAND_COLOUR, alpha=0.15, lw=0,
                     label=_("balanced {low}-{high}").format(low=f"{band.band_low:g}", high=f"{band.band_high:g}"))
        axes.axhline(1.0, color="#555555", lw=0.8, ls="--")
        positions = list(range(len(bars)))
        drawn = axes.bar(positions, [b.value for b in bars], color=[b.colour for b in bars])
        axes.bar_label(drawn, labels=[b.text for b in bars], fontsize=7, padding=2)
        axes.set_xticks(positions, [b.unit_id for b in bars], rotation=90, fontsize=8)
        axes.set_ylabel(_("EJ (job efficiency)"))
        title = _("EJ per unit: {dataset}, {as_of}").format(dataset=report.dataset, as_of=report.as_of.isoformat())
        if missing:
            title += " " + _("({count} without EJ not shown)").format(count=missing)
        axes.set_title(title, fontsize=10)
        axes.legend(loc="upper right", fontsize=8)
        figure.tight_layout()
        return render(figure, fmt)


# --------------------------------------------------------------------------- trend: EJ per OPD over time


def trend_chart(trend: WorkloadTrend, fmt: ChartFormat) -> bytes:
    """A line chart of EJ per OPD across the snapshots, balanced band shaded (an OPD missing from a
    snapshot, or without an EJ in it, has no point there)."""
    dates = [s.as_of.isoformat() for s in trend.snapshots]
    with _style():
        figure = _figure(max(6.0, 1.6 * len(dates) + 4.0), 5.2, dpi=100)
        axes = figure.add_subplot()
        axes.axhspan(trend.band_low, trend.band_high, color=BAND_COLOUR, alpha=0.15, lw=0,
                     label=f"balanced {trend.band_low:g}-{trend.band_high:g}")
        x = list(range(len(dates)))
        styles = ("-", "--", ":", "-.")  # the colour cycle has 10 colours: a style per cycle keeps lines apart
        for number, unit in enumerate(trend.units):
            points = [(i, e) for i, e in zip(x, unit.ej, strict=True) if e is not None]
            if points:
                axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", lw=1, ms=3,
                          ls=styles[(number // 10) % len(styles)], label=unit.unit_id)
        axes.set_xticks(x, dates, fontsize=8)
        axes.set_ylabel("EJ (efisiensi jabatan)")
        axes.set_title("EJ per OPD across snapshots", fontsize=10)
        axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=6, ncol=1 + len(trend.units) // 25)
        figure.tight_layout()
        return render(figure, fmt)


# --------------------------------------------------------------------------- report: EJ before and after a plan


@dataclass(frozen=True)
class OpdEj:
    """One OPD of the plan chart: its EJ before and after the plan."""

    unit_id: str
    name: str
    before: float
    after: float


def plan_rows(result: RecommendationResult, workload: WorkloadReport | None = None) -> list[OpdEj]:
    """EJ per OPD before and after: the OPDs the plan touches, plus every other OPD of ``workload``
    (unchanged by the plan); ordered by EJ before, then id."""
    rows = {u.unit_id: OpdEj(u.unit_id, u.name, u.ej_before, u.ej_after)
            for u in result.units if u.ej_before is not None and u.ej_after is not None}
    if workload is not None:
        for unit in workload.opd_units():
            if unit.unit_id not in rows and unit.ej is not None:
                rows[unit.unit_id] = OpdEj(unit.unit_id, unit.name, unit.ej, unit.ej)
    return sorted(rows.values(), key=lambda row: (row.before, row.unit_id))


def plan_chart_svg(rows: Sequence[OpdEj], band: BalanceFigure, before: str, after: str) -> str:
    """A horizontal bar chart of EJ per OPD before and after (legend texts ``before`` and ``after``),
    the balanced band's edges dashed, as an inline ``<svg>`` element."""
    with _style(font_size=9):
        figure = _figure(9.0, 1.6 + 0.36 * max(len(rows), 1))
        axes = figure.add_subplot()
        positions = list(range(len(rows)))
        height = 0.38
        axes.barh([p + height / 2 for p in positions], [row.before for row in rows], height,
                  label=before, color="#9aa5b1")
        axes.barh([p - height / 2 for p in positions], [row.after for row in rows], height,
                  label=after, color="#1f77b4")
        # Names come from data: draw them literally (no mathtext for a '$' in a name).
        labels = [textwrap.shorten(row.name, width=42, placeholder="…") for row in rows]
        axes.set_yticks(positions, labels, parse_math=False)
        for edge in (band.band_low, band.band_high):
            axes.axvline(edge, color="#555555", linestyle="--", linewidth=0.8)
        axes.set_xlabel("EJ")
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2, frameon=False)
        axes.margins(y=0.01)
        figure.tight_layout()
        return inline_svg(render(figure, "svg"))


# --------------------------------------------------------------------------- web: EJ bars as geometry


@dataclass(frozen=True)
class BandRow:
    """One unit's bar on a 0-100 track: its width (None without an EJ) and where the EJ lies."""

    unit_id: str
    name: str
    ej: float | None
    width: float | None
    position: Literal["low", "ok", "high"] | None


@dataclass(frozen=True)
class BandChart:
    """EJ bars against the balanced band on a shared 0-100 scale (``scale`` EJ is the full track)."""

    scale: float
    band_x: float
    band_width: float
    rows: list[BandRow]


def band_chart(units: Sequence[UnitWorkload], band_low: float, band_high: float) -> BandChart:
    """The geometry of EJ bars for ``units`` in the order given: the track runs from 0 to the largest
    EJ (at least 2, so that a balanced city does not fill it); a bar past the track is cut at its end."""
    scale = max([2.0, *(u.ej or 0 for u in units)])

    def track(value: float) -> float:
        return round(value / scale * 100, 3)

    rows = [BandRow(u.unit_id, u.name, u.ej,
                    None if u.ej is None else round(min(u.ej / scale * 100, 100), 3),
                    None if u.ej is None else "high" if u.ej > band_high else "low" if u.ej < band_low else "ok")
            for u in units]
    return BandChart(scale, track(band_low), track(band_high - band_low), rows)


__all__ = [
    "CHART_SUFFIXES",
    "LABEL_COLOURS",
    "OTHER_COLOUR",
    "SVG_HASH_SALT",
    "BandChart",
    "BandRow",
    "Bar",
    "ChartFormat",
    "OpdEj",
    "band_chart",
    "chart_format",
    "chart_units",
    "inline_svg",
    "plan_chart_svg",
    "plan_rows",
    "render",
    "trend_chart",
    "workload_bars",
    "workload_chart",
]
