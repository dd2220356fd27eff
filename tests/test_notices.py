"""Letter drafts to the people a plan moves: open reasons, the training offered, the objection route."""

from __future__ import annotations

import datetime as dt
import functools
import math
from pathlib import Path

from mutasi_rules.core.settings import load_settings
from mutasi_rules.data.loading import load_dataset
from mutasi_rules.explain.explanations import number
from mutasi_rules.explain.notices import (
    NoticeSettings,
    long_date,
    notice_filename,
    notice_markdown,
    plugin_contacts,
    render_notices,
    write_notices,
)
from mutasi_rules.planning.recommendation import RecommendationResult, recommend
from mutasi_rules.plugins.manager import load_plugins
from mutasi_rules.plugins.types import NoticeContact

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "pontianak"
#: The example region's settings: nothing about Pontianak is in the code.
PONTIANAK = NoticeSettings.from_region(load_settings(EXAMPLE.parent / "settings" / "pontianak.yaml"))


@functools.lru_cache(maxsize=1)
def result() -> RecommendationResult:
    return recommend(load_dataset(EXAMPLE))


def conditional_move():
    return next(m for m in result().moves if m.trainings_required and m.trainings_required[0].offer)


def test_letter_says_where_why_training_and_how_to_object():
    move = conditional_move()
    letter = notice_markdown(move, result(), settings=PONTIANAK)
    assert letter.startswith("# Draf pemberitahuan rencana mutasi")
    assert f"NIP {move.nip}" in letter and move.name in letter
    # Where to and from.
    assert move.to.position_name in letter and move.to.unit_name in letter
    assert move.from_.position_name in letter and move.from_.unit_name in letter
    # Why: the target's shortage and load, the source's surplus, in plain words (percent, not EJ formulas).
    shortage = next(s for s in result().shortages if s.position.position_id == move.to.position_id)
    assert f"kekurangan {shortage.shortage} orang pegawai" in letter
    shown = result().run.options.workload.ej_shown  # on its own side of every grade and band edge
    assert f"{round(shown(move.target_effect.position_ej_before) * 100)}%" in letter
    assert f"{round(shown(move.source_effect.position_ej_before) * 100)}%" in letter and "kelebihan pegawai" in letter
    assert "EJ =" not in letter and "×" not in letter
    # Key rule findings, in the person's language.
    for finding in move.findings:
        if finding.effect.value in ("score", "require_training"):
            assert finding.message.id in letter
    shown = math.floor(move.profile.score * 10) / 10  # rounded down, as the word bands are read
    assert f"nilai kesesuaian {number(shown, 1, 'id')} dari 5" in letter
    # The training offered first.
    offer = move.trainings_required[0].offer
    assert "## Pelatihan lebih dulu" in letter
    assert f"**{offer.name}**: {offer.hours:.0f} jam pelajaran, diselenggarakan oleh {offer.provider}" in letter
    # A proposal of BKPSDM for the decision of the Wali Kota (PPK); objection route and period.
    assert "usulan BKPSDM Kota Pontianak" in letter and "Wali Kota Pontianak" in letter and "(PPK)" in letter
    assert "keberatan" in letter and "14 hari" in letter and "BKPSDM Kota Pontianak" in letter
    # Dated with the run's plan date, never the clock.
    assert f"Pontianak, {long_date(result().run.plan_date, 'id')}" in letter


def test_letter_date_follows_the_plan_date_and_output_is_deterministic():
    move = conditional_move()
    later = result().model_copy(update={"run": result().run.model_copy(update={"plan_date": dt.date(2026, 9, 15)})})
    assert "Pontianak, 15 September 2026" in notice_markdown(move, later, settings=PONTIANAK)
    neutral = notice_markdown(move, later)  # without settings: neutral words, no city in the code
    assert ".........., 15 September 2026" in neutral and "oleh Kepala Daerah selaku" in neutral
    assert "Wali Kota" not in neutral and "usulan BKPSDM;" in neutral
    assert notice_markdown(move, result()) == notice_markdown(move, result())
    assert render_notices(result(), langs=("id", "en")) == render_notices(result(), langs=("id", "en"))


def test_english_version():
    move = conditional_move()
    letter = notice_markdown(move, result(), lang="en")
    assert letter.startswith("# Draft notice of a planned transfer")
    assert "If you object" in letter and "within 14 days" in letter and "PPK" in letter
    assert f"{move.trainings_required[0].offer.hours:.0f} hours" in letter
    assert long_date(result().run.plan_date, "en") in letter


def test_contact_office_and_objection_period_are_settings():
    move = conditional_move()
    contact = NoticeContact(office="Sub Bagian Kepegawaian Dinas X", email="kepegawaian@example.org",
                            phone="0561-000000")
    letter = notice_markdown(move, result(), contact=contact, settings=NoticeSettings(objection_days=30))
    assert "**Sub Bagian Kepegawaian Dinas X**" in letter and "kepegawaian@example.org" in letter
    assert "0561-000000" in letter and "30 hari" in letter and "14 hari" not in letter
    asked: list[str] = []

    def lookup(unit_id: str) -> NoticeContact | None:
        asked.append(unit_id)
        return contact

    letters = render_notices(result(), contacts=lookup)
    assert asked == [m.from_.unit_id for m in result().moves]  # the employee's current unit
    assert all("Sub Bagian Kepegawaian Dinas X" in text for text in letters.values())


