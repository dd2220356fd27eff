"""Build ``mutasi_rules/templates/notice.docx``, the Word template of the notice letters.

Run ``python tools/build_notice_template.py`` after changing this script. Offices do not
need it: they open the shipped .docx in Word, change the wording, fonts or letterhead
around the ``{{ ... }}`` fields, and name their copy in the region settings
(``notice_template``). The fields and the ``{%p ... %}`` lines are docxtpl (Jinja) tags;
docs/notices.md lists them.
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mutasi_rules.core.canonical import ZIP_EPOCH, canonical_zip  # noqa: E402

OUT = ROOT / "mutasi_rules" / "templates" / "notice.docx"


def bottom_border(paragraph) -> None:
    """A rule under the letterhead (kop surat)."""
    properties = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "thickThinSmallGap"), ("w:sz", "18"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    properties.append(borders)


def build() -> bytes:
    doc = Document()
    section = doc.sections[0]
    section.page_height, section.page_width = Cm(33), Cm(21.5)  # F4 / folio, the paper of Indonesian offices
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)
    normal = doc.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(11)
    normal.paragraph_format.space_after = Pt(0)

    def para(text: str = "", *, bold: bool = False, size: int | None = None, align=None, after: int = 0,
             indent: float | None = None):
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)
        if align is not None:
            p.alignment = align
        p.paragraph_format.space_after = Pt(after)
        if indent is not None:
            p.paragraph_format.left_indent = Cm(indent)
        return p

    centre = WD_ALIGN_PARAGRAPH.CENTER
    # Letterhead (kop surat).
    para("{{ letterhead.government|upper }}", bold=True, size=14, align=centre)
    para("{{ letterhead.office|upper }}", bold=True, size=13, align=centre)
    para("{{ letterhead.address }}", size=9, align=centre)
    bottom_border(para("{{ letterhead.contact }}", size=9, align=centre, after=12))
    para("{{ place }}, {{ date }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=12)

    table = doc.add_table(rows=4, cols=3)
    for row, (label, field) in zip(table.rows, (("Nomor", "number"), ("Sifat", "nature"),
                                                 ("Lampiran", "attachment"), ("Hal", "subject")), strict=True):
        row.cells[0].text, row.cells[1].text, row.cells[2].text = label, ":", "{{ " + field + " }}"
        row.cells[0].width, row.cells[1].width, row.cells[2].width = Cm(2.5), Cm(0.5), Cm(13)
    para(after=12)

    para("Yth. Sdr. {{ addressee.name }}")
    para("NIP {{ addressee.nip }}")
    para("{{ addressee.position }}")
    para("{{ addressee.unit }}")
    para("di tempat", after=12)

    para("{{ title }}", bold=True, align=centre, after=12)
    para("{{ draft_note }}", after=12)

    para("{{ labels.plan }}", bold=True, after=6)
    para("{%p for line in plan %}")
    para("•\t{{ line }}", indent=0.6)
    para("{%p endfor %}")
    para(after=6)

    para("{{ labels.why }}", bold=True, after=6)
    para("{%p for line in reasons %}")
    para("•\t{{ line }}", indent=0.6)
    para("{%p endfor %}")
    para(after=6)

    para("{%p if trainings %}")
    para("{{ labels.training }}", bold=True, after=6)
    para("{{ training_intro }}", after=6)
    para("{%p for line in trainings %}")
    para("•\t{{ line }}", indent=0.6)
    para("{%p endfor %}")
    para(after=6)
    para("{%p endif %}")

    para("{{ labels.objection }}", bold=True, after=6)
    para("{{ objection_text }}", after=6)
    para("{%p for line in contact %}")
    para("{{ line }}", indent=0.6)
    para("{%p endfor %}")
    para(after=6)
    para("{{ objection_after }}", after=12)
    para("Demikian disampaikan untuk menjadi perhatian.", after=24)

    signature = {"indent": 9.0}
    para("{{ signatory.title }}", **signature, after=60)
    para("{{ signatory.name or '(....................................)' }}", bold=True, **signature)
    para("{%p if signatory.rank %}")
    para("{{ signatory.rank }}", **signature)
    para("{%p endif %}")
    para("NIP {{ signatory.nip or '....................' }}", **signature, after=18)

    para("{%p if copies_to %}")
    para("Tembusan:")
    para("{%p for office in copies_to %}")
    para("{{ loop.index }}. {{ office }}")
    para("{%p endfor %}")
    para(after=12)
    para("{%p endif %}")
    para("{{ reference }}", size=8)

    fixed = dt.datetime(*ZIP_EPOCH)  # noqa: DTZ001 - document properties are naive; fixed, for equal files
    doc.core_properties.created = fixed
    doc.core_properties.modified = fixed
    doc.core_properties.last_modified_by = "mutasi-rules"
    doc.core_properties.author = "mutasi-rules"
    doc.core_properties.title = "Pemberitahuan rencana mutasi"
    buffer = io.BytesIO()
    doc.save(buffer)
    return canonical_zip(buffer.getvalue())


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(build())
    print(f"wrote {OUT}")
