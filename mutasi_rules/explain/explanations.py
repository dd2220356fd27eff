"""Explanations of a recommendation result, for people: terminal tables and Markdown.

Everything shown here is read from the result object; nothing is recomputed, so what a
person reads is exactly what the JSON records. Bahasa Indonesia is the default language;
English is available for every heading and every rule message.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from rich import box
from rich.console import Console
from rich.markup import escape as rich_escape
from rich.table import Table
from rich.text import Text

from mutasi_rules.core.escaping import DataTable, md_escape, plain
from mutasi_rules.core.i18n import N_, NC_, localized, translate_message, translator
from mutasi_rules.planning.recommendation import Move, RecommendationResult, TrainingNeed
from mutasi_rules.planning.scoring import ScoreComponentResult
from mutasi_rules.rules.engine import Finding
from mutasi_rules.rules.rulesets import (  # the display forms rule messages use
    EFFECTS,
    Effect,
    display_text,
    localize_number,
)

Lang = Literal["id", "en"]

#: key -> the English text; Bahasa Indonesia comes from the message catalogue (mutasi_rules.core.i18n).
_TEXT: dict[str, str | tuple[str, str]] = {
    "plan": N_("Transfer plan"),
    "nip": N_("NIP"),
    "name": N_("Name"),
    "from": N_("From"),
    "to": N_("To"),
    "status": N_("Status"),
    "score": N_("Score"),
    "training": N_("Training first"),
    "recommended": N_("recommended"),
    "conditional": N_("conditional on training"),
    "balance": N_("Workload balance across agencies"),
    "before": N_("Before"),
    "after": N_("After"),
    "ej_std": N_("EJ standard deviation"),
    "outside": N_("Share of agencies outside the band"),
    "shortages": N_("Positions short of staff"),
    "position": N_("Position"),
    "short": N_("Short"),
    "received": N_("Filled"),
    "eligible": N_("Eligible"),
    "why_unfilled": N_("Why not filled"),
    "no_moves": N_("No transfer is recommended."),
    "warnings": N_("Warnings"),
    "moves_count": N_("moves"),
    # The run's dates in the header line; English keeps the result's field names.
    "as_of_label": NC_("run header", "as_of"),
    "plan_label": NC_("run header", "plan"),
}


def t(key: str, lang: Lang) -> str:
    return localized(_TEXT[key], lang)


def _fmt(value: float | None, places: int = 3) -> str:
    return "-" if value is None else f"{value:.{places}f}"


def _place(move: Move, side: Literal["from", "to"]) -> str:
    ref = move.from_ if side == "from" else move.to
    return f"{ref.position_name} ({ref.unit_name})"


def _status(move: Move, lang: Lang) -> str:
    if move.assignment is None:
        return t(move.status, lang)
    until = move.assignment.until.isoformat()
    return t(move.status, lang) + localized(N_("; time-bounded assignment until {date}"), lang).format(date=until)


def review_text(move: Move, lang: Lang) -> str:
    """A pinned move's human decision: who, when, why, and every rule it overrides ('' when not pinned)."""
    review = move.review
    if review is None:
        return ""
    _ = translator(lang)
    rules = ", ".join(review.overridden)
    text = _("Pinned by {reviewer} ({date}, decision {decision}): {reason}.").format(
        reviewer=review.reviewer, date=review.date.isoformat(), decision=review.decision, reason=review.reason)
    return text + (_(" Human override of the rules: {rules}.").format(rules=rules) if rules else "")


