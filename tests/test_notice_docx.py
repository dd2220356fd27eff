"""Notices as Word letters from an editable template, and the region settings file (issue #16)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import docx
import pytest

from mutasi_rules.cli import EXIT_OK, EXIT_PROBLEMS, main
from mutasi_rules.core.settings import RegionSettings, load_settings
from mutasi_rules.explain.notice_docx import DEFAULT_TEMPLATE, notice_context, notice_docx, render_docx_notices
from mutasi_rules.problems import InputError

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ROOT / "examples" / "settings" / "pontianak.yaml"


def read_back(data: bytes) -> tuple[list[str], dict[str, str]]:
    document = docx.Document(io.BytesIO(data))
    fields = {row.cells[0].text: row.cells[2].text for row in document.tables[0].rows}
    return [p.text for p in document.paragraphs], fields


def test_docx_letter_has_every_part_of_an_official_letter(example_run):
    _, result = example_run
    region = load_settings(SETTINGS)
    move = next(m for m in result.moves if m.trainings_required)
    paragraphs, fields = read_back(notice_docx(notice_context(move, result, region=region, run_id="R000009")))
    text = "\n".join(paragraphs)
    # Letterhead, then place and date from the settings and the plan date.
    assert paragraphs[:2] == ["PEMERINTAH KOTA PONTIANAK", "BADAN KEPEGAWAIAN DAN PENGEMBANGAN SUMBER DAYA MANUSIA"]
    assert "Pontianak, 1 Juli 2026" in paragraphs
    assert fields == {"Nomor": "800.1.3/......./BKPSDM", "Sifat": "Penting", "Lampiran": "-",
                      "Hal": "Pemberitahuan Rencana Mutasi"}
    # Addressee, body (where to, why, training first, how to object), signatory, copies.
    assert f"Yth. Sdr. {move.name}" in paragraphs and f"NIP {move.nip}" in paragraphs
    assert any(move.to.position_name in p and p.startswith("•\tKe:") for p in paragraphs)
    assert any(f.message.id in text for f in move.findings if f.effect.value == "require_training")
    assert move.trainings_required[0].name in text and "Pelatihan lebih dulu" in text
    assert "14 hari" in text and "Wali Kota Pontianak selaku Pejabat Pembina Kepegawaian" in text
    assert "Kepala BKPSDM Kota Pontianak" in paragraphs and "Tembusan:" in paragraphs
    assert "rekaman R000009" in text
    assert "{{" not in text and "{%" not in text


def test_docx_letters_are_deterministic_and_escape_data(example_run):
    _, result = example_run
    move = result.moves[0].model_copy(update={"name": "Siti <b>&amp; \"Aminah\"</b>"})
    hostile = result.model_copy(update={"moves": [move]})
    first = render_docx_notices(hostile, langs=("id", "en"))
    assert first == render_docx_notices(hostile, langs=("id", "en"))
    assert sorted(first) == [f"{move.nip}.docx", f"{move.nip}.en.docx"]
    paragraphs, _ = read_back(first[f"{move.nip}.docx"])
    assert f"Yth. Sdr. {move.name}" in paragraphs  # shown as written, never markup
    neutral = "\n".join(paragraphs)
    assert "Kepala Daerah" in neutral and "Pontianak, " not in neutral  # no region in code
    english, _ = read_back(first[f"{move.nip}.en.docx"])
    assert "If you object" in english


def test_an_office_edits_the_template_in_word(example_run, tmp_path):
    _, result = example_run
    template = tmp_path / "surat.docx"
    shutil.copy(DEFAULT_TEMPLATE, template)
    document = docx.Document(template)
    closing = next(p for p in document.paragraphs if p.text.startswith("Demikian"))
    closing.runs[0].text = "Atas perhatian Saudara diucapkan terima kasih."
    document.save(template)
    settings = tmp_path / "daerah.yaml"
    settings.write_text("region_name: Pemerintah Kabupaten Contoh\nhead_title: Bupati Contoh\nplace: Sukamaju\n"
                        "hr_office: BKPSDM Kabupaten Contoh\nnotice_template: surat.docx\n", encoding="utf-8")
    region = load_settings(settings)
    letters = render_docx_notices(result, region=region)
    paragraphs, _ = read_back(next(iter(letters.values())))
    assert "Atas perhatian Saudara diucapkan terima kasih." in paragraphs
    assert paragraphs[0] == "PEMERINTAH KABUPATEN CONTOH"
    assert any("Bupati Contoh selaku" in p for p in paragraphs)


def test_explain_writes_docx_notices_with_settings(example_run, tmp_path):
    _, result = example_run
    saved = tmp_path / "plan.json"
    saved.write_text(result.to_json(), encoding="utf-8")
    out = tmp_path / "letters"
    assert main(["explain", "--result", str(saved), "--notices", str(out), "--notice-format", "docx",
                 "--settings", str(SETTINGS), "--report", str(tmp_path / "r.md")]) == EXIT_OK
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{m.nip}.docx" for m in result.moves)
    assert "Wali Kota Pontianak selaku" in (tmp_path / "r.md").read_text(encoding="utf-8")


def test_bad_settings_are_reported_with_the_field(example_run, tmp_path, capsys):
    saved = tmp_path / "plan.json"
    saved.write_text(example_run[1].to_json(), encoding="utf-8")
    settings = tmp_path / "s.yaml"
    settings.write_text("head_title: ''\nobjection_days: 0\nwali: x\n", encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_settings(settings)
    fields = sorted(p.field for p in error.value.problems)
    assert fields == ["head_title", "objection_days", "wali"]
    capsys.readouterr()
    assert main(["explain", "--result", str(saved), "--settings", str(settings), "--notices",
                 str(tmp_path / "n")]) == EXIT_PROBLEMS
    assert "objection_days" in capsys.readouterr().err and not (tmp_path / "n").exists()


def test_settings_have_neutral_defaults():
    region = RegionSettings()
    assert "Pontianak" not in region.model_dump_json()


def test_a_template_broken_in_word_is_a_clear_problem(example_run, tmp_path):
    _, result = example_run
    template = tmp_path / "rusak.docx"
    shutil.copy(DEFAULT_TEMPLATE, template)
    document = docx.Document(template)
    document.paragraphs[0].runs[0].text = "{{ letterhead.government|upper "  # the closing braces deleted
    document.save(template)
    not_docx = tmp_path / "bukan.docx"
    not_docx.write_text("not a zip", encoding="utf-8")
    for path, code in ((template, "template.invalid"), (not_docx, "template.unreadable")):
        settings = tmp_path / f"{path.stem}.yaml"
        settings.write_text(f"notice_template: {path.name}\n", encoding="utf-8")
        with pytest.raises(InputError) as error:
            render_docx_notices(result, region=load_settings(settings))
        assert [(p.code, p.file) for p in error.value.problems] == [(code, str(path))]


def test_settings_refuse_yaml_aliases(tmp_path):
    bomb = tmp_path / "bom.yaml"
    bomb.write_text('a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
                    'copies_to: [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n', encoding="utf-8")
    with pytest.raises(InputError) as error:
        load_settings(bomb)
    assert "aliases" in error.value.problems[0].message
