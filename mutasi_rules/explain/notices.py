"""Letter drafts to the employees a plan moves ("Draf pemberitahuan rencana mutasi").

Resistance to a transfer falls when its reasons are open, so each moved person gets a
plain-language draft: where to and from, why (the workload of both posts and the rules
that weighed in, in words rather than formulas), the training offered first when the move
is conditional, that the plan is a proposal of BKPSDM for the decision of the Wali Kota
(the PPK), and how and by when to raise an objection (keberatan).

Everything is read from the recorded :class:`~mutasi_rules.planning.recommendation.RecommendationResult`;
the letter is dated with the run's ``plan_date`` (never the clock), so the same record
always gives byte-identical letters. The contact office comes from the plugins'
``notice_contact`` hook when one answers for the employee's current unit, else from
:class:`NoticeSettings`.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.analysis.workload import WorkloadSettings
from mutasi_rules.core.atomic import OutputError, write_text
from mutasi_rules.core.i18n import N_, NC_, localized, plural_translator, translator
from mutasi_rules.core.settings import RegionSettings
from mutasi_rules.explain.explanations import Lang, md_escape, number, opd_name
from mutasi_rules.planning.recommendation import Move, RecommendationResult, ShortageReport
from mutasi_rules.plugins.types import NoticeContact
from mutasi_rules.rules.rulesets import EFFECTS, RuleSetRef, format_number, localize_number

#: unit id -> the office to contact, or None for the default.
ContactLookup = Callable[[str], NoticeContact | None]


class NoticeSettings(BaseModel):
    """Who proposes, who decides, the default contact and the objection period.

    The defaults are neutral words; a region's own come from its settings file
    (:meth:`from_region`, ``--settings FILE``).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    objection_days: int = Field(default=14, ge=1, description="Days to raise an objection after receipt")
    place: str = Field(default="..........", min_length=1, description="Place written before the letter date")
    proposer: str = Field(default="BKPSDM", min_length=1)
    decision_maker: str = Field(default="Kepala Daerah", min_length=1)
    default_contact: NoticeContact = Field(
        default_factory=lambda: NoticeContact(office="BKPSDM, bidang yang menangani mutasi pegawai")
    )

    @classmethod
    def from_region(cls, region: RegionSettings, objection_days: int | None = None) -> NoticeSettings:
        """The notice settings of a region's settings file (``objection_days`` overrides its period)."""
        office = region.objection_contact or f"{region.hr_office}, bidang yang menangani mutasi pegawai"
        return cls(objection_days=objection_days or region.objection_days, place=region.place,
                   proposer=region.hr_office, decision_maker=region.head_title,
                   default_contact=NoticeContact(office=office, address=region.hr_office_address))


def long_date(day: dt.date, lang: Lang) -> str:
    """``1 Juli 2026`` / ``1 July 2026`` from Babel's locale data, never from the machine's locale."""
    from babel.dates import format_date

    return format_date(day, "d MMMM y", locale=lang)


def _percent(ej: float | None, settings: WorkloadSettings | None = None) -> str:
    """An EJ as a share of what the staff can carry; with the run's ``settings`` rounded toward
    its own side of every grade and band edge (EJ 0.896 has surplus staff: 89 %, not 90 %)."""
    if ej is None:
        return "-"
    return f"{round((settings.ej_shown(ej, 2) if settings else ej) * 100)}%"


#: The profile-matching score (0-5) in words: the lowest score of each band.
_PROFILE_BANDS = ((4.5, N_("a very good match")), (3.5, N_("a good match")), (2.5, N_("a fair match")),
                  (float("-inf"), N_("a weak match")))


def _profile_words(score: float, lang: Lang) -> str:
    """The profile-matching score (0-5) in words."""
    return localized(next(words for minimum, words in _PROFILE_BANDS if score >= minimum), lang)


def plugin_contacts(plugins: Any, dataset: Any) -> ContactLookup:
    """Contacts from the plugins' ``notice_contact`` hook (firstresult), asked once per unit."""
    cache: dict[str, NoticeContact | None] = {}

    def lookup(unit_id: str) -> NoticeContact | None:
        if unit_id not in cache:
            cache[unit_id] = plugins.notice_contact(unit_id, dataset)
        return cache[unit_id]

    return lookup