def render_table(result: RecommendationResult, console: Console, lang: Lang = "id") -> None:
    """The plan, the balance and the shortages as terminal tables (data shown as it is, never as markup)."""
    moves = DataTable(title=f"{t('plan', lang)}: {len(result.moves)} {t('moves_count', lang)}", show_lines=False)
    for key in ("nip", "name", "from", "to", "status", "score", "training"):
        moves.add_column(t(key, lang), overflow="fold")
    for move in result.moves:
        moves.add_row(move.nip, move.name, _place(move, "from"), _place(move, "to"), _status(move, lang),
                      f"{move.score:.1f}", ", ".join(n.name for n in move.trainings_required) or "-")
    if result.moves:
        console.print(moves)
        for move in result.moves:
            if move.review is not None:
                console.print(f"{move.nip}: {review_text(move, lang)}")
    else:
        console.print(plain(t("no_moves", lang)))

    balance = DataTable(title=t("balance", lang))
    balance.add_column("")
    balance.add_column(t("before", lang), justify="right")
    balance.add_column(t("after", lang), justify="right")
    b, a = result.balance_before, result.balance_after
    balance.add_row(t("ej_std", lang), _fmt(b.ej_std), _fmt(a.ej_std))
    balance.add_row(t("outside", lang), _fmt(b.outside_band_share), _fmt(a.outside_band_share))
    console.print(balance)

    shortages = DataTable(title=t("shortages", lang))
    for key in ("position", "short", "received", "eligible", "why_unfilled"):
        shortages.add_column(t(key, lang), overflow="fold")
    for report in result.shortages:
        shortages.add_row(f"{report.position.position_name} ({report.position.unit_name})", str(report.shortage),
                          str(report.received), str(report.candidates_eligible),
                          report.unfilled_reason.get(lang) if report.unfilled_reason else "-")
    console.print(shortages)
    for warning in result.warnings:
        console.print(Text.assemble((f"{t('warnings', lang)}:", "yellow"), " ", translate_message(warning, lang)))


def _md_row(cells: Iterable[object]) -> str:
    """A Markdown table row of cells already escaped (or written by us)."""
    return "| " + " | ".join(str(c).replace("\n", " ") for c in cells) + " |"


def render_markdown(result: RecommendationResult, lang: Lang = "id") -> str:
    """The plan as a Markdown document, with each move's reasons (every data value escaped by md_escape)."""
    e = md_escape
    out = [f"# {t('plan', lang)}: {e(result.run.dataset)}", ""]
    out.append(f"{t('as_of_label', lang)}: {result.run.as_of.isoformat()} · "
               f"{t('plan_label', lang)}: {result.run.plan_date.isoformat()} · "
               f"mutasi-rules {e(result.run.library_version)}")
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
            out.append(_md_row([e(move.nip), e(move.name), e(_place(move, "from")), e(_place(move, "to")),
                                _status(move, lang), f"{move.score:.1f}",
                                e(", ".join(n.name for n in move.trainings_required) or "-")]))
        for move in result.moves:
            out += ["", f"### {e(move.name)} ({e(move.nip)})", ""]
            out.append(f"{e(_place(move, 'from'))} → {e(_place(move, 'to'))}: **{_status(move, lang)}**, "
                       f"{t('score', lang).lower()} {move.score:.1f}")
            if move.review is not None:
                out += ["", review_text(move, lang)]
            out.append("")
            for part in move.score_breakdown:
                out.append(f"- {e(part.name)}: {part.points:+.2f} ({e(part.source)})")
            for finding in move.findings:
                out.append(f"- \\[{finding.effect.value}\\] {e(finding.message.get(lang))} "
                           f"— {e(finding.legal_basis)} (`{finding.rule_key.replace('`', '')}`, {e(finding.source)})")
    out += ["", f"## {t('shortages', lang)}", "",
            _md_row([t(k, lang) for k in ("position", "short", "received", "eligible", "why_unfilled")]),
            _md_row(["---", "---:", "---:", "---:", "---"])]
    for report in result.shortages:
        out.append(_md_row([e(f"{report.position.position_name} ({report.position.unit_name})"), report.shortage,
                            report.received, report.candidates_eligible,
                            e(report.unfilled_reason.get(lang)) if report.unfilled_reason else "-"]))
    if result.warnings:
        out += ["", f"## {t('warnings', lang)}", ""] + [f"- {e(translate_message(w, lang))}" for w in result.warnings]
    return "\n".join(out) + "\n"


