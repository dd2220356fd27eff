"""Excel workbooks and CSV files for people who work in Excel: the plan and the workload analysis.

Every writer here is deterministic (same result, same bytes: no timestamps in the workbook
or its zip entries) and safe to open: a text cell starting with ``=``, ``+``, ``-`` or ``@``
is never a formula (issue #21). In a workbook such a cell is a string cell with Excel's
*quote prefix* (shown and edited as text, value unchanged); in CSV it gets a leading
apostrophe (:func:`~mutasi_rules.data.cellformats.neutralise_formula`).

Cells keep their types: numbers are numbers, dates are date cells; headers are frozen and
columns sized to their content. Column headers are in Bahasa Indonesia (``lang="id"``) or
English (``lang="en"``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mutasi_rules.core.i18n import Lang, translator
from mutasi_rules.data.cellformats import deterministic_xlsx, fill_sheet, neutralise_formula

__all__ = [
    "CSV_DIALECTS",
    "Sheet",
    "csv_text",
    "plan_workbook",
    "workbook_bytes",
    "workload_workbook",
]

CsvDialect = Literal["standard", "id"]
#: ``standard``: ``,`` and a decimal point, UTF-8, LF. ``id``: what Excel under Indonesian
#: regional settings opens directly: ``;``, decimal comma, UTF-8 with BOM, CRLF.
CSV_DIALECTS: tuple[str, ...] = ("standard", "id")



@dataclass
class Sheet:
    """One worksheet: a title, column headers and typed rows (str, int, float, bool, date or None)."""

    title: str
    header: Sequence[str]
    rows: list[list[Any]] = field(default_factory=list)
    number_formats: dict[int, str] = field(default_factory=dict)  # column index -> Excel number format


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A deterministic .xlsx holding ``sheets`` in order."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.worksheets[0])  # the default empty sheet
    for spec in sheets:
        fill_sheet(book.create_sheet(spec.title[:31]), spec.header, spec.rows, spec.number_formats)
    return deterministic_xlsx(book)


# --------------------------------------------------------------------------- CSV


def _csv_cell(value: Any, decimal_comma: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = repr(value)
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return neutralise_formula(";".join(str(v) for v in value))
    return neutralise_formula(str(getattr(value, "value", value)))


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]], dialect: CsvDialect | str = "standard") -> str:
    """Rows as CSV in ``dialect``; text cells that would start a formula get a leading apostrophe.

    Numbers are written as numbers (a negative gap stays ``-1.5``); only text is neutralised.
    The ``id`` dialect starts with a BOM, so Excel reads it as UTF-8.
    """
    indonesian = dialect == "id"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if indonesian else ",", lineterminator="\r\n" if indonesian else "\n")
    writer.writerow([neutralise_formula(str(h)) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v, indonesian) for v in row])
    return ("\ufeff" if indonesian else "") + buffer.getvalue()


# --------------------------------------------------------------------------- the plan


_NUMBER = "0.00"
_EJ = "0.000"


def plan_workbook(result: Any, lang: Lang = "id", workload: Any = None) -> bytes:
    """The transfer plan as a workbook: summary, moves, shortages, trainings, OPD balance, people excluded.

    ``result`` is a :class:`~mutasi_rules.planning.recommendation.RecommendationResult`; with the run's
    ``workload`` (:class:`~mutasi_rules.analysis.workload.WorkloadReport`) the balance sheet lists every
    OPD, those the plan does not touch unchanged, else only the OPDs the plan touches.
    """
    _ = translator(lang)
    run = result.run
    summary = Sheet(_("Summary"), [_("Item"), _("Value")])
    rows = summary.rows
    rows += [
        [_("Dataset"), run.dataset],
        [_("Dataset SHA-256"), run.dataset_sha256],
        [_("Reference date (as_of)"), run.as_of],
        [_("Planned transfer date"), run.plan_date],
        [_("mutasi-rules version"), run.library_version],
        [_("Number of moves"), len(result.moves)],
        [_("Conditional moves (training first)"), sum(1 for m in result.moves if m.status == "conditional")],
        [_("Positions short of staff"), len(result.shortages)],
        [_("Staff excluded"), len(result.excluded)],
    ]
    for label, figure in ((_("before"), result.balance_before), (_("after"), result.balance_after)):
        rows += [
            [_("Mean OPD EJ ({when})").format(when=label), figure.ej_mean],
            [_("Spread of OPD EJ, standard deviation ({when})").format(when=label), figure.ej_std],
            [_("OPD outside the balanced band ({when})").format(when=label), len(figure.outside_band)],
        ]
    for ruleset in run.rulesets:
        rows.append([_("Rule set"), f"{ruleset.id} {ruleset.version} ({ruleset.origin})"])
    for plugin in run.plugins:
        rows.append([_("Plugin"), f"{plugin.name} {plugin.version}"])
    for warning in result.warnings:
        rows.append([_("Warning"), warning])

    moves = Sheet(
        _("Moves"),
        [_("NIP"), _("Name"), _("From position"), _("From unit"), _("From OPD"), _("To position"), _("To unit"),
         _("To OPD"), _("Status"), _("Score"), _("Training required"), _("Source position EJ before"),
         _("Source position EJ after"), _("Target position EJ before"), _("Target position EJ after"),
         _("Rules applied"), _("Legal basis")],
        number_formats={9: _NUMBER, 11: _EJ, 12: _EJ, 13: _EJ, 14: _EJ},
    )
    status = {"recommended": _("recommended"), "conditional": _("conditional on training")}
    for move in result.moves:
        moves.rows.append([
            move.nip, move.name, move.from_.position_name, move.from_.unit_name, move.from_.opd_id,
            move.to.position_name, move.to.unit_name, move.to.opd_id, status[move.status], move.score,
            [need.name for need in move.trainings_required],
            move.source_effect.position_ej_before, move.source_effect.position_ej_after,
            move.target_effect.position_ej_before, move.target_effect.position_ej_after,
            sorted({f.rule_key for f in move.findings}),
            sorted({f.legal_basis for f in move.findings if f.legal_basis}),
        ])

    shortages = Sheet(
        _("Shortages"),
        [_("Position ID"), _("Positions"), _("Unit name"), _("OPD"), _("Shortage"), _("Received"), _("Remaining"),
         _("EJ before"), _("EJ after"), _("Candidates considered"), _("Candidates eligible"),
         _("Why unfilled")],
        number_formats={7: _EJ, 8: _EJ},
    )
    for short in result.shortages:
        p = short.position
        shortages.rows.append([
            p.position_id, p.position_name, p.unit_name, p.opd_id, short.shortage, short.received, short.remaining,
            short.ej_before, short.ej_after, short.candidates_considered, short.candidates_eligible,
            short.unfilled_reason.get(lang) if short.unfilled_reason else None,
        ])

    trainings = Sheet(_("Training needs"),
                      [_("Training"), _("Staff"), _("Staff (NIP)"), _("Required by rules"),
                       _("Provider"), _("Hours")])
    for need in result.trainings_total:
        people = sorted(m.nip for m in result.moves if any(t.name == need.name for t in m.trainings_required))
        trainings.rows.append([
            need.name, len(people), people, need.required_by,
            need.offer.provider if need.offer else None, need.offer.hours if need.offer else None,
        ])

    balance = Sheet(_("OPD balance"),
                    [_("Unit ID"), _("OPD"), _("Moves out"), _("Moves in"), _("EJ before"), _("EJ after"),
                     _("EJ change")],
                    number_formats={4: _EJ, 5: _EJ, 6: _EJ})
    touched = {unit.unit_id: unit for unit in result.units}
    opds = [(u.unit_id, u.name, u.ej) for u in workload.opd_units()] if workload is not None else []
    for unit_id, name, ej in sorted(opds + [(u.unit_id, u.name, u.ej_before) for u in result.units
                                           if u.unit_id not in {o[0] for o in opds}]):
        unit = touched.get(unit_id)
        before, after = (unit.ej_before, unit.ej_after) if unit is not None else (ej, ej)
        change = None if before is None or after is None else round(after - before, 4)
        balance.rows.append([unit_id, name, unit.moves_out if unit else 0, unit.moves_in if unit else 0, before, after,
                             change])

    excluded = Sheet(_("Excluded"),
                     [_("NIP"), _("Name"), _("Position ID"), _("Blocking rule"), _("Rule set version"), _("Reason"),
                      _("Legal basis")])
    for person in result.excluded:
        for finding in person.findings:
            excluded.rows.append([person.nip, person.name, person.position_id, finding.rule_key,
                                  finding.ruleset_version, finding.message.get(lang), finding.legal_basis])
    return workbook_bytes([summary, moves, shortages, trainings, balance, excluded])


# --------------------------------------------------------------------------- the workload analysis


def workload_rows(positions: Iterable[Any], columns: Sequence[str]) -> list[list[Any]]:
    """Position rows for CSV and workbook output, typed (enums as their values)."""
    return [[_plain(getattr(p, column)) for column in columns] for p in positions]


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [str(getattr(v, "value", v)) for v in value]
    return getattr(value, "value", value)


def workload_workbook(report: Any, positions: Sequence[Any], units: Sequence[Any], columns: Sequence[str],
                      lang: Lang = "id") -> bytes:
    """The workload analysis as a workbook: units (OPD first), positions, and the balance figure.

    ``report`` is a :class:`~mutasi_rules.analysis.workload.WorkloadReport`; ``positions`` and ``units`` the rows shown.
    """
    _ = translator(lang)
    unit_sheet = Sheet(
        _("Units"),
        [_("Unit ID"), _("Name"), _("OPD"), _("Position count"), _("Positions without data"), _("Bezetting"),
         _("Workload hours"), _("Staff needed"), _("Staff needed (rounded)"), _("Gap"), _("EJ"),
         _("EJ grade"), _("Label")],
        number_formats={6: "#,##0", 7: _NUMBER, 9: _NUMBER, 10: _EJ},
    )
    ordered = sorted(units, key=lambda u: (not u.is_opd, u.unit_id))
    for u in ordered:
        unit_sheet.rows.append([u.unit_id, u.name, u.opd_id, u.position_count, u.positions_without_data, u.bezetting,
                                u.workload_hours, u.staff_needed, u.staff_needed_rounded, u.gap, u.ej, u.ej_grade,
                                list(u.labels)])
    position_sheet = Sheet(_("Positions"), [str(c) for c in columns],
                           number_formats={columns.index(c): _EJ for c in ("ej",) if c in columns})
    position_sheet.rows = workload_rows(positions, columns)
    b = report.balance
    balance = Sheet(_("Balance"), [_("Item"), _("Value")])
    balance.rows = [
        [_("Dataset"), report.dataset],
        [_("Reference date (as_of)"), report.as_of],
        [_("Effective hours per year"), report.effective_hours_per_year],
        [_("OPD with an EJ"), b.units_considered],
        [_("Mean EJ"), b.ej_mean],
        [_("EJ standard deviation"), b.ej_std],
        [_("Lowest EJ"), b.ej_min],
        [_("OPD with the lowest EJ"), b.ej_min_unit],
        [_("Highest EJ"), b.ej_max],
        [_("OPD with the highest EJ"), b.ej_max_unit],
        [_("Balanced band"), f"{b.band_low:g}–{b.band_high:g}"],
        [_("OPD outside the band"), list(b.outside_band)],
        [_("OPD without an EJ"), list(b.units_excluded)],
    ]
    for warning in report.warnings:
        balance.rows.append([_("Note"), warning])
    return workbook_bytes([unit_sheet, position_sheet, balance])