def join_words(items: Sequence[str], lang: Lang) -> str:
    """``a, b, dan c`` / ``a, b and c`` (``a dan b`` / ``a and b``), as a sentence lists them."""
    if len(items) <= 1:
        return "".join(items)
    last = translator(lang)("and")
    comma = "," if lang == "id" and len(items) > 2 else ""  # PUEBI: a comma before "dan" in a series
    return f"{', '.join(items[:-1])}{comma} {last} {items[-1]}"


def applied_rulesets(move: Move, result: RecommendationResult) -> list[RuleSetRef]:
    """The rule sets that applied to this person's move: those whose rules fired for the person
    or the pair, or were checked and passed (never another agency's rule set that did not
    cover either post)."""
    used = {f.ruleset_id for f in move.findings} | {key.split("/", 1)[0] for key in move.rules_passed}
    return [r for r in result.run.rulesets if r.id in used]


def _shortage(result: RecommendationResult, position_id: str) -> ShortageReport | None:
    return next((s for s in result.shortages if s.position.position_id == position_id), None)


def _workload_lines(move: Move, result: RecommendationResult, lang: Lang,
                    escape: Callable[[str], str] = md_escape) -> list[str]:
    """The workload reasons in words; ``escape`` prepares data for the output (Markdown by default)."""
    _, ngettext = translator(lang), plural_translator(lang)
    src, dst = move.source_effect, move.target_effect
    settings = result.run.options.workload

    def pct(ej: float | None) -> str:
        return _percent(ej, settings)

    report = _shortage(result, move.to.position_id)
    to_opd, from_opd = escape(opd_name(result, move.to.opd_id)), escape(opd_name(result, move.from_.opd_id))
    # The unit is named with the post: a teacher moved between schools holds a post of the
    # same name at both ends.
    post = _("{position} at {unit}")
    to_pos = post.format(position=escape(move.to.position_name), unit=escape(move.to.unit_name))
    from_pos = post.format(position=escape(move.from_.position_name), unit=escape(move.from_.unit_name))
    short = (ngettext("; the post is {count} person short", "; the post is {count} people short", report.shortage)
             .format(count=report.shortage) if report else "")
    lines = [
        _("The workload of the post {position} is now about {before} of what its current staff can carry{short}. "
          "With you there it becomes about {after}.").format(
            position=to_pos, before=pct(dst.position_ej_before), short=short, after=pct(dst.position_ej_after)),
        _("In your current post ({position}) the workload is about {before} of what its staff can carry: there are "
          "more staff than needed. After you move, the colleagues who stay carry about {after}.").format(
            position=from_pos, before=pct(src.position_ej_before), after=pct(src.position_ej_after)),
    ]
    if move.to.opd_id != move.from_.opd_id:
        lines.append(_("Overall, the workload of {to_opd} goes from {to_before} to {to_after}, and that of {from_opd} "
                       "from {from_before} to {from_after}.").format(
            to_opd=to_opd, to_before=pct(dst.opd_ej_before), to_after=pct(dst.opd_ej_after), from_opd=from_opd,
            from_before=pct(src.opd_ej_before), from_after=pct(src.opd_ej_after)))
    before, after = result.balance_before.ej_std, result.balance_after.ej_std
    if before is not None and after is not None and after < before:
        lines.append(_("The plan as a whole spreads the workload more evenly between agencies."))
    return lines


def _fit_lines(move: Move, result: RecommendationResult, lang: Lang,
               escape: Callable[[str], str] = md_escape) -> list[str]:
    report = _shortage(result, move.to.position_id)
    # Rounded down, as the word bands are read: 4.46 is "sesuai" and shows 4,4, never 4,5
    # (the "sangat sesuai" band) next to the lower word.
    score = localize_number(format_number(move.profile.score, ".1f down") or "-", lang)
    words = _profile_words(move.profile.score, lang)
    # Name only the aspects the data allowed to assess (an aspect without data has no score).
    aspects = join_words([escape(a.aspect) for a in move.profile.aspects if a.score is not None], lang) or "-"
    _ = translator(lang)
    lines = [_("As to {aspects}, your profile is {words} for the requirements of the post (fit {score} out of 5).")
             .format(aspects=aspects, words=words, score=score)]
    if report:
        lines.append(_("Of {considered} employees considered for this post, {eligible} met the requirements, and you "
                       "were chosen in the plan.").format(considered=report.candidates_considered,
                                                          eligible=report.candidates_eligible))
    return lines