# =========================================================================== per-move explanations
#
# One document model, rendered three ways: ``text`` (terminal), ``md`` (Markdown) and
# ``json`` (:func:`explanation_json`). Blocks are built once from the result so the text
# and the Markdown can never say different things.

Format = Literal["text", "md"]

_X: dict[str, str | tuple[str, str]] = {
    "why": N_("Explanation of the transfer plan"),
    "run": N_("Record"),
    "effect_ej": N_("Effect on job efficiency (EJ)"),
    "source_pos": N_("Source position"),
    "source_opd": N_("Source agency"),
    "target_pos": N_("Target position"),
    "target_opd": N_("Target agency"),
    "findings": N_("Rules that fired"),
    "no_findings": N_("No rule fired."),
    "read": N_("Values read"),
    "basis": N_("Legal basis"),
    # What sets the rule's number or requirement (Rule.basis_kind; docs/legal-basis.md).
    "basis_statutory": N_("set by law"),
    "basis_convention": N_("a convention, not set by law"),
    "basis_agency_policy": N_("agency policy"),
    "rule": N_("Rule"),
    "version": N_("version"),
    "source": N_("source"),
    "replaces": N_("replaces"),
    "passed": N_("Rules checked that passed"),
    "no_passed": N_("None."),
    "breakdown": N_("Score breakdown"),
    "component": N_("Component"),
    "origin": NC_("explanation", "Origin"),
    "points": N_("Points"),
    "detail": N_("Detail"),
    "total": N_("Total"),
    "profile": N_("Profile matching (GAP method)"),
    "aspect": N_("Aspect"),
    "factor": N_("Factor"),
    "kind": N_("Kind"),
    "core": N_("core"),
    "secondary": N_("secondary"),
    "value": NC_("explanation", "Value"),
    "target": N_("Target"),
    "gap": NC_("explanation", "Gap"),
    "weight": N_("Weight"),
    "aspect_score": N_("aspect score"),
    "no_factor": N_("no factor applied"),
    "profile_total": N_("Profile score"),
    "trainings": N_("Trainings required"),
    "no_trainings": N_("None; can start at once."),
    "required_by": N_("required by"),
    "offer": N_("offered"),
    "hours": N_("hours"),
    "no_offer": N_("not in the training catalogue"),
    "not_moved": N_("is not in the transfer plan"),
    "excluded": N_("Cannot be transferred at all"),
    "as_candidate": N_("As a candidate for positions short of staff"),
    "outcome": N_("Outcome"),
    "reason": N_("Reason"),
    "blocking": N_("Blocking rules"),
    "vetoes": N_("Agency vetoes (plugins)"),
    "nothing": N_("This record holds nothing about this employee: they do not hold a position in surplus, or "
                  "were not among the top {n} candidates kept per position."),
    "hint": N_("For a full explanation and what would have to change for a transfer, run:"),
    "unknown_nip": N_("NIP {nip} is not in this record."),
}

_OUTCOME: dict[str, str | tuple[str, str]] = {
    "chosen": NC_("outcome", "chosen"),
    "outscored": NC_("outcome", "outscored"),
    "chosen_elsewhere": NC_("outcome", "chosen elsewhere"),
    "withheld_for_balance": NC_("outcome", "withheld for balance"),
    "constraint": NC_("outcome", "plan constraint"),
    "blocked": NC_("outcome", "not eligible"),
    "vetoed": NC_("outcome", "vetoed"),
}

_ORIGIN: dict[str, str | tuple[str, str]] = {
    "profile": N_("profile"),
    "workload": N_("workload"),
    "rule": N_("rule"),
    "plugin": N_("plugin"),
}


def outcome_text(outcome: str, lang: str) -> str:
    """What became of a candidate (``chosen``, ``outscored`` ...) in words, in ``lang``."""
    return localized(_OUTCOME[outcome], lang) if outcome in _OUTCOME else outcome


def x(key: str, lang: Lang, **values: object) -> str:
    """A localized explanation phrase, with ``{name}`` placeholders filled."""
    text = localized(_X[key], lang)
    return text.format(**values) if values else text


