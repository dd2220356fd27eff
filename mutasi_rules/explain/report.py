"""The report of a transfer plan for the head of the region (Kepala Daerah / Wali Kota).

One document, two forms: Markdown and a self-contained HTML file (inline CSS and an
inline SVG chart; no external assets, no JavaScript). It summarises the plan (moves into
and out of each OPD), the balance figure before and after, a chart of each OPD's job
efficiency (EJ) before and after, the shortages left unfilled and why, the trainings the
plan needs in total, the rule sets and plugins used with their versions, and the audit
run id when known.

Everything is read from the recorded result; the optional ``workload`` report only adds
the OPDs the plan does not touch to the chart (their EJ is unchanged by the plan). Output
is deterministic: the chart is drawn by :mod:`mutasi_rules.explain.charts` (no date or version in
its metadata, a fixed hash salt), so the same result always gives byte-identical files.
Every value from the data is escaped (HTML or Markdown).
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mutasi_rules.analysis.workload import WorkloadReport
from mutasi_rules.core.atomic import OutputError, check_output_path, write_text
from mutasi_rules.core.i18n import N_, localized, translate_message
from mutasi_rules.core.settings import RegionSettings
from mutasi_rules.explain.charts import SVG_HASH_SALT, OpdEj, plan_chart_svg, plan_rows
from mutasi_rules.explain.explanations import (
    Block,
    Bullets,
    Heading,
    Inline,
    Item,
    Lang,
    Para,
    Span,
    TableBlock,
    blocks_markdown,
    inline,
    number,
    t,
)
from mutasi_rules.planning.recommendation import RecommendationResult
from mutasi_rules.planning.training_plan import TrainingPlan, training_plan

#: key -> the English text; Bahasa Indonesia comes from the message catalogue (mutasi_rules.core.i18n).
_R: dict[str, str | tuple[str, str]] = {
    "title": N_("Transfer plan report for the head of the region"),
    "run": N_("Audit record"),
    "record_hash": N_("Record hash (check: mutasi-rules audit verify --expect-head)"),
    "dataset": N_("Dataset"),
    "as_of": N_("Data as of"),
    "plan_date": N_("Plan date"),
    "summary": N_("Summary"),
    "summary_text": N_("The plan holds {moves} transfers ({recommended} outright, {conditional} conditional on "
                       "training) touching {opds} agencies. {unfilled} of {short} positions short of staff remain "
                       "unfilled."),
    "by_opd": N_("Transfers by agency"),
    "opd": N_("Agency"),
    "in": N_("In"),
    "out": N_("Out"),
    "ej_before": N_("EJ before"),
    "ej_after": N_("EJ after"),
    "balance_intro": N_("EJ (job efficiency) = workload / (staff x effective hours). Normal band: {low} to {high}."),
    "figure": N_("Figure"),
    "ej_mean": N_("Mean EJ"),
    "ej_min": N_("Lowest EJ"),
    "ej_max": N_("Highest EJ"),
    "outside_n": N_("Agencies outside the band"),
    "chart": N_("EJ by agency before and after"),
    "chart_scope_all": N_("All agencies; dashed lines: the normal band."),
    "chart_scope_touched": N_("Agencies the plan touches; dashed lines: the normal band."),
    "moves": N_("Transfers"),
    "unfilled": N_("Shortages left unfilled"),
    "none_unfilled": N_("Every shortage is filled."),
    "remaining": N_("Left"),
    "considered": N_("Considered"),
    "trainings": N_("Trainings needed"),
    "none_trainings": N_("No training is needed."),
    "training": N_("Training"),
    "persons": N_("Participants"),
    "hours_each": N_("Hours each"),
    "hours_total": N_("Hours in total"),
    "provider": N_("Provider"),
    "not_offered": N_("not in the catalogue"),
    "required_by": N_("Required by"),
    "schedule": N_("Training schedule"),
    "batches": N_("Batches"),
    "capacity": N_("Capacity"),
    "latest_start": N_("Latest start"),
    "completes": N_("Completes"),
    "schedule_status": N_("Status"),
    "status_on_time": N_("before the plan date"),
    "status_late": N_("late"),
    "status_not_in_catalogue": N_("not in the catalogue"),
    "effective": N_("When conditional moves and time-bounded assignments take effect"),
    "effective_date": N_("Effective"),
    "assignment_until": N_("Assignment until"),
    "unscheduled": N_("awaiting a training schedule"),
    "provenance": N_("Rule sets and plugins used"),
    "ruleset": N_("Rule set"),
    "version": N_("Version"),
    "origin": N_("Origin"),
    "plugin": N_("Plugin"),
    "no_plugins": N_("No plugins."),
    "skipped": N_("Plugins skipped"),
    "decision": N_("This plan is a proposal for the decision of the {head} as the appointing official (PPK)."),
}


def r(key: str, lang: Lang, **values: object) -> str:
    text = localized(_R[key], lang)
    return text.format(**values) if values else text


# ----------------------------------------------------------------- chart


def chart_rows(result: RecommendationResult, workload: WorkloadReport | None = None) -> list[OpdEj]:
    """EJ per OPD before and after: the OPDs the plan touches, plus every other OPD of ``workload``."""
    return plan_rows(result, workload)


def ej_chart_svg(result: RecommendationResult, lang: Lang = "id", workload: WorkloadReport | None = None) -> str:
    """A horizontal bar chart of EJ per OPD before and after, as an inline ``<svg>`` element."""
    return plan_chart_svg(chart_rows(result, workload), result.balance_before, t("before", lang), t("after", lang))


# ----------------------------------------------------------------- document


@dataclass(frozen=True)
class Svg:
    """An inline SVG figure (trusted: produced by :func:`ej_chart_svg`, not from data)."""

    svg: str
    caption: str


ReportBlock = Block | Svg


def _ej(value: float | None, result: RecommendationResult, lang: Lang) -> str:
    """An EJ on its own side of every grade and balance-band edge (0.896, outside the band, is 0,89)."""
    return number(None if value is None else result.run.options.workload.ej_shown(value, 2), 2, lang)


def _place(name: str, unit: str) -> str:
    return f"{name} ({unit})"


def report_blocks(result: RecommendationResult, *, lang: Lang = "id", run_id: str | None = None,
                  workload: WorkloadReport | None = None, region: RegionSettings | None = None,
                  record_hash: str | None = None) -> list[ReportBlock]:
    """The report's blocks; ``region`` names who decides (default: neutral words)."""
    run = result.run
    region = region or RegionSettings()
    head = [f"{r('dataset', lang)}: {run.dataset}", f"{r('as_of', lang)}: {run.as_of.isoformat()}",
            f"{r('plan_date', lang)}: {run.plan_date.isoformat()}"]
    if run_id:
        head.append(f"{r('run', lang)}: {run_id}")
    if record_hash:
        head.append(f"{r('record_hash', lang)}: {record_hash}")
    unfilled = [s for s in result.shortages if s.remaining > 0]
    conditional = sum(1 for m in result.moves if m.status == "conditional")
    blocks: list[ReportBlock] = [
        Heading(1, r("title", lang)),
        Bullets(tuple(Item(inline(line)) for line in head)),
        Para(inline(r("decision", lang, head=region.head_title))),
        Heading(2, r("summary", lang)),
        Para(inline(r("summary_text", lang, moves=len(result.moves), recommended=len(result.moves) - conditional,
                      conditional=conditional, opds=len(result.units), unfilled=len(unfilled),
                      short=len(result.shortages)))),
        Heading(3, r("by_opd", lang)),
        TableBlock(
            header=(r("opd", lang), r("in", lang), r("out", lang), r("ej_before", lang), r("ej_after", lang)),
            rows=tuple((u.name, str(u.moves_in), str(u.moves_out), _ej(u.ej_before, result, lang),
                        _ej(u.ej_after, result, lang)) for u in result.units),
            right=frozenset({1, 2, 3, 4}),
        ),
        Heading(2, t("balance", lang)),
    ]
    b, a = result.balance_before, result.balance_after
    blocks.append(Para(inline(r("balance_intro", lang, low=number(b.band_low, 2, lang),
                                high=number(b.band_high, 2, lang)))))

    def extreme(value: float | None, unit: str | None) -> str:
        return _ej(value, result, lang) + (f" ({unit})" if unit else "")

    blocks.append(TableBlock(
        header=(r("figure", lang), t("before", lang), t("after", lang)),
        rows=(
            (t("ej_std", lang), number(b.ej_std, 4, lang), number(a.ej_std, 4, lang)),
            (r("ej_mean", lang), number(b.ej_mean, 4, lang), number(a.ej_mean, 4, lang)),
            (r("ej_min", lang), extreme(b.ej_min, b.ej_min_unit), extreme(a.ej_min, a.ej_min_unit)),
            (r("ej_max", lang), extreme(b.ej_max, b.ej_max_unit), extreme(a.ej_max, a.ej_max_unit)),
            (r("outside_n", lang), f"{len(b.outside_band)} / {b.units_considered}",
             f"{len(a.outside_band)} / {a.units_considered}"),
            (t("outside", lang), number(b.outside_band_share, 3, lang), number(a.outside_band_share, 3, lang)),
        ),
        right=frozenset({1, 2}),
    ))
    blocks.append(Heading(2, r("chart", lang)))
    blocks.append(Svg(ej_chart_svg(result, lang, workload),
                      r("chart_scope_all" if workload is not None else "chart_scope_touched", lang)))

    blocks.append(Heading(2, f"{r('moves', lang)} ({len(result.moves)})"))
    if result.moves:
        blocks.append(TableBlock(
            header=tuple(t(k, lang) for k in ("nip", "name", "from", "to", "status", "score", "training")),
            rows=tuple((m.nip, m.name, _place(m.from_.position_name, m.from_.unit_name),
                        _place(m.to.position_name, m.to.unit_name), t(m.status, lang), number(m.score, 1, lang),
                        ", ".join(n.name for n in m.trainings_required) or "-") for m in result.moves),
            right=frozenset({5}),
        ))
    else:
        blocks.append(Para(inline(t("no_moves", lang))))

    blocks.append(Heading(2, f"{r('unfilled', lang)} ({len(unfilled)})"))
    if unfilled:
        blocks.append(TableBlock(
            header=(t("position", lang), t("short", lang), t("received", lang), r("remaining", lang), "EJ",
                    r("considered", lang), t("eligible", lang), t("why_unfilled", lang)),
            rows=tuple((_place(s.position.position_name, s.position.unit_name), str(s.shortage), str(s.received),
                        str(s.remaining), _ej(s.ej_after, result, lang), str(s.candidates_considered),
                        str(s.candidates_eligible), s.unfilled_reason.get(lang) if s.unfilled_reason else "-")
                       for s in unfilled),
            right=frozenset({1, 2, 3, 4, 5, 6}),
        ))
    else:
        blocks.append(Para(inline(r("none_unfilled", lang))))

    blocks.append(Heading(2, r("trainings", lang)))
    if result.trainings_total:
        rows = []
        for need in result.trainings_total:
            persons = sum(1 for m in result.moves
                          if any(n.name.casefold() == need.name.casefold() for n in m.trainings_required))
            offer = need.offer
            rows.append((need.name, str(persons), number(offer.hours, 0, lang) if offer else "-",
                         number(offer.hours * persons, 0, lang) if offer else "-",
                         offer.provider if offer else r("not_offered", lang), ", ".join(need.required_by)))
        blocks.append(TableBlock(
            header=(r("training", lang), r("persons", lang), r("hours_each", lang), r("hours_total", lang),
                    r("provider", lang), r("required_by", lang)),
            rows=tuple(rows), right=frozenset({1, 2, 3}),
        ))
    else:
        blocks.append(Para(inline(r("none_trainings", lang))))

    blocks.extend(_schedule_blocks(training_plan(result), lang))

    blocks.append(Heading(2, r("provenance", lang)))
    blocks.append(TableBlock(
        header=(r("ruleset", lang), r("version", lang), r("origin", lang), "SHA-256"),
        rows=tuple((rs.id, rs.version, rs.origin, rs.sha256[:16]) for rs in run.rulesets),
    ))
    if run.plugins:
        blocks.append(TableBlock(header=(r("plugin", lang), r("version", lang), r("origin", lang)),
                                 rows=tuple((p.name, p.version, p.source) for p in run.plugins)))
    else:
        blocks.append(Para(inline(r("no_plugins", lang))))
    if run.skipped_plugins:
        blocks.append(Para(inline(Span(r("skipped", lang), "b"))))
        blocks.append(Bullets(tuple(Item(inline(s)) for s in run.skipped_plugins)))
    blocks.append(Para(inline(f"mutasi-rules {run.library_version} · {r('dataset', lang)} SHA-256 ",
                              Span(run.dataset_sha256, "code"))))
    if result.warnings:
        blocks.append(Heading(2, t("warnings", lang)))
        blocks.append(Bullets(tuple(Item(inline(translate_message(w, lang))) for w in result.warnings)))
    return blocks