#: key -> the English text; Bahasa Indonesia comes from the message catalogue (mutasi_rules.core.i18n).
_T: dict[str, str | tuple[str, str]] = {
    "title": N_("Draft notice of a planned transfer"),
    "to": NC_("letter", "To"),
    "draft": N_("This is a draft notice of a plan, not a decision. The transfer is proposed by {proposer}; it is "
                "decided by the {decision_maker} as the civil-service appointing official (PPK)."),
    "plan": N_("The plan"),
    "from": N_("From"),
    "dest": N_("To"),
    "status": N_("Status"),
    "recommended": N_("recommended"),
    "conditional": N_("recommended on condition that you first complete training"),
    "why": N_("Why this plan"),
    "workload": N_("Workload"),
    "rules": N_("What the rules say"),
    "fit": N_("How you fit the post"),
    "training": N_("Training first"),
    "training_intro": N_("Before starting in the new post you will first take the following training. The transfer "
                         "takes place once it is completed."),
    "hours": N_("{hours} hours, provided by {provider}"),
    "no_offer": N_("schedule and provider will be announced by {proposer}"),
    "objection": N_("If you object"),
    "objection_text": N_("You may raise an objection (in writing, with your reasons) within {days} days of receiving "
                         "this notice, to:"),
    "objection_after": N_("Your objection will be considered before the proposal goes to the {decision_maker}."),
    "reference": N_("Reference"),
    "record": N_("record"),
    "record_hash": N_("record hash"),
}


def _t(key: str, lang: Lang, **values: object) -> str:
    text = localized(_T[key], lang)
    return text.format(**values) if values else text


def notice_markdown(move: Move, result: RecommendationResult, *, lang: Lang = "id",
                    contact: NoticeContact | None = None, settings: NoticeSettings | None = None,
                    run_id: str | None = None, record_hash: str | None = None) -> str:
    """The letter draft for one moved employee, as Markdown (every data value escaped).

    ``record_hash``: the decision log record's hash, printed as the anchor an auditor checks
    with ``mutasi-rules audit verify --expect-head``.
    """
    cfg = settings or NoticeSettings()
    office = contact or cfg.default_contact
    e = md_escape
    roles = {"proposer": e(cfg.proposer), "decision_maker": e(cfg.decision_maker)}
    out = [
        f"# {_t('title', lang)}",
        "",
        f"{e(cfg.place)}, {long_date(result.run.plan_date, lang)}",
        "",
        _t("to", lang) + "  ",
        f"**{e(move.name)}**  ",
        f"NIP {e(move.nip)}  ",
        f"{e(move.from_.position_name)}, {e(move.from_.unit_name)}",
        "",
        f"> {_t('draft', lang, **roles)}",
        "",
        f"## {_t('plan', lang)}",
        "",
        (f"- {_t('from', lang)}: {e(move.from_.position_name)}, {e(move.from_.unit_name)} "
         f"({e(opd_name(result, move.from_.opd_id))})"),
        (f"- {_t('dest', lang)}: **{e(move.to.position_name)}, {e(move.to.unit_name)} "
         f"({e(opd_name(result, move.to.opd_id))})**"),
        f"- {_t('status', lang)}: {_t(move.status, lang)}",
        *([f"- {assignment_text(move, lang)}"] if move.assignment is not None else []),
        "",
        f"## {_t('why', lang)}",
        "",
        f"### {_t('workload', lang)}",
        "",
        *(f"- {line}" for line in _workload_lines(move, result, lang)),
        "",
    ]
    reasons = [f for f in move.findings if EFFECTS[f.effect].in_notice]
    if reasons:
        out += [f"### {_t('rules', lang)}", ""]
        basis = translator(lang)("legal basis")
        out += [f"- {e(f.message.get(lang))} _({basis}: {e(f.legal_basis)})_" for f in reasons]
        out.append("")
    out += [f"### {_t('fit', lang)}", "", *(f"- {line}" for line in _fit_lines(move, result, lang)), ""]
    if move.trainings_required:
        out += [f"## {_t('training', lang)}", "", _t("training_intro", lang), ""]
        for need in move.trainings_required:
            if need.offer is not None:
                detail = _t("hours", lang, hours=number(need.offer.hours, 0, lang), provider=e(need.offer.provider))
            else:
                detail = _t("no_offer", lang, **roles)
            out.append(f"- **{e(need.name)}**: {detail}")
        out.append("")
    out += [f"## {_t('objection', lang)}", "", _t("objection_text", lang, days=cfg.objection_days), ""]
    out.append(f"- **{e(office.office)}**")
    out += [f"- {e(value)}" for value in (office.address, office.email, office.phone) if value]
    out += ["", _t("objection_after", lang, **roles), "", "---", ""]
    reference = [f"{_t('record', lang)} {e(run_id)}"] if run_id else []
    if record_hash:
        reference.append(f"{_t('record_hash', lang)} {e(record_hash)}")
    reference += [f"{e(r.id)} {e(r.version)}" for r in applied_rulesets(move, result)]
    out.append(f"{_t('reference', lang)}: " + "; ".join(reference) + ".")
    return "\n".join(out) + "\n"