def number(value: float | None, places: int, lang: Lang) -> str:
    """A number for people: Indonesian uses the decimal comma (``0,85``), English the point."""
    if value is None:
        return "-"
    return localize_number(f"{value:.{places}f}", lang)


def signed(value: float, places: int, lang: Lang) -> str:
    """A score contribution with its sign: ``+10,00``."""
    return localize_number(f"{value:+.{places}f}", lang)


def opd_name(result: RecommendationResult, opd_id: str) -> str:
    """The name of an OPD the plan touches (``result.units``), else its id."""
    return next((u.name for u in result.units if u.unit_id == opd_id), opd_id)


def ej_text(value: float | None, result: RecommendationResult, lang: Lang) -> str:
    """An EJ value with its grade under the run's workload settings, e.g. ``1,70 (A)``."""
    if value is None:
        return "-"
    settings = result.run.options.workload
    grade = settings.grade(value)
    shown = number(settings.ej_shown(value, 2), 2, lang)  # never on the far side of a grade edge
    return f"{shown} ({grade})" if grade else shown


# ----------------------------------------------------------------- document model


@dataclass(frozen=True)
class Span:
    """Inline text; ``style`` is ``""`` (plain), ``"b"`` (bold) or ``"code"``."""

    text: str
    style: Literal["", "b", "code"] = ""


Inline = tuple[Span, ...]


@dataclass(frozen=True)
class Item:
    parts: Inline
    children: tuple[Item, ...] = ()


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    parts: Inline


@dataclass(frozen=True)
class Bullets:
    items: tuple[Item, ...]


@dataclass(frozen=True)
class TableBlock:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right: frozenset[int] = frozenset()  # right-aligned (numeric) columns


Block = Heading | Para | Bullets | TableBlock


def inline(*parts: str | Span) -> Inline:
    return tuple(p if isinstance(p, Span) else Span(p) for p in parts)


def _md_inline(parts: Inline) -> str:
    out = []
    for part in parts:
        if part.style == "code":
            out.append(f"`{part.text.replace('`', '')}`")
        elif part.style == "b":
            out.append(f"**{md_escape(part.text)}**")
        else:
            out.append(md_escape(part.text))
    return "".join(out)


def _plain(parts: Inline) -> str:
    return "".join(p.text for p in parts).replace("\n", " ")


def blocks_markdown(blocks: Iterable[Block]) -> str:
    """Markdown of a block list (every data value escaped)."""
    out: list[str] = []

    def items(entries: Iterable[Item], depth: int) -> None:
        for entry in entries:
            out.append("  " * depth + "- " + _md_inline(entry.parts))
            items(entry.children, depth + 1)

    for block in blocks:
        if isinstance(block, Heading):
            out += ["#" * block.level + " " + md_escape(block.text), ""]
        elif isinstance(block, Para):
            out += [_md_inline(block.parts), ""]
        elif isinstance(block, Bullets):
            items(block.items, 0)
            out.append("")
        else:
            out.append(_md_row(md_escape(h) for h in block.header))
            out.append(_md_row("---:" if i in block.right else "---" for i in range(len(block.header))))
            out += [_md_row(md_escape(c) for c in row) for row in block.rows]
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"


def blocks_text(blocks: Iterable[Block], width: int = 160) -> str:
    """Plain terminal text of a block list (tables drawn by rich, without colour)."""
    console = Console(file=io.StringIO(), record=True, width=width, color_system=None, soft_wrap=False)
    out: list[str] = []

    def items(entries: Iterable[Item], depth: int) -> None:
        for entry in entries:
            out.append("  " * depth + "- " + _plain(entry.parts))
            items(entry.children, depth + 1)

    for block in blocks:
        if isinstance(block, Heading):
            underline = "=" if block.level <= 2 else "-"
            out += [block.text, underline * len(block.text), ""]
        elif isinstance(block, Para):
            out += [_plain(block.parts), ""]
        elif isinstance(block, Bullets):
            items(block.items, 0)
            out.append("")
        else:
            table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
            for i, head in enumerate(block.header):
                table.add_column(head, justify="right" if i in block.right else "left", overflow="fold")
            for row in block.rows:
                table.add_row(*(rich_escape(c) for c in row))
            console.print(table)
            out += [line.rstrip() for line in console.export_text().splitlines()] + [""]
    return "\n".join(out).rstrip("\n") + "\n"


