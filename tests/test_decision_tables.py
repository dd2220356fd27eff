"""Rule sets as Excel decision tables (issue #16): same rules as YAML, errors located file!Sheet!C7, data only."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import types
from pathlib import Path

import openpyxl
import pytest

from mutasi_rules.cli import EXIT_OK, EXIT_PROBLEMS, main
from mutasi_rules.planning.recommendation import RecommendOptions, load_run_rulesets, recommend
from mutasi_rules.plugins import RuleSetContribution, hookimpl
from mutasi_rules.plugins.manager import PluginManager, PluginSettings, load_plugins
from mutasi_rules.rules.decision_tables import collect_decision_table, load_decision_table
from mutasi_rules.rules.rulesets import collect_rulesets, default_rules_dir, load_ruleset_file

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "examples" / "decision-tables" / "dinkes.xlsx"
YAML = ROOT / "plugins" / "dinkes_pontianak" / "mutasi_rules_dinkes_pontianak" / "rules" / "dinkes.yaml"


@pytest.fixture(scope="module")
def extensions():
    return load_plugins(PluginSettings(), environ={}).fact_attributes()


def test_the_dinkes_table_compiles_to_the_plugins_yaml_rule_set(extensions):
    (table,) = load_decision_table(TABLE, extensions=extensions)
    yaml_set = load_ruleset_file(YAML, extensions=extensions)
    assert table.ruleset == yaml_set.ruleset and table.rules == yaml_set.rules
    assert table.sha256 == yaml_set.sha256  # the same rule file, byte for byte in canonical JSON
    assert table.origin.endswith("dinkes.xlsx!dinkes")


def test_the_table_gives_identical_findings_on_the_example(example_run, extensions):
    dataset, yaml_result = example_run
    plugins = load_plugins(PluginSettings(), environ={})
    options = RecommendOptions()
    rulesets = load_run_rulesets(options, plugins)
    (table,) = load_decision_table(TABLE, extensions=extensions)
    swapped = [table if r.id == table.id else r for r in rulesets]
    assert any(r is table for r in swapped)
    table_result = recommend(dataset, options, plugins=plugins, rulesets=swapped)
    yaml_origin = next(r.origin for r in rulesets if r.id == table.id)
    fired = [f for m in table_result.moves for f in m.findings if f.ruleset_id == table.id]
    assert fired, "the example moves people into Dinkes posts: the Dinkes rules must fire"
    assert table_result.to_json().replace(table.origin, yaml_origin) == yaml_result.to_json()


def bad_table(path: Path) -> Path:
    """The Dinkes table with an unknown fact, a wrong effect, a formula and a bad message placeholder."""
    shutil.copy(TABLE, path)
    book = openpyxl.load_workbook(path)
    sheet = book["dinkes"]
    sheet["K12"] = "candidate.employee.ext.health_educaton =="  # header of a condition column: a typo
    sheet["L13"] = "blok"  # effect of the first rule
    sheet["E14"] = "=A1"  # a formula in a condition cell
    sheet["P16"] = "Nilai {candidate.employee.nama}"  # message_id of the last rule
    book.save(path)
    return path


def test_problems_are_located_at_their_cells(tmp_path, extensions):
    path = bad_table(tmp_path / "dinkes.xlsx")
    loaded, problems = collect_decision_table(path, extensions=extensions, origin="dinkes.xlsx")
    assert loaded == []
    where = {(p.file, p.code) for p in problems.errors}
    assert ("dinkes.xlsx!dinkes!E14", "table.formula") in where
    assert any(f == "dinkes.xlsx!dinkes!K16" and "health_education" in m for f, m in
               ((p.file, p.message) for p in problems.errors))  # did-you-mean names the real attribute
    # Rule-file checks (effect, message placeholders) run once the cells themselves are sound.
    sheet_fixed = openpyxl.load_workbook(path)
    sheet_fixed["dinkes"]["K12"] = "candidate.employee.ext.health_education =="
    sheet_fixed["dinkes"]["E14"] = "-"
    sheet_fixed.save(path)
    _, problems = collect_decision_table(path, extensions=extensions, origin="dinkes.xlsx")
    where = {p.file for p in problems.errors}
    assert "dinkes.xlsx!dinkes!L13" in where  # effect 'blok'
    assert "dinkes.xlsx!dinkes!P16" in where  # unknown placeholder in message_id


def test_rules_check_and_test_accept_xlsx(tmp_path, capsys):
    assert main(["rules", "check", str(TABLE)]) == EXIT_OK
    assert main(["rules", "test", str(TABLE.parent), "--lang", "en"]) == EXIT_OK
    assert "8 passed, 0 failed" in capsys.readouterr().out
    bad = bad_table(tmp_path / "bad.xlsx")
    assert main(["rules", "check", str(bad)]) == EXIT_PROBLEMS
    assert f"{bad}!dinkes!E14" in capsys.readouterr().out


def test_cells_are_literals_never_code(tmp_path, extensions):
    """A cell holding code is a string literal compared with the fact, never executed."""
    path = tmp_path / "t.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "aturan"
    for row in (["ruleset_id", "agency.contoh"], ["version", "1"], ["title_id", "Contoh"], ["title_en", "Example"],
                ["authority", "BKPSDM"], ["source", "uji"], ["effective_from", dt.date(2024, 1, 1)],
                ["applies_to_units", "dinkes"], []):
        sheet.append(row)
    sheet.append(["rule_id", "title_id", "title_en", "scope", "employee.name ==", "employee.years_in_position >=",
                  "effect", "message_id", "message_en", "legal_basis"])
    sheet.append(["r1", "a", "b", "employee", '__import__("os").system("id")" or true or "', "2,5", "warn",
                  "m", "m", "dasar"])
    book.save(path)
    (loaded,) = load_decision_table(path, extensions=extensions)
    rule = loaded.rules[0]
    assert rule.when.startswith('employee.name == "__import__(\\"os\\")')
    assert rule.when.endswith("employee.years_in_position >= 2.5")  # decimal comma read as a number


def test_a_plugin_contributes_an_xlsx_rule_set(extensions):
    plugin = types.SimpleNamespace(__name__="tabel_dinkes")

    @hookimpl
    def mutasi_rules_rulesets():
        return [RuleSetContribution(path=TABLE)]

    plugin.mutasi_rules_rulesets = mutasi_rules_rulesets
    import mutasi_rules_dinkes_pontianak as dinkes  # the attribute the table's rules read: ext.health_education

    plugin.mutasi_rules_fact_attributes = dinkes.mutasi_rules_fact_attributes
    manager = PluginManager(PluginSettings(entry_points=False), environ={})
    manager.register(plugin, "tabel-dinkes", version="1.0")
    national, _ = collect_rulesets([default_rules_dir()])
    contributed = manager.rulesets(national)
    assert [(r.id, r.origin) for r in contributed] == [("agency.dinkes-pontianak", "plugin:tabel-dinkes==1.0!dinkes")]


def test_shipped_files_are_what_their_build_scripts_make():
    """The example table and the notice template are rebuilt byte for byte by the scripts kept in tools/."""
    import importlib.util

    for script, target in (("build_decision_table_example.py", TABLE),
                           ("build_notice_template.py", ROOT / "mutasi_rules" / "templates" / "notice.docx")):
        spec = importlib.util.spec_from_file_location(script[:-3], ROOT / "tools" / script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert module.build() == target.read_bytes(), f"run: python tools/{script}"


def test_a_run_with_a_decision_table_is_recorded_and_replays_identically(tmp_path, capsys):
    path = tmp_path / "kebijakan.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "bkpsdm"
    for row in (["ruleset_id", "agency.kebijakan-contoh"], ["version", "2026.1"], ["title_id", "Kebijakan contoh"],
                ["title_en", "Example policy"], ["authority", "BKPSDM"], ["source", "uji"],
                ["effective_from", "01/01/2024"], ["applies_to_units", "dinkes"], []):
        sheet.append(row)
    sheet.append(["rule_id", "title_id", "title_en", "scope", "candidate.employee.years_in_position >=", "effect",
                  "component", "points", "message_id", "message_en", "legal_basis"])
    sheet.append(["senior", "Berpengalaman", "Experienced", "candidate", 10, "score", "pengalaman", 2,
                  "Sudah {candidate.employee.years_in_position:.0f} tahun di jabatan",
                  "{candidate.employee.years_in_position:.0f} years in the post", "Kebijakan BKPSDM"])
    book.save(path)
    db = tmp_path / "audit.sqlite"
    example = ROOT / "examples" / "pontianak"
    assert main(["recommend", str(example), "--no-plugins", "--rules", str(default_rules_dir()), "--rules", str(path),
                 "--format", "json", "--audit-db", str(db)]) == EXIT_OK
    captured = capsys.readouterr()
    assert f"{path}!bkpsdm" in captured.out  # the table is named as the origin of its rule set
    run_id = re.search(r"R\d{6}-[0-9a-f]{10}", captured.err).group(0)
    assert main(["audit", "replay", run_id, "--audit-db", str(db)]) == EXIT_OK
    assert "identik" in capsys.readouterr().out
