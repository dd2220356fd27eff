"""Build ``examples/decision-tables/dinkes.xlsx``: the Dinkes plugin's rules as an Excel decision table.

An office writes such a table in Excel by hand; this script only keeps the shipped example
reproducible (``python tools/build_decision_table_example.py``). The layout is described in
docs/decision-tables.md; tests pin that it compiles to the same rule set as the plugin's
``rules/dinkes.yaml``.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mutasi_rules.data.cellformats import deterministic_xlsx  # noqa: E402

OUT = ROOT / "examples" / "decision-tables" / "dinkes.xlsx"

HEADER_BLOCK = [
    ("ruleset_id", "agency.dinkes-pontianak"),
    ("version", "2026.1"),
    ("title_id", "Norma mutasi Dinas Kesehatan Kota Pontianak"),
    ("title_en", "Transfer norms of the Pontianak City Health Office"),
    ("authority", "Dinas Kesehatan Kota Pontianak"),
    ("source", "UU 17/2023 tentang Kesehatan; Permenkes 12/2017 tentang Penyelenggaraan Imunisasi; "
               "kebijakan kepegawaian Dinkes"),
    ("effective_from", dt.date(2024, 1, 1)),
    ("effective_until", None),
    ("applies_to_units", "dinkes"),
    ("applies_to_position_kinds", None),
]

COLUMNS = [
    "rule_id", "title_id", "title_en", "scope",
    "candidate.position.programmes contains",
    "candidate.position.required_certificates contains",
    "candidate.employee.trainings not contains",
    "candidate.employee.certificates not contains",
    "candidate.employee.expired_certificates contains",
    "candidate.employee.expired_certificates not contains",
    "candidate.employee.ext.health_education ==",
    "effect", "training", "component", "points", "message_id", "message_en", "legal_basis", "basis_kind",
    "overridable",
]
CONDITIONS = range(4, 11)

STR_BASIS = "UU 17/2023 tentang Kesehatan pasal 260 (tenaga medis dan tenaga kesehatan wajib memiliki STR)"
RULES = [
    ["vaksinator-training", "Pelatihan Vaksinator untuk program vaksinasi",
     "Vaccinator training for the vaccination programme", "candidate",
     "vaksinasi", "-", "Pelatihan Vaksinator", "-", "-", "-", "-",
     "require_training", "Pelatihan Vaksinator", None, None,
     "Jabatan {candidate.position.name} menjalankan program vaksinasi; pegawai harus mengikuti Pelatihan "
     "Vaksinator sebelum bertugas.",
     "The post {candidate.position.name} runs the vaccination programme; the employee must first complete the "
     "vaccinator training (Pelatihan Vaksinator).",
     "Permenkes 12/2017 tentang Penyelenggaraan Imunisasi (pelayanan imunisasi oleh tenaga kesehatan yang "
     "kompeten dan terlatih)", "agency_policy", "tidak"],
    ["str-expired", "STR sudah tidak berlaku", "STR no longer valid", "candidate",
     "-", "STR", "-", "STR", "STR", "-", "-",
     "block", None, None, None,
     "Jabatan {candidate.position.name} mensyaratkan STR yang berlaku; STR pegawai sudah tidak berlaku "
     "(sertifikat kedaluwarsa: {candidate.employee.expired_certificates}).",
     "The post {candidate.position.name} requires a valid STR (registration certificate); the employee's STR "
     "has expired (expired certificates: {candidate.employee.expired_certificates}).",
     STR_BASIS, "statutory", "tidak"],
    ["str-missing", "Belum memiliki STR", "No STR", "candidate",
     "-", "STR", "-", "STR", "-", "STR", "-",
     "block", None, None, None,
     "Jabatan {candidate.position.name} adalah jabatan tenaga kesehatan dan mensyaratkan STR; pegawai tidak "
     "memiliki STR.",
     "The post {candidate.position.name} is a health profession and requires an STR (registration "
     "certificate); the employee has none.",
     STR_BASIS, "statutory", "tidak"],
    ["pendidikan-kesehatan", "Berlatar pendidikan kesehatan", "Health education background", "candidate",
     "-", "-", "-", "-", "-", "-", "ya",
     "score", None, "pendidikan_kesehatan", 10,
     "Berlatar pendidikan kesehatan ({candidate.employee.education_field}); diutamakan untuk jabatan di Dinas "
     "Kesehatan.",
     "Has a health education ({candidate.employee.education_field}); preferred for posts in the Health Office.",
     "Kebijakan kepegawaian Dinas Kesehatan Kota Pontianak (kesesuaian latar pendidikan; Peraturan BKN 5/2019)",
     "agency_policy", "tidak"],
]

NOTES = [
    "Tabel keputusan (decision table) aturan mutasi Dinas Kesehatan.",
    "Lembar 'dinkes' adalah satu rule set: blok kepala (A1:B10), lalu tabel aturan mulai baris 'rule_id'.",
    "Kolom kondisi: '<jalur fakta> <operator>' (==, !=, <, <=, >, >=, in, not in, contains, not contains) "
    "atau 'when'. Sel kosong atau '-' berarti 'apa saja'. Kondisi satu baris digabung dengan 'and'.",
    "Rumus (=...) tidak boleh: aturan adalah data. Periksa dengan: mutasi-rules rules check dinkes.xlsx",
    "Uji dengan: mutasi-rules rules test dinkes.xlsx (kasus uji di dinkes.tests.yaml).",
    "Lembar yang namanya diawali '_' (seperti lembar ini) adalah catatan dan tidak dibaca sebagai aturan.",
]


def build() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "dinkes"
    bold = Font(bold=True)
    for key, value in HEADER_BLOCK:
        sheet.append([key, value])
        sheet.cell(row=sheet.max_row, column=1).font = bold
        if isinstance(value, dt.date):
            sheet.cell(row=sheet.max_row, column=2).number_format = "yyyy-mm-dd"
    sheet.append([])
    header_row = sheet.max_row + 1
    sheet.append(COLUMNS)
    condition_fill = PatternFill("solid", fgColor="DDEBF7")
    for c, cell in enumerate(sheet[header_row]):
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if c in CONDITIONS:
            cell.fill = condition_fill
    for rule in RULES:
        sheet.append(rule)
    widths = {"A": 26, "B": 38, "C": 38, "D": 11, "L": 17, "M": 22, "N": 22, "O": 8, "P": 60, "Q": 60, "R": 60,
              "S": 14, "T": 12}
    for letter in "EFGHIJK":
        widths[letter] = 22
    for letter, width in widths.items():
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
    notes = book.create_sheet("_petunjuk")
    for line in NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 120
    return deterministic_xlsx(book)


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(build())
    print(f"wrote {OUT}")