def render_blocks(blocks: Iterable[Block], fmt: Format) -> str:
    return blocks_markdown(blocks) if fmt == "md" else blocks_text(blocks)


# ----------------------------------------------------------------- building blocks


def finding_item(finding: Finding, lang: Lang) -> Item:
    """One fired rule: what it says, the values it read, its legal basis and provenance."""
    read = "; ".join(f"{path} = {display_text(value, lang)}" for path, value in sorted(finding.facts_read.items()))
    children = [
        Item(inline(f"{x('read', lang)}: ", read or "-")),
        Item(inline(f"{x('basis', lang)}: {finding.legal_basis}"
                    + (f" ({x('basis_' + finding.basis_kind, lang)})" if finding.basis_kind else ""))),
        Item(inline(f"{x('rule', lang)}: ", Span(finding.rule_key, "code"),
                    f" ({x('version', lang)} {finding.ruleset_version}, {x('source', lang)}: {finding.source})"
                    + (f"; {x('replaces', lang)} {finding.replaces}" if finding.replaces else ""))),
    ]
    if finding.effect is Effect.SCORE and finding.points is not None:
        score = f"{t('score', lang)}: {signed(finding.points, 2, lang)} ({finding.component or '-'})"
        children.append(Item(inline(score)))
    return Item(inline(Span(f"[{EFFECTS[finding.effect].label.get(lang)}] {finding.title.get(lang)}", "b"),
                       " — ", finding.message.get(lang)), tuple(children))


def training_item(need: TrainingNeed, lang: Lang) -> Item:
    if need.offer is None:
        offer = x("no_offer", lang)
    else:
        offer = (f"{x('offer', lang)}: {number(need.offer.hours, 0, lang)} {x('hours', lang)}, "
                 f"{need.offer.provider}" + (f" — {need.offer.description}" if need.offer.description else ""))
    return Item(inline(Span(need.name, "b"), f" — {offer}"),
                (Item(inline(f"{x('required_by', lang)}: ", ", ".join(need.required_by))),))


def _component_detail(part: ScoreComponentResult, lang: Lang) -> str:
    detail = part.detail or {}
    if part.origin == "profile" and "score" in detail:
        return (f"{x('profile_total', lang)} {number(detail['score'], 3, lang)} × "
                f"{number(detail.get('points_per_unit'), 0, lang)}")
    if part.origin == "workload" and "imbalance_removed" in detail:
        removed = localized(N_("EJ imbalance removed"), lang)
        per_unit = number(detail.get("points_per_unit"), 0, lang)
        return f"{removed} {number(detail['imbalance_removed'], 4, lang)} × {per_unit}"
    reason = detail.get("reason")
    if isinstance(reason, dict) and lang in reason:
        return f"{reason[lang]} ({part.source})"
    return part.source


def ej_table(move: Move, result: RecommendationResult, lang: Lang) -> TableBlock:
    src, dst = move.source_effect, move.target_effect
    return TableBlock(
        header=("", "", t("before", lang), t("after", lang)),
        rows=(
            (x("source_pos", lang), move.from_.position_name, ej_text(src.position_ej_before, result, lang),
             ej_text(src.position_ej_after, result, lang)),
            (x("source_opd", lang), opd_name(result, move.from_.opd_id), ej_text(src.opd_ej_before, result, lang),
             ej_text(src.opd_ej_after, result, lang)),
            (x("target_pos", lang), move.to.position_name, ej_text(dst.position_ej_before, result, lang),
             ej_text(dst.position_ej_after, result, lang)),
            (x("target_opd", lang), opd_name(result, move.to.opd_id), ej_text(dst.opd_ej_before, result, lang),
             ej_text(dst.opd_ej_after, result, lang)),
        ),
        right=frozenset({2, 3}),
    )


