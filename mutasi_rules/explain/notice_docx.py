"""Notice letters as Word documents, from a template an office edits in Word (docxtpl).

The content is the same as the Markdown letter of :mod:`mutasi_rules.explain.notices` (the same
sentences, built by the same functions); the form is an official letter: letterhead
(kop surat), Nomor, Sifat, Lampiran, Hal, addressee, body, signatory block and Tembusan.
The shipped template is ``mutasi_rules/templates/notice.docx`` (built by
``tools/build_notice_template.py``); a region names its own copy in its settings file
(``notice_template``), so the wording around the fields changes without Python.

Data values are XML-escaped by docxtpl (``autoescape``); the document carries no
timestamps, so the same record gives the same bytes.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mutasi_rules.core.atomic import write_bytes
from mutasi_rules.core.canonical import canonical_zip
from mutasi_rules.core.i18n import translator
from mutasi_rules.core.settings import RegionSettings
from mutasi_rules.explain.explanations import Lang, number, opd_name
from mutasi_rules.explain.notices import (
    ContactLookup,
    NoticeSettings,
    _fit_lines,
    _t,
    _workload_lines,
    applied_rulesets,
    check_notice_folder,
    long_date,
)
from mutasi_rules.planning.recommendation import Move, RecommendationResult
from mutasi_rules.plugins.types import NoticeContact
from mutasi_rules.problems import InputError, Problem
from mutasi_rules.rules.rulesets import EFFECTS

__all__ = ["DEFAULT_TEMPLATE", "notice_context", "notice_docx", "render_docx_notices", "write_docx_notices"]

DEFAULT_TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "notice.docx"
_SAFE_NAME = re.compile(r"[^0-9A-Za-z._-]")


def _plain(text: str) -> str:
    return text  # docxtpl escapes XML; Word shows text as it is, so nothing else to escape


def notice_context(move: Move, result: RecommendationResult, *, lang: Lang = "id",
                   contact: NoticeContact | None = None, region: RegionSettings | None = None,
                   objection_days: int | None = None, run_id: str | None = None,
                   record_hash: str | None = None) -> dict[str, Any]:
    """Every field of the notice template for one moved employee (documented in docs/notices.md).

    ``record_hash``: the decision log record's hash, added to the reference line as the anchor
    an auditor checks with ``mutasi-rules audit verify --expect-head``.
    """
    region = region or RegionSettings()
    cfg = NoticeSettings.from_region(region, objection_days)
    office = contact or cfg.default_contact
    roles = {"proposer": cfg.proposer, "decision_maker": cfg.decision_maker}
    basis = translator(lang)("legal basis")
    reasons = list(_workload_lines(move, result, lang, _plain))
    reasons += [f"{f.message.get(lang)} ({basis}: {f.legal_basis})" for f in move.findings
                if EFFECTS[f.effect].in_notice]
    reasons += _fit_lines(move, result, lang, _plain)
    trainings = []
    for need in move.trainings_required:
        if need.offer is not None:
            detail = _t("hours", lang, hours=number(need.offer.hours, 0, lang), provider=need.offer.provider)
        else:
            detail = _t("no_offer", lang, **roles)
        trainings.append(f"{need.name}: {detail}")
    reference = [f"{_t('record', lang)} {run_id}"] if run_id else []
    if record_hash:
        reference.append(f"{_t('record_hash', lang)} {record_hash}")
    reference += [f"{r.id} {r.version}" for r in applied_rulesets(move, result)]
    return {
        "letterhead": {"government": region.region_name, "office": region.hr_office_full_name or region.hr_office,
                       "address": region.hr_office_address, "contact": region.hr_office_contact},
        "place": region.place,
        "date": long_date(result.run.plan_date, lang),
        "number": region.letter_number,
        "nature": region.letter_nature,
        "attachment": "-",
        "subject": region.letter_subject,
        "addressee": {"name": move.name, "nip": move.nip, "position": move.from_.position_name,
                      "unit": f"{move.from_.unit_name} ({opd_name(result, move.from_.opd_id)})"},
        "title": _t("title", lang),
        "draft_note": _t("draft", lang, **roles),
        "labels": {"plan": _t("plan", lang), "why": _t("why", lang), "training": _t("training", lang),
                   "objection": _t("objection", lang)},
        "plan": [
            f"{_t('from', lang)}: {move.from_.position_name}, {move.from_.unit_name} "
            f"({opd_name(result, move.from_.opd_id)})",
            f"{_t('dest', lang)}: {move.to.position_name}, {move.to.unit_name} ({opd_name(result, move.to.opd_id)})",
            f"{_t('status', lang)}: {_t(move.status, lang)}",
        ],
        "reasons": reasons,
        "trainings": trainings,
        "training_intro": _t("training_intro", lang),
        "objection_text": _t("objection_text", lang, days=cfg.objection_days),
        "contact": [value for value in (office.office, office.address, office.email, office.phone) if value],
        "objection_after": _t("objection_after", lang, **roles),
        "signatory": region.signatory.model_dump(),
        "copies_to": list(region.copies_to),
        "reference": f"{_t('reference', lang)}: " + "; ".join(reference) + ".",
    }


def notice_docx(context: dict[str, Any], template: str | os.PathLike[str] | None = None) -> bytes:
    """The letter for one ``context`` as .docx bytes, from ``template`` (default: the shipped one)."""
    import zipfile

    from docx.opc.exceptions import OpcError
    from docxtpl import DocxTemplate
    from jinja2 import TemplateError

    path = os.fspath(template or DEFAULT_TEMPLATE)
    try:
        document = DocxTemplate(path)
        document.render(context, autoescape=True)
        buffer = io.BytesIO()
        document.save(buffer)
    except TemplateError as exc:  # a field or tag an office mistyped in Word
        line = getattr(exc, "lineno", None)
        raise InputError(f"notice template {path}", [Problem(
            code="template.invalid", file=path, line=line,
            message=f"the template's fields cannot be read: {exc.message or exc}; fields are written "
                    "{{ name }} and tags {%p if ... %} alone in a paragraph (docs/notices.md)")]) from None
    except (OSError, OpcError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"notice template {path}", [Problem(
            code="template.unreadable", file=path,
            message=f"not a Word document (.docx) that can be read: {type(exc).__name__}: {exc}")]) from None
    return canonical_zip(buffer.getvalue())


def docx_filename(move: Move, lang: Lang) -> str:
    """``<nip>.docx`` (Indonesian) or ``<nip>.en.docx``."""
    stem = _SAFE_NAME.sub("_", move.nip).lstrip(".") or "_"
    return f"{stem}.docx" if lang == "id" else f"{stem}.{lang}.docx"


def render_docx_notices(result: RecommendationResult, *, langs: Sequence[Lang] = ("id",),
                        contacts: ContactLookup | None = None, region: RegionSettings | None = None,
                        objection_days: int | None = None, run_id: str | None = None,
                        record_hash: str | None = None) -> dict[str, bytes]:
    """File name -> .docx letter for every moved employee and language (sorted by NIP)."""
    region = region or RegionSettings()
    template = region.template_path()
    letters: dict[str, bytes] = {}
    for move in result.moves:
        contact = contacts(move.from_.unit_id) if contacts else None
        for lang in langs:
            context = notice_context(move, result, lang=lang, contact=contact, region=region,
                                     objection_days=objection_days, run_id=run_id, record_hash=record_hash)
            letters[docx_filename(move, lang)] = notice_docx(context, template)
    return letters


def write_docx_notices(result: RecommendationResult, directory: str | os.PathLike[str], **kwargs: Any) -> list[Path]:
    """Write :func:`render_docx_notices` into ``directory``, each file atomically; return the paths."""
    check_notice_folder(directory)
    paths = []
    for name, data in render_docx_notices(result, **kwargs).items():
        path = Path(directory) / name
        write_bytes(path, data)
        paths.append(path)
    return paths
