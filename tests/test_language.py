"""Bahasa Indonesia by default, English with --lang en, from the gettext catalogue (issue #16)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.pofile import read_po

from mutasi_rules.cli import EXIT_OK, EXIT_PROBLEMS, main
from mutasi_rules.core.i18n import catalogue_path, translate_message, translator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "pontianak"
BAD = ROOT / "tests" / "data" / "bad"
#: Parser libraries' own wording (PyYAML, json, zipfile) is quoted as it is.
THIRD_PARTY_DETAIL = {"json_syntax", "yaml_syntax", "xlsx_unreadable"}

#: English words that never belong in Indonesian prose. Table names (units, positions, employees) are
#: identifiers of the data format, like column names, and are not counted.
#: English words that never belong in Indonesian prose (and are not Indonesian words or domain codes).
ENGLISH = {
    "the", "is", "are", "be", "must", "should", "expected", "missing", "unknown", "required", "not", "and", "or",
    "of", "with", "but", "does", "exist", "already", "used", "after", "before", "invalid", "error", "errors",
    "warning", "warnings", "input", "dataset", "file", "column", "row", "line", "written", "moves",
    "skipped", "recorded", "needed", "balance", "spread", "outside", "position", "name", "grade",
    "effective", "note", "mean", "workload", "rounded", "vacant", "without", "count", "what",
    "than", "greater", "less", "equal", "date", "impossible", "digits", "got", "twice", "header", "cell", "number",
    "has", "have", "no", "to", "in", "at", "its", "this", "here", "would", "lost", "use", "ignore", "year",
}


def prose_words(text: str) -> set[str]:
    """The words of ``text`` once data is removed: quoted values, paths, identifiers, numbers, option names."""
    text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", text)
    words = set()
    for token in re.split(r"[\s,;:()\[\]{}|│┃━─┏┓┗┛┡┩┣┫╇╋┳┻└┘┌┐├┤┬┴┼=<>]+", text):
        if not token or re.search(r"[_./\\0-9@-]", token):
            continue  # identifiers (birth_date), paths, numbers, options, dates
        words.add(token.lower().strip("?!%*"))
    return words


def english_in(text: str) -> set[str]:
    return prose_words(text) & ENGLISH


def test_every_message_in_the_code_has_an_indonesian_translation():
    """Babel extracts every _("...") of the code; the catalogue must translate each."""
    with catalogue_path("id").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {(m.context, m.id if isinstance(m.id, str) else m.id[0]) for m in catalogue
                  if m.id and (m.string if isinstance(m.string, str) else all(m.string))}
    keywords = {**DEFAULT_KEYWORDS, "NC_": ((1, "c"), 2)}  # texts kept in tables: N_("..."), NC_(context, "...")
    used = set()
    for path in sorted((ROOT / "mutasi_rules").rglob("*.py")):
        for _, message, _, context in extract_from_file("python", str(path), keywords=keywords):
            used.add((context, message if isinstance(message, str) else message[0]))
    assert len(used) > 150, "the code uses the catalogue"
    assert (None, "Transfer plan") in used and ("letter", "To") in used
    assert sorted(used - translated) == []


@pytest.mark.parametrize("case", sorted(p.name for p in BAD.iterdir() if p.name not in THIRD_PARTY_DETAIL))
def test_validation_messages_are_indonesian(case, capsys):
    dataset = next(p for p in sorted((BAD / case).iterdir()) if p.name.startswith("dataset"))
    assert main(["validate", str(dataset)]) == EXIT_PROBLEMS
    out = capsys.readouterr().out
    for line in out.splitlines():
        message = re.split(r": (?:kesalahan|peringatan): ", line, maxsplit=1)
        if len(message) == 2:  # a problem line: location, then the message
            assert not english_in(message[1]), (line, english_in(message[1]))
        else:
            assert not english_in(line), (line, english_in(line))
    assert "data tidak valid" in out


def test_workload_and_recommend_speak_indonesian_by_default(tmp_path, capsys):
    assert main(["workload", str(EXAMPLE)]) == EXIT_OK
    captured = capsys.readouterr()
    assert "Beban kerja per OPD" in captured.out
    assert not english_in(captured.out + captured.err), english_in(captured.out + captured.err)
    assert main(["recommend", str(EXAMPLE), "--audit-db", str(tmp_path / "a.sqlite"), "--out",
                 str(tmp_path / "plan.txt")]) == EXIT_OK
    captured = capsys.readouterr()
    text = (tmp_path / "plan.txt").read_text(encoding="utf-8") + captured.out + captured.err
    assert "mutasi ditulis ke" in text
    assert not english_in(text), english_in(text)


def test_why_not_speaks_indonesian(capsys):
    assert main(["why-not", str(EXAMPLE), "--employee", "197601222004071001", "--position",
                 "sdn-01-selatan.guru-sd-pertama"]) in (EXIT_OK, EXIT_PROBLEMS)
    captured = capsys.readouterr()
    assert "Mengapa tidak" in captured.out
    assert not english_in(captured.out + captured.err), english_in(captured.out + captured.err)


def test_demo_speaks_indonesian(tmp_path, capsys):
    assert main(["demo", str(EXAMPLE), "--out-dir", str(tmp_path)]) == EXIT_OK
    captured = capsys.readouterr()
    assert "data valid" in captured.out and "Beban kerja per OPD" in captured.out
    assert not english_in(captured.out + captured.err), english_in(captured.out + captured.err)


def test_a_bad_dataset_is_reported_in_indonesian_by_every_command(tmp_path, capsys):
    dataset = next(p for p in sorted((BAD / "many_problems").iterdir()) if p.name.startswith("dataset"))
    for command in (["workload", str(dataset)], ["recommend", str(dataset), "--no-audit"]):
        assert main(command) == EXIT_PROBLEMS
        err = capsys.readouterr().err
        assert "kesalahan" in err
        for line in err.splitlines():
            message = re.split(r": (?:kesalahan|peringatan): ", line, maxsplit=1)[-1]
            assert not english_in(message), (command[0], line, english_in(message))


def test_english_with_lang_en(capsys):
    assert main(["workload", str(EXAMPLE), "--lang", "en"]) == EXIT_OK
    assert "Workload per OPD" in capsys.readouterr().out
    dataset = next(p for p in sorted((BAD / "missing_column").iterdir()) if p.name.startswith("dataset"))
    assert main(["validate", str(dataset), "--lang", "en"]) == EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert "required column" in out and "dataset is invalid" in out


def test_a_message_the_catalogue_does_not_know_is_shown_as_it_is():
    assert translate_message("something entirely new", "id") == "something entirely new"
    assert translator("en")("Staff needed") == "Staff needed"
    assert translator("id")("Staff needed") == "Kebutuhan pegawai"


def _indonesian(text: str) -> None:
    assert not english_in(text), english_in(text)


def test_rules_audit_plugins_schema_and_generate_speak_indonesian(tmp_path, capsys):
    """The commands beside recommend speak Bahasa Indonesia by default too (JSON documents stay as they are)."""
    rules = ROOT / "rules"
    assert main(["rules", "check", str(rules)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "kumpulan aturan" in out and "0 kesalahan" in out and "menghalangi" in out
    _indonesian(out)
    assert main(["rules", "test", str(rules)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "LULUS" in out and "Setiap aturan diuji" in out and " lulus, 0 gagal" in out
    _indonesian(out)

    db = str(tmp_path / "audit.sqlite")
    assert main(["recommend", str(EXAMPLE), "--audit-db", db, "--out", str(tmp_path / "plan.txt")]) == EXIT_OK
    err = capsys.readouterr().err
    assert "hash rekaman" in err
    _indonesian(err)
    run_id = re.search(r"R\d{6}-[0-9a-f]{10}", err).group(0)
    assert main(["audit", "verify", "--audit-db", db]) == EXIT_OK
    out = capsys.readouterr().out
    assert "1 catatan, rantai hash utuh" in out
    _indonesian(out)
    assert main(["audit", "list", "--audit-db", db]) == EXIT_OK
    out = capsys.readouterr().out
    assert "tanggal rencana" in out
    _indonesian(out)
    assert main(["audit", "replay", run_id, "--audit-db", db]) == EXIT_OK
    out = capsys.readouterr().out
    assert "putar ulang identik" in out
    _indonesian(out)

    assert main(["plugins", "list"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "aktif" in out and "sumber" in out
    _indonesian(out)
    assert main(["schema", "result", "--out", str(tmp_path / "result.schema.json")]) == EXIT_OK
    err = capsys.readouterr().err
    assert "ditulis ke" in err
    _indonesian(err)
    assert main(["generate", "--employees", "150", "--out", str(tmp_path / "data")]) == EXIT_OK
    out = capsys.readouterr().out
    assert "150 pegawai" in out
    _indonesian(out)


def test_rules_audit_plugins_schema_and_generate_speak_english_with_lang_en(tmp_path, capsys):
    assert main(["rules", "test", str(ROOT / "rules"), "--lang", "en"]) == EXIT_OK
    assert "Every rule is exercised by at least one case." in capsys.readouterr().out
    assert main(["plugins", "list", "--lang", "en"]) == EXIT_OK
    assert "enabled" in capsys.readouterr().out
    assert main(["generate", "--employees", "150", "--out", str(tmp_path / "data"), "--lang", "en"]) == EXIT_OK
    assert "150 employees" in capsys.readouterr().out


def test_a_tampered_log_is_reported_in_indonesian(tmp_path, capsys):
    import sqlite3

    db = tmp_path / "audit.sqlite"
    assert main(["recommend", str(EXAMPLE), "--audit-db", str(db), "--out", str(tmp_path / "plan.txt")]) == EXIT_OK
    run_id = re.search(r"R\d{6}-[0-9a-f]{10}", capsys.readouterr().err).group(0)
    with sqlite3.connect(db) as connection:
        connection.execute("DROP TRIGGER IF EXISTS records_no_update")
        connection.execute("UPDATE records SET options_json = json_set(options_json, '$.max_moves', 0)")
    assert main(["audit", "verify", "--audit-db", str(db)]) == EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert f"DIUBAH ATAU RUSAK: catatan rusak pertama nomor urut 1 ({run_id})" in out
    _indonesian(out)
    assert main(["audit", "replay", run_id, "--audit-db", str(db)]) == EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert "TIDAK DAPAT DIVERIFIKASI" in out and "perbedaan pertama di $." in out
    # A difference line quotes the recorded and replayed values (data, cut at 60 characters).
    _indonesian("\n".join(line for line in out.splitlines() if "$." not in line))


def test_every_catalogue_entry_has_both_languages_with_the_same_placeholders():
    """Each message (English, the msgid) has its Indonesian text, with the same {placeholders} and no English."""
    with catalogue_path("id").open("rb") as handle:
        catalogue = read_po(handle)
    problems = []
    for message in catalogue:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, str) else message.id[0]
        indonesian = message.string if isinstance(message.string, str) else message.string[0]
        if not indonesian:
            problems.append((english, "no Indonesian text"))
            continue
        if set(re.findall(r"\{(\w+)\}", english)) != set(re.findall(r"\{(\w+)\}", indonesian)):
            problems.append((english, indonesian, "placeholders differ"))
        # Placeholders, quoted template syntax and the rule language's functions (date(...)) are not prose.
        words = english_in(re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{\w+\}|\b\w+\(", " ", indonesian))
        if words:
            problems.append((english, indonesian, words))
    assert len(catalogue) > 500
    assert problems == []


def test_rule_file_problems_are_reported_in_indonesian(capsys):
    """A rule author reads what is wrong in Bahasa Indonesia; the rule text quoted under it stays as written."""
    bad = ROOT / "tests" / "data" / "rules" / "bad" / "bad-field.yaml"
    assert main(["rules", "check", str(bad)]) == EXIT_PROBLEMS
    out = capsys.readouterr().out
    messages = [re.sub(r" \[[^\]]*\]$", "", line.split(": kesalahan: ", 1)[1])
                for line in out.splitlines() if ": kesalahan: " in line]
    assert len(messages) == 8 and any("mungkin maksud Anda" in m for m in messages)
    for message in messages:
        assert not english_in(message), (message, english_in(message))
    assert main(["rules", "check", str(bad), "--lang", "en"]) == EXIT_PROBLEMS
    assert "unknown field 'employee.years_in_postion' for scope employee; did you mean" in capsys.readouterr().out


def test_every_catalogue_pattern_compiles_and_a_repeated_placeholder_is_one_value():
    from mutasi_rules.core.i18n import _patterns

    assert len(_patterns("id", True)) >= len(_patterns("id", False)) > 300
    message = "warning: /srv/keys.yaml is readable by others; it should be 0600 (chmod 600 /srv/keys.yaml)"
    assert translate_message(message, "id").startswith("peringatan: /srv/keys.yaml dapat dibaca")
    other = "warning: /srv/keys.yaml is readable by others; it should be 0600 (chmod 600 /tmp/other.yaml)"
    assert translate_message(other, "id") == other  # not the same path twice: not this message


def test_a_scenario_comparison_reads_in_indonesian(surge_report):
    """The changes a scenario makes are recorded in English (JSON) and read in Bahasa Indonesia."""
    from mutasi_rules.planning.comparison import render_markdown

    text = render_markdown(surge_report, "id")
    assert "Skenario dibandingkan dengan kondisi dasar" in text and "jabatan baru" in text
    assert not english_in(text), english_in(text)
    assert "new position" in render_markdown(surge_report, "en")


def test_audit_failures_are_reported_in_indonesian(tmp_path, capsys):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    assert main(["audit", "list", "--audit-db", str(empty)]) == 3
    err = capsys.readouterr().err
    assert "berkas kosong" in err and not english_in(err.replace(str(empty), " ")), english_in(err)
    assert main(["audit", "verify", "--audit-db", str(tmp_path / "none.sqlite")]) == 3
    err = capsys.readouterr().err
    assert "tidak ada log audit" in err and not english_in(err), english_in(err)


def test_json_documents_are_the_same_in_either_language(capsys):
    """Machines read JSON: the language switch changes text for people only."""
    bad = ROOT / "tests" / "data" / "rules" / "bad" / "bad-field.yaml"
    outputs = []
    for lang in ("id", "en"):
        for command in (["rules", "check", str(bad)], ["rules", "test", str(ROOT / "rules")], ["plugins", "list"]):
            main([*command, "--format", "json", "--lang", lang])
            outputs.append(capsys.readouterr().out)
    assert outputs[:3] == outputs[3:] and all(out.startswith(("{", "[")) for out in outputs)