def move_blocks(move: Move, result: RecommendationResult, lang: Lang = "id", *, level: int = 2) -> list[Block]:
    """Every reason for one move, rule by rule (see :func:`explain_move`)."""
    h = level
    blocks: list[Block] = [
        Heading(h, f"{move.name} ({move.nip})"),
        Para(inline(f"{_place(move, 'from')} → {_place(move, 'to')}: ", Span(_status(move, lang), "b"),
                    f", {t('score', lang).lower()} {number(move.score, 2, lang)}")),
        *([Para(inline(review_text(move, lang)))] if move.review is not None else []),
        Heading(h + 1, x("effect_ej", lang)),
        ej_table(move, result, lang),
        Heading(h + 1, x("findings", lang)),
    ]
    blocks.append(Bullets(tuple(finding_item(f, lang) for f in move.findings)) if move.findings
                  else Para(inline(x("no_findings", lang))))
    blocks.append(Heading(h + 1, x("passed", lang)))
    blocks.append(Bullets(tuple(Item(inline(Span(r, "code"))) for r in move.rules_passed)) if move.rules_passed
                  else Para(inline(x("no_passed", lang))))
    blocks.append(Heading(h + 1, x("breakdown", lang)))
    rows = [(p.name, localized(_ORIGIN[p.origin], lang) if p.origin in _ORIGIN else p.origin,
             signed(p.points, 2, lang), _component_detail(p, lang))
            for p in move.score_breakdown]
    rows.append((x("total", lang), "", number(move.score, 2, lang), ""))
    blocks.append(TableBlock(header=(x("component", lang), x("origin", lang), x("points", lang), x("detail", lang)),
                             rows=tuple(rows), right=frozenset({2})))
    blocks.append(Heading(h + 1, f"{x('profile', lang)}: {number(move.profile.score, 3, lang)} / 5"))
    profile_rows: list[tuple[str, ...]] = []
    for aspect in move.profile.aspects:
        score = number(aspect.score, 3, lang) if aspect.score is not None else x("no_factor", lang)
        weight = f"{x('aspect_score', lang)} ({x('weight', lang).lower()} {number(aspect.weight, 2, lang)})"
        profile_rows.append((aspect.aspect, weight, "", "", "", score))
        for factor in aspect.factors:
            profile_rows.append(("", f"{factor.factor} ({x('core' if factor.core else 'secondary', lang)})",
                                 display_text(factor.value, lang), display_text(factor.target, lang),
                                 f"{factor.gap:+g}", number(factor.weight, 1, lang)))
    blocks.append(TableBlock(header=(x("aspect", lang), x("factor", lang), x("value", lang), x("target", lang),
                                     x("gap", lang), x("weight", lang)),
                             rows=tuple(profile_rows), right=frozenset({4, 5})))
    blocks.append(Heading(h + 1, x("trainings", lang)))
    blocks.append(Bullets(tuple(training_item(n, lang) for n in move.trainings_required))
                  if move.trainings_required else Para(inline(x("no_trainings", lang))))
    return blocks


