"""Explanations of a recommendation result, for people: terminal tables and Markdown.

Everything shown here is read from the result object; nothing is recomputed, so what a
person reads is exactly what the JSON records. Bahasa Indonesia is the default language;
English is available for every heading and every rule message.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from rich.console import Console
from rich.table import Table

from .recommend import Move, RecommendationResult

Lang = Literal["id", "en"]

_TEXT: dict[str, dict[Lang, str]] = {
    "plan": {"id": "Rencana mutasi", "en": "Transfer plan"},
    "nip": {"id": "NIP", "en": "NIP"},
    "name": {"id": "Nama", "en": "Name"},
    "from": {"id": "Dari", "en": "From"},
    "to": {"id": "Ke", "en": "To"},
    "status": {"id": "Status", "en": "Status"},
    "score": {"id": "Nilai", "en": "Score"},
    "training": {"id": "Pelatihan lebih dulu", "en": "Training first"},
    "recommended": {"id": "direkomendasikan", "en": "recommended"},
    "conditional": {"id": "bersyarat pelatihan", "en": "conditional on training"},
    "balance": {"id": "Keseimbangan beban kerja antar-OPD", "en": "Workload balance across agencies"},
    "before": {"id": "Sebelum", "en": "Before"},
    "after": {"id": "Sesudah", "en": "After"},
    "ej_std": {"id": "Simpangan baku EJ", "en": "EJ standard deviation"},
    "outside": {"id": "Porsi OPD di luar pita", "en": "Share of agencies outside the band"},
    "shortages": {"id": "Jabatan kekurangan pegawai", "en": "Positions short of staff"},
    "position": {"id": "Jabatan", "en": "Position"},
    "short": {"id": "Kurang", "en": "Short"},
    "received": {"id": "Diisi", "en": "Filled"},
    "eligible": {"id": "Calon layak", "en": "Eligible"},
    "why_unfilled": {"id": "Alasan belum terisi", "en": "Why not filled"},
    "no_moves": {"id": "Tidak ada mutasi yang direkomendasikan.", "en": "No transfer is recommended."},
    "warnings": {"id": "Peringatan", "en": "Warnings"},
    "moves_count": {"id": "mutasi", "en": "moves"},
}


def t(key: str, lang: Lang) -> str:
    return _TEXT[key][lang]


def _fmt(value: float | None, places: int = 3) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _place(move: Move, side: Literal["from", "to"]) -> str:
    ref = move.from_ if side == "from" else move.to
    return f"{ref.position_name} ({ref.unit_name})"


def _status(move: Move, lang: Lang) -> str:
    return t(move.status, lang)


def render_table(result: RecommendationResult, console: Console, lang: Lang = "id") -> None:
    """The plan, the balance and the shortages as terminal tables."""
    moves = Table(title=f"{t('plan', lang)}: {len(result.moves)} {t('moves_count', lang)}", show_lines=False)
    for key in ("nip", "name", "from", "to", "status", "score", "training"):
        moves.add_column(t(key, lang), overflow="fold")
    for move in result.moves:
        moves.add_row(move.nip, move.name, _place(move, "from"), _place(move, "to"), _status(move, lang),
                      f"{move.score:.1f}", ", ".join(n.name for n in move.trainings_required) or "-")
    if result.moves:
        console.print(moves)
    else:
        console.print(t("no_moves", lang))

    balance = Table(title=t("balance", lang))
    balance.add_column("")
    balance.add_column(t("before", lang), justify="right")
    balance.add_column(t("after", lang), justify="right")
    b, a = result.balance_before, result.balance_after
    balance.add_row(t("ej_std", lang), _fmt(b.ej_std), _fmt(a.ej_std))
    balance.add_row(t("outside", lang), _fmt(b.outside_band_share), _fmt(a.outside_band_share))
    console.print(balance)

    shortages = Table(title=t("shortages", lang))
    for key in ("position", "short", "received", "eligible", "why_unfilled"):
        shortages.add_column(t(key, lang), overflow="fold")
    for report in result.shortages:
        shortages.add_row(f"{report.position.position_name} ({report.position.unit_name})", str(report.shortage),
                          str(report.received), str(report.candidates_eligible),
                          report.unfilled_reason.get(lang) if report.unfilled_reason else "-")
    console.print(shortages)
    for warning in result.warnings:
        console.print(f"[yellow]{t('warnings', lang)}:[/yellow] {warning}")


def _md_row(cells: Iterable[object]) -> str:
    return "| " + " | ".join(str(c).replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def render_markdown(result: RecommendationResult, lang: Lang = "id") -> str:
    """The plan as a Markdown document, with each move's reasons."""
    out = [f"# {t('plan', lang)}: {result.run.dataset}", ""]
    out.append(f"as_of: {result.run.as_of.isoformat()} · plan: {result.run.plan_date.isoformat()} · "
               f"mutasi-rules {result.run.library_version}")
    out += ["", f"## {t('balance', lang)}", "", _md_row(["", t("before", lang), t("after", lang)]),
            _md_row(["---", "---:", "---:"])]
    out.append(_md_row([t("ej_std", lang), _fmt(result.balance_before.ej_std), _fmt(result.balance_after.ej_std)]))
    out.append(_md_row([t("outside", lang), _fmt(result.balance_before.outside_band_share),
                        _fmt(result.balance_after.outside_band_share)]))
    out += ["", f"## {t('plan', lang)} ({len(result.moves)} {t('moves_count', lang)})", ""]
    if not result.moves:
        out.append(t("no_moves", lang))
    else:
        out.append(_md_row([t(k, lang) for k in ("nip", "name", "from", "to", "status", "score", "training")]))
        out.append(_md_row(["---"] * 7))
        for move in result.moves:
            out.append(_md_row([move.nip, move.name, _place(move, "from"), _place(move, "to"), _status(move, lang),
                                f"{move.score:.1f}", ", ".join(n.name for n in move.trainings_required) or "-"]))
        for move in result.moves:
            out += ["", f"### {move.name} ({move.nip})", ""]
            out.append(f"{_place(move, 'from')} → {_place(move, 'to')}: **{_status(move, lang)}**, "
                       f"{t('score', lang).lower()} {move.score:.1f}")
            out.append("")
            for part in move.score_breakdown:
                out.append(f"- {part.name}: {part.points:+.2f} ({part.source})")
            for finding in move.findings:
                out.append(f"- [{finding.effect.value}] {finding.message.get(lang)} "
                           f"— {finding.legal_basis} (`{finding.rule_key}`, {finding.source})")
    out += ["", f"## {t('shortages', lang)}", "",
            _md_row([t(k, lang) for k in ("position", "short", "received", "eligible", "why_unfilled")]),
            _md_row(["---", "---:", "---:", "---:", "---"])]
    for report in result.shortages:
        out.append(_md_row([f"{report.position.position_name} ({report.position.unit_name})", report.shortage,
                            report.received, report.candidates_eligible,
                            report.unfilled_reason.get(lang) if report.unfilled_reason else "-"]))
    if result.warnings:
        out += ["", f"## {t('warnings', lang)}", ""] + [f"- {w}" for w in result.warnings]
    return "\n".join(out) + "\n"