_SAFE_NAME = re.compile(r"[^0-9A-Za-z._-]")


def assignment_text(move: Move, lang: Lang) -> str:
    """The sentence that says a move is a time-bounded assignment: until when, and back to which post."""
    a = move.assignment
    assert a is not None
    return translator(lang)("Time-bounded assignment from {start} to {until}; you keep your post {position} ({unit}) "
                            "and return to it afterwards.").format(
        start=long_date(a.start, lang), until=long_date(a.until, lang), position=a.return_to.position_name,
        unit=a.return_to.unit_name)


def notice_filename(move: Move, lang: Lang) -> str:
    """``<nip>.md`` (Indonesian) or ``<nip>.en.md``; characters unsafe in a file name are replaced."""
    stem = _SAFE_NAME.sub("_", move.nip).lstrip(".") or "_"
    return f"{stem}.md" if lang == "id" else f"{stem}.{lang}.md"


def render_notices(result: RecommendationResult, *, langs: Sequence[Lang] = ("id",),
                   contacts: ContactLookup | None = None, settings: NoticeSettings | None = None,
                   run_id: str | None = None, record_hash: str | None = None) -> dict[str, str]:
    """File name -> letter, for every moved employee and language (sorted by NIP)."""
    letters: dict[str, str] = {}
    for move in result.moves:
        contact = contacts(move.from_.unit_id) if contacts else None
        for lang in langs:
            letters[notice_filename(move, lang)] = notice_markdown(move, result, lang=lang, contact=contact,
                                                                   settings=settings, run_id=run_id,
                                                                   record_hash=record_hash)
    return letters


def check_notice_folder(directory: str | os.PathLike[str]) -> Path:
    """``directory`` when letters can go there (a folder, or nothing yet); else :class:`OutputError`."""
    folder = Path(directory)
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder}: is a file, not a folder; the letters go into a folder (one file per person)")
    return folder


def write_notices(result: RecommendationResult, directory: str | os.PathLike[str], **kwargs: Any) -> list[Path]:
    """Write :func:`render_notices` into ``directory``, each file atomically; return the paths.

    Raises :class:`~mutasi_rules.core.atomic.OutputError` when ``directory`` is an existing file.
    """
    check_notice_folder(directory)
    paths = []
    for name, text in render_notices(result, **kwargs).items():
        path = Path(directory) / name
        write_text(path, text)
        paths.append(path)
    return paths


__all__ = [
    "ContactLookup",
    "NoticeSettings",
    "applied_rulesets",
    "check_notice_folder",
    "join_words",
    "long_date",
    "notice_filename",
    "notice_markdown",
    "plugin_contacts",
    "render_notices",
    "write_notices",
]