def not_moved_blocks(result: RecommendationResult, nip: str, lang: Lang = "id", *, level: int = 2,
                     dataset_hint: str = "DATASET") -> list[Block]:
    """What a recorded run says about a person it did not move, and where to look further."""
    excluded = [e for e in result.excluded if e.nip == nip]
    seen = [(report, alt) for report in result.shortages for alt in report.alternatives if alt.nip == nip]
    name = excluded[0].name if excluded else (seen[0][1].name if seen else "")
    title = f"{name} ({nip})" if name else nip
    blocks: list[Block] = [Heading(level, title), Para(inline(f"{title} {x('not_moved', lang)}."))]
    for entry in excluded:
        blocks.append(Heading(level + 1, f"{x('excluded', lang)} ({entry.position_id})"))
        blocks.append(Bullets(tuple(finding_item(f, lang) for f in entry.findings)))
    if seen:
        blocks.append(Heading(level + 1, x("as_candidate", lang)))
        items: list[Item] = []
        for report, alt in seen:
            score = "" if alt.score is None else f", {t('score', lang).lower()} {number(alt.score, 2, lang)}"
            children = [Item(inline(f"{x('reason', lang)}: {alt.reason.get(lang)}"))]
            if alt.blocking:
                children.append(Item(inline(f"{x('blocking', lang)}:"),
                                     tuple(finding_item(f, lang) for f in alt.blocking)))
            for veto in alt.vetoes:
                children.append(Item(inline(f"{x('vetoes', lang)}: {veto.reason.get(lang)} — "
                                            f"{veto.legal_basis} ({veto.source})")))
            items.append(Item(inline(Span(f"{report.position.position_name} ({report.position.unit_name})", "b"),
                                     f": {localized(_OUTCOME[alt.outcome], lang)}{score}"), tuple(children)))
        blocks.append(Bullets(tuple(items)))
    if not excluded and not seen:
        blocks.append(Para(inline(x("nothing", lang, n=result.run.options.alternatives_per_position))))
    commands = why_not_commands(result, nip, dataset_hint)
    blocks.append(Para(inline(x("hint", lang))))
    blocks.append(Bullets(tuple(Item(inline(Span(cmd, "code"))) for cmd in commands)))
    return blocks


def why_not_commands(result: RecommendationResult, nip: str, dataset: str = "DATASET") -> list[str]:
    """``mutasi-rules why-not`` commands for a person: one per position the record considered them for.

    The run's ``as_of`` is passed so the answer is about the same day as the record.
    """
    positions = sorted({s.position.position_id for s in result.shortages for a in s.alternatives if a.nip == nip})
    as_of = f" --as-of {result.run.as_of.isoformat()}"
    return [f"mutasi-rules why-not {dataset} --employee {nip} --position {p}{as_of}"
            for p in positions or ["POSITION_ID"]]


def run_header_blocks(result: RecommendationResult, lang: Lang, run_id: str | None) -> list[Block]:
    run = result.run
    facts = [f"{t('plan', lang)}: {run.dataset}", f"{t('as_of_label', lang)} {run.as_of.isoformat()}",
             f"{t('plan_label', lang)} {run.plan_date.isoformat()}", f"mutasi-rules {run.library_version}"]
    if run_id:
        facts.insert(0, f"{x('run', lang)} {run_id}")
    return [Para(inline(" · ".join(facts)))]


def explain_move(move: Move, result: RecommendationResult, lang: Lang = "id", fmt: Format = "md") -> str:
    """Why one move was recommended: rules fired and passed, score, trainings, EJ effect."""
    return render_blocks(move_blocks(move, result, lang), fmt)


def explain_employee(result: RecommendationResult, nip: str, lang: Lang = "id", fmt: Format = "md",
                     *, run_id: str | None = None, dataset_hint: str = "DATASET") -> str:
    """One person: their move, or what the record says about them if they were not moved."""
    blocks = [Heading(1, x("why", lang)), *run_header_blocks(result, lang, run_id)]
    move = next((m for m in result.moves if m.nip == nip), None)
    blocks += move_blocks(move, result, lang) if move else not_moved_blocks(result, nip, lang,
                                                                             dataset_hint=dataset_hint)
    return render_blocks(blocks, fmt)


def explain_result(result: RecommendationResult, lang: Lang = "id", fmt: Format = "md",
                   *, run_id: str | None = None) -> str:
    """Every move of a run, each with its reasons."""
    blocks: list[Block] = [Heading(1, x("why", lang)), *run_header_blocks(result, lang, run_id)]
    if not result.moves:
        blocks.append(Para(inline(t("no_moves", lang))))
    for move in result.moves:
        blocks += move_blocks(move, result, lang)
    return render_blocks(blocks, fmt)


def knows_employee(result: RecommendationResult, nip: str) -> bool:
    """Whether the record mentions ``nip`` at all (moved, excluded or as an alternative)."""
    return (any(m.nip == nip for m in result.moves) or any(e.nip == nip for e in result.excluded)
            or any(a.nip == nip for r in result.shortages for a in r.alternatives))


