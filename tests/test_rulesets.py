"""Rule file loading: positions of problems, safe YAML, cross-file checks, messages, schema."""

from __future__ import annotations

import datetime as dt
import json
from enum import Enum
from pathlib import Path

import pytest

from mutasi_rules.core.canonical import sha256_of
from mutasi_rules.problems import InputError, Problem
from mutasi_rules.rules.language.ast import Compare
from mutasi_rules.rules.rulesets import (
    MAX_FACT_PATHS_PER_SCOPE,
    RuleFile,
    check_rulesets,
    collect_rulesets,
    load_ruleset_file,
    load_ruleset_text,
    load_rulesets,
    message_paths,
    parse_template,
    render_message,
    rule_file_json_schema,
)

DATA = Path(__file__).parent / "data" / "rules"
REPO = Path(__file__).parent.parent

HEADER = """\
ruleset:
  id: {id}
  version: "{version}"
  title: {{id: Uji, en: Test}}
  authority: BKPSDM
  source: Test
  effective_from: {start}
  effective_until: {until}
rules:
"""

RULE = """\
  - id: {rule_id}
    title: {{id: Uji, en: Test}}
    scope: {scope}
    when: {when}
    effect: warn
    message: {{id: "{message}", en: "{message}"}}
    legal_basis: Test
    overridable: {overridable}
{extra}"""


def rule_file(
    *rules: dict[str, str], id: str = "t.one", version: str = "1", start: str = "2024-01-01", until: str = "null"
) -> str:
    text = HEADER.format(id=id, version=version, start=start, until=until)
    for rule in rules:
        values = {"rule_id": "r1", "scope": "employee", "when": "employee.age > 50", "message": "m",
                  "overridable": "false", "extra": ""}
        values.update(rule)
        text += RULE.format(**values)
    return text


def problems_of(text: str, origin: str = "x.yaml") -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_ruleset_text(text, origin)
    return [p for p in info.value.problems if p.severity == "error"]


def at(problem: Problem) -> tuple[int | None, int | None]:
    return problem.line, problem.column


# ----------------------------------------------------------------------------- good files


def test_good_file_loads_with_expressions_and_hash() -> None:
    loaded = load_ruleset_file(DATA / "good" / "agency.yaml")
    assert loaded.id == "test.agency" and loaded.version == "1"
    assert loaded.origin == str(DATA / "good" / "agency.yaml")
    assert [r.id for r in loaded.rules] == ["short-tenure", "long-tenure", "low-rank"]
    assert isinstance(loaded.expressions["short-tenure"], Compare)
    assert set(loaded.expressions) == {"short-tenure", "long-tenure", "low-rank"}
    model = RuleFile(ruleset=loaded.ruleset, rules=list(loaded.rules))
    assert loaded.sha256 == sha256_of(model.model_dump(mode="json"))
    assert loaded.locations["short-tenure"] == (10, 9)
    # the hash is of content, not of layout or comments
    text = (DATA / "good" / "agency.yaml").read_text(encoding="utf-8")
    again = load_ruleset_text("# another comment\n" + text, "elsewhere.yaml")
    assert again.sha256 == loaded.sha256
    assert load_ruleset_text(text.replace("minimal 2", "minimal dua"), "x").sha256 != loaded.sha256


def test_default_national_rule_sets_load() -> None:
    loaded = load_rulesets([REPO / "rules"])
    assert {one.id for one in loaded} >= {"national.transfer-norms"}
    assert not check_rulesets(loaded).errors


def test_origin_override_for_plugins() -> None:
    loaded = load_ruleset_file(DATA / "good" / "agency.yaml", origin="plugin:geo==1.0")
    assert loaded.origin == "plugin:geo==1.0"


# ----------------------------------------------------------------------------- positions