def _schedule_blocks(plan: TrainingPlan, lang: Lang) -> list[ReportBlock]:
    """When trainings run (batches before the plan date) and when each conditional or time-bounded move starts."""
    blocks: list[ReportBlock] = []
    if plan.trainings:
        blocks.append(Heading(3, r("schedule", lang)))
        blocks.append(TableBlock(
            header=(r("training", lang), r("persons", lang), r("batches", lang), r("capacity", lang),
                    r("latest_start", lang), r("completes", lang), r("schedule_status", lang)),
            rows=tuple((s.name, str(len(s.participants)), str(len(s.batches)),
                        str(s.capacity) if s.capacity else "-", str(s.latest_start or "-"), str(s.completes or "-"),
                        r(f"status_{s.status}", lang)) for s in plan.trainings),
            right=frozenset({1, 2, 3}),
        ))
    timed = [m for m in plan.moves if m.trainings or m.assignment_until]
    if timed:
        blocks.append(Heading(3, r("effective", lang)))
        blocks.append(TableBlock(
            header=(t("nip", lang), t("name", lang), r("effective_date", lang), r("assignment_until", lang)),
            rows=tuple((m.nip, m.name, str(m.effective_date or r("unscheduled", lang)),
                        str(m.assignment_until or "-")) for m in timed),
        ))
    if plan.warnings:
        blocks.append(Bullets(tuple(Item(inline(translate_message(w, lang))) for w in plan.warnings)))
    return blocks