def test_plugin_contacts_use_the_firstresult_hook_and_fall_back_to_none():
    dataset = load_dataset(EXAMPLE)
    manager = load_plugins()
    lookup = plugin_contacts(manager, dataset)
    dinkes_unit = next(u.id for u in dataset.units if u.id.startswith("pkm-"))
    assert "mutasi-rules-dinkes-pontianak" in manager.infos, "the example's plugins are installed in the dev venv"
    contact = lookup(dinkes_unit)
    assert contact is not None and "Dinas Kesehatan" in contact.office
    assert contact.source.startswith("plugin:")
    assert lookup("bappeda") is None  # no plugin covers it: the letter falls back to BKPSDM


def test_names_from_data_are_escaped():
    move = conditional_move().model_copy(update={"name": "<script>alert(1)</script>"})
    letter = notice_markdown(move, result())
    assert "<script>" not in letter and "&lt;script&gt;" in letter


def test_write_notices_one_file_per_person_and_language(tmp_path):
    paths = write_notices(result(), tmp_path / "out", langs=("id", "en"), run_id="R000007-x")
    expected = render_notices(result(), langs=("id", "en"), run_id="R000007-x")
    assert sorted(p.name for p in paths) == sorted(expected)
    for path in paths:
        assert path.read_text(encoding="utf-8") == expected[path.name]
        assert "R000007-x" in expected[path.name]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no temporary files left
    odd = conditional_move().model_copy(update={"nip": "../../etc/passwd"})
    assert "/" not in notice_filename(odd, "id") and not notice_filename(odd, "id").startswith(".")


def test_a_letter_cites_only_the_rule_sets_that_applied_to_that_person():
    teacher = next(m for m in result().moves if m.to.position_name.startswith("Guru"))
    health = next(m for m in result().moves if "Puskesmas" in m.to.unit_name or "Penyakit" in m.to.unit_name)
    cited = lambda move: notice_markdown(move, result()).rsplit("Rujukan: ", 1)[1]  # noqa: E731
    assert "agency.disdikbud-pontianak" in cited(teacher) and "agency.dinkes-pontianak" not in cited(teacher)
    assert "agency.dinkes-pontianak" in cited(health) and "agency.disdikbud-pontianak" not in cited(health)
    for move in (teacher, health):
        assert "national.transfer-norms" in cited(move)
        # A rule set is cited exactly when one of its rules fired for the person or was checked and passed.
        used = {f.ruleset_id for f in move.findings} | {k.split("/")[0] for k in move.rules_passed}
        assert {r.id for r in result().run.rulesets if r.id in cited(move)} == used


def test_rules_passed_are_only_the_rules_that_cover_the_move():
    teacher = next(m for m in result().moves if m.to.position_name.startswith("Guru"))
    assert teacher.rules_passed and not any(k.startswith("agency.dinkes-pontianak/") for k in teacher.rules_passed)
    assert "national.transfer-norms/min-time-in-post" in teacher.rules_passed  # checked for the person, passed


def test_posts_of_the_same_name_are_told_apart_by_their_unit():
    move = next(m for m in result().moves if m.to.position_name == m.from_.position_name)
    letter = notice_markdown(move, result())
    assert f"Beban kerja jabatan {move.to.position_name} di {move.to.unit_name} saat ini" in letter
    assert f"Di jabatan Anda sekarang ({move.from_.position_name} di {move.from_.unit_name})" in letter
    english = notice_markdown(move, result(), lang="en")
    assert f"The workload of the post {move.to.position_name} at {move.to.unit_name} is now" in english


def test_the_aspects_read_as_a_sentence_lists_them():
    from mutasi_rules.explain.notices import join_words

    assert join_words(["kualifikasi", "kompetensi", "kinerja"], "id") == "kualifikasi, kompetensi, dan kinerja"
    assert join_words(["kualifikasi", "kinerja"], "id") == "kualifikasi dan kinerja"
    assert join_words(["qualification", "competence", "performance"], "en") == \
        "qualification, competence and performance"
    assert join_words(["kinerja"], "id") == "kinerja" and join_words([], "id") == ""
    letter = notice_markdown(conditional_move(), result())
    assert "Dari sisi kualifikasi, kompetensi, dan kinerja, profil Anda dinilai" in letter


def test_the_fit_score_and_its_word_never_disagree():
    from mutasi_rules.explain.notices import _fit_lines

    move = conditional_move()
    for score, word in ((4.46, "sesuai dengan"), (4.5, "sangat sesuai"), (3.49, "cukup sesuai"),
                        (2.49, "kurang sesuai")):
        profile = move.profile.model_copy(update={"score": score})
        (line, *_) = _fit_lines(move.model_copy(update={"profile": profile}), result(), "id")
        shown = float(line.split("nilai kesesuaian ")[1].split(" ")[0].replace(",", "."))
        assert f"dinilai {word}" in line and shown <= score and round(score - shown, 6) < 0.1, line


def test_a_workload_share_is_never_rounded_across_the_balance_band():
    from mutasi_rules.analysis.workload import WorkloadSettings
    from mutasi_rules.explain.notices import _percent

    settings = WorkloadSettings()
    assert _percent(0.896, settings) == "89%" and _percent(0.896) == "90%"  # surplus: below 90 %
    assert _percent(1.104, settings) == "111%" and _percent(1.5, settings) == "150%"
    assert _percent(None, settings) == "-"