def test_bad_field_and_bad_expression_positions() -> None:
    with pytest.raises(InputError) as info:
        load_ruleset_file(DATA / "bad" / "bad-field.yaml")
    found = {(p.code, p.field): p for p in info.value.problems}
    file = str(DATA / "bad" / "bad-field.yaml")
    assert all(p.file == file for p in info.value.problems)
    unknown_key = found[("rulefile.invalid", "ruleset.colour")]
    assert at(unknown_key) == (8, 3) and "unknown key 'colour'" in unknown_key.message
    typo = found[("rule.unknown_field", "rules[0].when")]
    assert at(typo) == (13, 11) and "did you mean employee.years_in_position" in typo.message
    quoted = found[("rule.unknown_value", "rules[1].when")]
    assert at(quoted) == (20, 31) and 'did you mean "PNS"' in quoted.message  # inside "..." quotes
    points = found[("rulefile.invalid", "rules[2]")]
    assert at(points) == (24, 5) and "needs 'points'" in points.message
    duplicate = found[("ruleset.duplicate_rule", "rules[3].id")]
    assert at(duplicate) == (32, 9)
    syntax = found[("rule.syntax", "rules[3].when")]
    assert at(syntax) == (35, 32) and "unexpected end" in syntax.message
    fmt = found[("rule.message", "rules[0].message.id")]
    assert at(fmt) == (15, 37) and "applies to numbers" in fmt.message
    placeholder = found[("rule.unknown_field", "rules[0].message.en")]
    assert at(placeholder) == (15, 52) and "employee.name" in placeholder.message
    assert len(info.value.problems) == 8  # every problem of the file, not only the first


def test_plain_single_and_block_scalar_positions() -> None:
    text = rule_file({"when": "employee.agee > 50"})
    (problem,) = problems_of(text)
    assert at(problem) == (13, 11)
    text = rule_file({"when": "'employee.status == \"PNs\"'"})
    (problem,) = problems_of(text)
    assert at(problem) == (13, 31)
    text = rule_file({"when": "|\n      employee.age > 50\n        and employee.rank < \"III/x\""})
    (problem,) = problems_of(text)
    assert at(problem) == (15, 29)
    text = rule_file({"when": "employee.age > 50\n      and employee.agee < 3"})  # folded plain scalar
    (problem,) = problems_of(text)
    assert at(problem) == (14, 11)


def test_missing_key_and_wrong_type_positions() -> None:
    text = rule_file().replace("  authority: BKPSDM\n", "") + RULE.format(
        rule_id="r1", scope="employe", when="x > 1", message="m", overridable="maybe", extra=""
    )
    found = problems_of(text)
    messages = {p.field: (p.message, at(p)) for p in found}
    assert messages["ruleset.authority"] == ("required key 'authority' is missing", (2, 3))
    assert "did you mean 'employee'?" in messages["rules[0].scope"][0]
    assert messages["rules[0].scope"][1] == (11, 5)
    assert messages["rules[0].overridable"][1] == (16, 5)
    # no expression check without a valid scope: no noise about 'x'
    assert not any(p.code == "rule.unknown_field" for p in found)
    text = rule_file({}).replace('version: "1"', "version: 2024.1")
    (problem,) = problems_of(text)
    assert "quote the value" in problem.message and at(problem) == (3, 3)