def _finding_json(finding: Finding, lang: Lang) -> dict[str, Any]:
    return {
        "rule": finding.rule_key,
        "ruleset_version": finding.ruleset_version,
        "source": finding.source,
        "scope": finding.scope,
        "effect": finding.effect.value,
        "title": finding.title.get(lang),
        "message": finding.message.get(lang),
        "legal_basis": finding.legal_basis,
        "basis_kind": finding.basis_kind,
        "facts_read": finding.facts_read,
        "trainings": finding.trainings,
        "points": finding.points,
        "component": finding.component,
        "replaces": finding.replaces,
    }


def move_json(move: Move, result: RecommendationResult, lang: Lang = "id") -> dict[str, Any]:
    """The explanation of one move as plain JSON data (messages in ``lang``)."""
    grade = result.run.options.workload.grade
    effects = {}
    for side, effect in (("source", move.source_effect), ("target", move.target_effect)):
        data = effect.model_dump(mode="json")
        data.update({f"{k}_grade": grade(v) for k, v in effect.model_dump().items()})
        effects[side] = data
    return {
        "nip": move.nip,
        "name": move.name,
        "moved": True,
        "from": move.from_.model_dump(mode="json"),
        "to": move.to.model_dump(mode="json"),
        "status": move.status,
        "status_text": _status(move, lang),
        "score": move.score,
        "findings": [_finding_json(f, lang) for f in move.findings],
        "rules_passed": move.rules_passed,
        "score_breakdown": [p.model_dump(mode="json") for p in move.score_breakdown],
        "profile": move.profile.model_dump(mode="json"),
        "trainings_required": [n.model_dump(mode="json") for n in move.trainings_required],
        "ej_effect": effects,
        **({"review": move.review.model_dump(mode="json")} if move.review is not None else {}),
    }


def not_moved_json(result: RecommendationResult, nip: str, lang: Lang = "id") -> dict[str, Any]:
    """What the record says about a person it did not move (JSON data)."""
    excluded = [e for e in result.excluded if e.nip == nip]
    seen = [(r, a) for r in result.shortages for a in r.alternatives if a.nip == nip]
    return {
        "nip": nip,
        "name": excluded[0].name if excluded else (seen[0][1].name if seen else None),
        "moved": False,
        "known": bool(excluded or seen),
        "excluded": [{"position_id": e.position_id, "findings": [_finding_json(f, lang) for f in e.findings]}
                     for e in excluded],
        "alternatives": [{
            "position": r.position.model_dump(mode="json"),
            "outcome": a.outcome,
            "outcome_text": localized(_OUTCOME[a.outcome], lang),
            "score": a.score,
            "reason": a.reason.get(lang),
            "blocking": [_finding_json(f, lang) for f in a.blocking],
            "vetoes": [v.model_dump(mode="json") for v in a.vetoes],
        } for r, a in seen],
        "why_not": why_not_commands(result, nip),
    }


def explanation_json(result: RecommendationResult, *, nip: str | None = None, lang: Lang = "id",
                     run_id: str | None = None) -> dict[str, Any]:
    """The explanation as JSON data: every move, or one person (moved or not)."""
    data: dict[str, Any] = {
        "format": "mutasi-rules.explanation/1",
        "run_id": run_id,
        "lang": lang,
        "dataset": result.run.dataset,
        "as_of": result.run.as_of.isoformat(),
        "plan_date": result.run.plan_date.isoformat(),
        "rulesets": [r.model_dump(mode="json") for r in result.run.rulesets],
        "plugins": [p.model_dump(mode="json") for p in result.run.plugins],
    }
    if nip is None:
        data["moves"] = [move_json(m, result, lang) for m in result.moves]
    else:
        move = next((m for m in result.moves if m.nip == nip), None)
        data["employee"] = move_json(move, result, lang) if move else not_moved_json(result, nip, lang)
    return data