# ----------------------------------------------------------------- rendering


def _markdown(blocks: Sequence[ReportBlock]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Svg):
            out.append(f'<figure>\n{block.svg}<figcaption>{html.escape(block.caption)}</figcaption>\n</figure>\n')
        else:
            out.append(blocks_markdown([block]))
    return "\n".join(out)


def _html_inline(parts: Inline) -> str:
    out = []
    for part in parts:
        text = html.escape(part.text)
        out.append(f"<strong>{text}</strong>" if part.style == "b" else f"<code>{text}</code>"
                   if part.style == "code" else text)
    return "".join(out)


def _html_items(items: Iterable[Item]) -> str:
    out = ["<ul>"]
    for item in items:
        children = _html_items(item.children) if item.children else ""
        out.append(f"<li>{_html_inline(item.parts)}{children}</li>")
    out.append("</ul>")
    return "".join(out)


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 1100px; margin: 2em auto;
       padding: 0 1em; color: #1b1f23; line-height: 1.45; }
h1 { font-size: 1.6em; border-bottom: 2px solid #1f77b4; padding-bottom: .2em; }
h2 { font-size: 1.25em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; font-size: .92em; }
th, td { border: 1px solid #d0d7de; padding: .3em .6em; vertical-align: top; text-align: left; }
th { background: #f3f5f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font-size: .9em; background: #f3f5f7; padding: 0 .2em; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
figcaption { font-size: .9em; color: #57606a; }
""".strip()


def _html(blocks: Sequence[ReportBlock], lang: Lang, title: str) -> str:
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            body.append(f"<h{block.level}>{html.escape(block.text)}</h{block.level}>")
        elif isinstance(block, Para):
            body.append(f"<p>{_html_inline(block.parts)}</p>")
        elif isinstance(block, Bullets):
            body.append(_html_items(block.items))
        elif isinstance(block, Svg):
            body.append(f"<figure>\n{block.svg}<figcaption>{html.escape(block.caption)}</figcaption>\n</figure>")
        else:
            numeric = block.right

            def cls(i: int, numeric: frozenset[int] = numeric) -> str:
                return ' class="num"' if i in numeric else ""

            head = "".join(f"<th{cls(i)}>{html.escape(h)}</th>" for i, h in enumerate(block.header))
            rows = "".join("<tr>" + "".join(f"<td{cls(i)}>{html.escape(c)}</td>" for i, c in enumerate(row)) + "</tr>"
                           for row in block.rows)
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    return (f'<!DOCTYPE html>\n<html lang="{lang}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


def report_markdown(result: RecommendationResult, *, lang: Lang = "id", run_id: str | None = None,
                    workload: WorkloadReport | None = None, region: RegionSettings | None = None,
                    record_hash: str | None = None) -> str:
    """The report as Markdown (the chart as an inline ``<svg>`` HTML block)."""
    return _markdown(report_blocks(result, lang=lang, run_id=run_id, workload=workload, region=region,
                                   record_hash=record_hash))


def report_html(result: RecommendationResult, *, lang: Lang = "id", run_id: str | None = None,
                workload: WorkloadReport | None = None, region: RegionSettings | None = None,
                record_hash: str | None = None) -> str:
    """The report as one self-contained HTML file (inline CSS and SVG, no scripts)."""
    title = f"{r('title', lang)}: {result.run.dataset}"
    blocks = report_blocks(result, lang=lang, run_id=run_id, workload=workload, region=region,
                           record_hash=record_hash)
    return _html(blocks, lang, title)


REPORT_SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


def check_report_path(path: str | os.PathLike[str]) -> Path:
    """``path`` when a report can be written there: an HTML or Markdown name, not a folder or device.

    Raises :class:`~mutasi_rules.core.atomic.OutputError` otherwise.
    """
    target = check_output_path(path)
    if target.suffix.lower() not in REPORT_SUFFIXES:
        raise OutputError(f"{target}: a report file name ends in .html, .htm, .md or .markdown "
                          f"(not {target.suffix or 'no suffix'!r}); the report is HTML or Markdown")
    return target


def write_report(result: RecommendationResult, path: str | os.PathLike[str], *, lang: Lang = "id",
                 run_id: str | None = None, workload: WorkloadReport | None = None,
                 region: RegionSettings | None = None, record_hash: str | None = None) -> Path:
    """Write the report atomically: ``.html``/``.htm`` gives HTML, ``.md``/``.markdown`` Markdown.

    Any other suffix (``.pdf``, ``.docx``...) is an :class:`~mutasi_rules.core.atomic.OutputError`:
    writing Markdown into a file that claims to be something else is refused.
    """
    target = check_report_path(path)
    render = report_html if REPORT_SUFFIXES[target.suffix.lower()] == "html" else report_markdown
    write_text(target, render(result, lang=lang, run_id=run_id, workload=workload, region=region,
                              record_hash=record_hash))
    return target


__all__ = [
    "SVG_HASH_SALT",
    "OpdEj",
    "chart_rows",
    "check_report_path",
    "ej_chart_svg",
    "report_blocks",
    "report_html",
    "report_markdown",
    "write_report",
]