def test_yaml_python_tags_are_rejected_without_running_anything(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    text = f"ruleset: !!python/object/apply:os.system ['touch {marker}']\nrules: []\n"
    (problem,) = problems_of(text)
    assert problem.code == "rulefile.yaml" and "tag not allowed" in problem.message
    assert at(problem) == (1, 10)
    assert not marker.exists()
    (problem,) = problems_of("ruleset: !!python/name:os.system\n")
    assert "tag not allowed" in problem.message
    with pytest.raises(InputError, match="tag not allowed"):
        load_ruleset_file(DATA / "bad" / "python-tag.yaml")


def test_yaml_syntax_error_duplicate_keys_and_alias_bombs() -> None:
    (problem,) = problems_of("ruleset: [unclosed\n")
    assert problem.code == "rulefile.yaml" and problem.line is not None
    text = rule_file({}).replace("    effect: warn\n", "    effect: warn\n    effect: block\n")
    (problem,) = problems_of(text)
    assert problem.code == "rulefile.duplicate_key" and at(problem) == (15, 5)
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in range(1, 8):
        bomb += f"{'abcdefgh'[level]}: &{'abcdefgh'[level]} [" + ", ".join([f"*{'abcdefgh'[level - 1]}"] * 10) + "]\n"
    (problem,) = problems_of(bomb)
    assert problem.code == "rulefile.too_large"
    assert problems_of("")[0].code == "rulefile.empty"
    assert problems_of("- a\n- b\n")[0].message.startswith("a rule file is a mapping")


# ----------------------------------------------------------------------------- across files


def test_collects_problems_of_all_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(rule_file({"when": "employee.agee > 1"}, id="t.a"), encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text(rule_file({"when": "employee.age >"}, id="t.b"), encoding="utf-8")
    (tmp_path / "sub" / "b.tests.yaml").write_text("not: a rule file\n", encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_rulesets([tmp_path, tmp_path / "missing.yaml"])
    files = sorted({Path(p.file).name for p in info.value.problems if p.file})
    assert files == ["a.yaml", "b.yml", "missing.yaml"]


def test_duplicate_rule_set_across_files_and_rule_ids_within() -> None:
    _loaded, problems = collect_rulesets([DATA / "overlap"])
    duplicate = [p for p in problems if p.code == "ruleset.duplicate"]
    assert len(duplicate) == 1 and "also defined in" in duplicate[0].message
    assert duplicate[0].line == 1
    (problem,) = problems_of(rule_file({"rule_id": "same"}, {"rule_id": "same"}))
    assert problem.code == "ruleset.duplicate_rule" and at(problem) == (18, 9)


def test_overlapping_versions(tmp_path: Path) -> None:
    _loaded, problems = collect_rulesets([DATA / "overlap" / "v1.yaml", DATA / "overlap" / "v2.yaml"])
    (problem,) = problems
    assert problem.code == "ruleset.overlapping_versions"
    assert "both in force on 2025-01-01" in problem.message
    assert problem.file == str(DATA / "overlap" / "v2.yaml")
    # consecutive versions are fine
    first = load_ruleset_text(rule_file({}, id="t.v", version="1", until="2024-12-31"), "v1")
    second = load_ruleset_text(rule_file({}, id="t.v", version="2", start="2025-01-01"), "v2")
    assert not check_rulesets([first, second])
    third = load_ruleset_text(rule_file({}, id="t.v", version="3", start="2026-01-01"), "v3")
    assert [p.code for p in check_rulesets([first, second, third])] == ["ruleset.overlapping_versions"]


def test_replaces_checks() -> None:
    national = load_ruleset_text(
        rule_file({"rule_id": "open", "overridable": "true"}, {"rule_id": "fixed"}, id="t.national"), "national.yaml"
    )

    def agency(target: str, scope: str = "employee") -> list[Problem]:
        text = rule_file({"extra": f"    replaces: {target}\n", "scope": scope,
                          "when": "employee.age > 1" if scope == "employee" else "unit.ej > 1"}, id="t.agency")
        return list(check_rulesets([national, load_ruleset_text(text, "agency.yaml")]))

    assert agency("t.national/open") == []
    (problem,) = agency("t.national/fixed")
    assert "not overridable" in problem.message and problem.file == "agency.yaml" and problem.line == 10
    (problem,) = agency("t.national/opne")
    assert ("has no rule 'opne'; did you mean 'open'" in problem.message.replace('"', "'")
            or "did you mean open" in problem.message)
    (problem,) = agency("t.nasional/open")
    assert "not loaded" in problem.message and "t.national" in problem.message
    (problem,) = agency("t.agency/r1")
    assert "own rule set" in problem.message
    (problem,) = agency("t.national/open", scope="unit")
    assert "scope" in problem.message


def test_too_many_fact_paths_in_one_scope() -> None:
    rules = [{"rule_id": f"r{i}", "when": f"employee.ext.a{i} > 1"} for i in range(MAX_FACT_PATHS_PER_SCOPE + 1)]
    from mutasi_rules.data.facts import ExtensionAttribute, FieldType

    ext = [ExtensionAttribute("employee", f"a{i}", FieldType.NUMBER) for i in range(MAX_FACT_PATHS_PER_SCOPE + 1)]
    with pytest.raises(InputError) as info:
        load_ruleset_text(rule_file(*rules), "big.yaml", ext)
    (problem,) = info.value.problems
    assert problem.code == "ruleset.too_many_paths" and "201 distinct fact paths" in problem.message


# ----------------------------------------------------------------------------- messages


def test_template_parsing_and_checks() -> None:
    parts = parse_template("a {{b}} {employee.age:.1f} c")
    assert parts[0] == "a {b} " and parts[2] == " c"
    assert message_paths("{x.y} {a} {x.y:d}") == ["a", "x.y"]
    for template, fragment in [
        ("{employee.age:>10}", "not allowed"),
        ("{employee.name:.1f}", "applies to numbers"),
        ("{employee.__class__}", "starts with '_'"),
        ("{employee.age + 1}", "must be a fact path"),
        ("{employee.age", "not closed"),
        ("oops }", "single '}'"),
        ("{employee.age!r}", "conversions"),
        ("{employee.trainings[0]}", "subscripts"),
    ]:
        problems = problems_of(rule_file({"message": template.replace('"', '\\"')}))
        assert problems and fragment in problems[0].message, (template, problems)


def test_a_message_that_can_round_across_its_threshold_is_warned_about(tmp_path: Path) -> None:
    def warnings(when: str, message: str) -> list[str]:
        path = tmp_path / "rounding.yaml"
        path.write_text(rule_file({"when": when, "message": message}), encoding="utf-8")
        loaded, problems = collect_rulesets([path])
        assert loaded and not problems.errors
        found = [p for p in problems.warnings if p.code == "rule.message_rounding"]
        assert len(found) in (0, 2)  # the same template in both languages
        return [p.message for p in found[:1]]

    (warning,) = warnings("employee.years_in_position < 2", "Baru {employee.years_in_position:.1f} tahun")
    assert "'.1f down'" in warning and "since/until" in warning
    (warning,) = warnings("employee.age > 50", "Usia {employee.age:d}")
    assert "up" in warning
    assert not warnings("employee.years_in_position < 2", "Baru {employee.years_in_position:.1f down} tahun")
    assert not warnings("employee.years_in_position < 2", "Baru {employee.position_start:since}")
    # A closed comparison with a threshold exact at the shown precision cannot be crossed.
    assert not warnings("employee.years_in_position <= 2.5", "{employee.years_in_position:.1f} tahun")
    assert warnings("employee.years_in_position <= 2.55", "{employee.years_in_position:.1f} tahun")
    assert warnings("not (employee.years_in_position >= 2)", "{employee.years_in_position:.0f} tahun")


def test_duration_and_directed_specs_render_and_check() -> None:
    values = {"employee.position_start": dt.date(2024, 7, 4), "as_of": dt.date(2026, 7, 1), "x": 1.1004,
              "y": 0.8999, "z": 1.1}
    assert render_message("{employee.position_start:since}", values, "id") == "1 tahun 11 bulan 27 hari"
    assert render_message("{employee.position_start:since as_of}", values, "en") == "1 year 11 months 27 days"
    assert render_message("{as_of:until employee.position_start}", values, "id") == "1 tahun 11 bulan 28 hari"
    assert render_message("{as_of:since}", values, "id") == "0 hari"
    assert render_message("{as_of:since employee.position_start}", values, "en").startswith("-")
    assert render_message("{x:.2f up}|{y:.2f down}|{z:.2f up}|{x:.1% up}", values, "id") == "1,11|0,89|1,10|110,1%"
    assert render_message("{employee.nope:since}", values) == "-"
    assert message_paths("{employee.position_start:since context.plan_date}") == [
        "context.plan_date", "employee.position_start"]
    for template, fragment in [
        ("{employee.age:since}", "applies to dates"),
        ("{employee.position_start:since employee.age}", "not a date"),
        ("{employee.position_start:since employee.nope}", "duration reference"),
        ("{employee.age:.2f sideways}", "not allowed"),
        ("{employee.position_start:.2f up}", "applies to numbers"),
    ]:
        problems = problems_of(rule_file({"message": template}))
        assert problems and fragment in problems[0].message, (template, problems)


def test_render_message_display_forms() -> None:
    class Colour(Enum):
        RED = "merah"

    values = {
        "employee.years_in_position": 1.456,
        "employee.rank": Colour.RED,
        "employee.birth_date": dt.date(1980, 2, 29),
        "employee.trainings": ["A", "B"],
        "employee.latest_predikat": None,
        "employee.kelas": 7,
        "employee.under_sanction": True,
        "employee.gap": 2.0,
    }
    template = (
        "{employee.years_in_position:.1f}|{employee.rank}|{employee.birth_date}|{employee.trainings}|"
        "{employee.latest_predikat}|{employee.kelas:d}|{employee.under_sanction}|{employee.gap}|{employee.nope}|{{x}}"
    )
    assert render_message(template, values) == "1.5|merah|1980-02-29|A, B|-|7|true|2|-|{x}"
    assert render_message("{employee.under_sanction}", values, "id") == "ya"
    assert render_message("{employee.under_sanction}", values, "en") == "yes"
    assert render_message("{employee.years_in_position:d}", values) == "1.456"  # bad spec for a float: plain
    nested = {"employee": {"age": 41, "trainings": []}}
    assert render_message("{employee.age} {employee.trainings}", nested) == "41 -"


# ----------------------------------------------------------------------------- schema


def test_rule_file_json_schema() -> None:
    schema = rule_file_json_schema()
    assert schema["$id"].startswith("urn:mutasi-rules") and schema["title"] == "mutasi-rules rule file"
    defs = schema["$defs"]
    assert set(defs["Effect"]["enum"]) == {"block", "warn", "require_training", "score", "classify"}
    assert defs["Rule"]["properties"]["scope"]["enum"] == ["employee", "position", "unit", "candidate"]
    assert "exists(path)" in defs["Rule"]["properties"]["when"]["description"]
    assert schema["required"] == ["ruleset", "rules"]
    json.dumps(schema)  # serialisable


def test_rule_sets_contributed_as_objects() -> None:
    import yaml

    data = yaml.safe_load((DATA / "good" / "agency.yaml").read_text(encoding="utf-8"))
    from_dict = load_ruleset_text(data, "plugin:geo==1.0")
    from_file = load_ruleset_file(DATA / "good" / "agency.yaml")
    assert from_dict.sha256 == from_file.sha256 and from_dict.origin == "plugin:geo==1.0"
    model = RuleFile(ruleset=from_file.ruleset, rules=list(from_file.rules))
    assert load_ruleset_text(model, "plugin:x==1").sha256 == from_file.sha256
    data["rules"][0]["when"] = "employee.agee < 2"
    with pytest.raises(InputError) as info:
        load_ruleset_text(data, "plugin:geo==1.0")
    (problem,) = info.value.problems
    assert problem.field == "rules[0].when" and problem.line is None and "did you mean" in problem.message
    # check_rulesets still works without locations
    assert not check_rulesets([from_dict])
