"""The agency plugin interface: discovery, settings, call semantics and failure reporting."""

from __future__ import annotations

import collections
import datetime as dt
import json
import textwrap
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from mutasi_rules.cli import main
from mutasi_rules.data.facts import DatasetIndex, ExtensionAttribute, FieldType, employee_facts
from mutasi_rules.data.models import Dataset
from mutasi_rules.plugins import (
    NoticeContact,
    PlanConstraint,
    PluginConflictError,
    PluginError,
    PluginManager,
    PluginNameError,
    PluginSettings,
    RuleSetContribution,
    ScoreComponent,
    TrainingOffer,
    Veto,
    hookimpl,
    load_plugins,
)
from mutasi_rules.rules.rulesets import Localized, load_rulesets

ROOT = Path(__file__).resolve().parents[1]
DINKES = "mutasi-rules-dinkes-pontianak"
DISDIKBUD = "mutasi-rules-disdikbud-pontianak"
AS_OF = dt.date(2026, 1, 1)
TEXT = Localized(id="alasan", en="reason")


def dataset() -> Dataset:
    """Two OPDs with one sub-unit each, five positions, three employees."""
    return Dataset.model_validate(
        {
            "metadata": {"name": "plugin tests", "as_of": AS_OF},
            "units": [
                {"id": "dinkes", "name": "Dinas Kesehatan", "kind": "dinas"},
                {"id": "pkm-1", "name": "Puskesmas Satu", "kind": "puskesmas", "parent_id": "dinkes"},
                {"id": "disdikbud", "name": "Dinas Pendidikan dan Kebudayaan", "kind": "dinas"},
                {"id": "sd-1", "name": "SD Negeri 1", "kind": "sekolah", "parent_id": "disdikbud"},
            ],
            "positions": [
                {"id": "p-vak", "name": "Vaksinator", "kind": "pelaksana", "kelas": 6, "unit_id": "pkm-1",
                 "programmes": ["vaksinasi"]},
                {"id": "p-adm", "name": "Pengadministrasi Umum", "kind": "pelaksana", "kelas": 5, "unit_id": "dinkes"},
                {"id": "p-guru-a", "name": "Guru Kelas", "kind": "fungsional", "level": "ahli_pertama", "kelas": 8,
                 "unit_id": "sd-1"},
                {"id": "p-guru-b", "name": "Guru Mata Pelajaran", "kind": "fungsional", "level": "ahli_muda",
                 "kelas": 9, "unit_id": "sd-1"},
                {"id": "p-tu", "name": "Pengelola Tata Usaha", "kind": "pelaksana", "kelas": 5, "unit_id": "sd-1"},
            ],
            "employees": [
                {"nip": "198503122010011002", "name": "A", "status": "PNS", "gender": "L",
                 "birth_date": "1985-03-12", "rank": "III/a", "position_id": "p-adm", "unit_id": "dinkes",
                 "position_start": "2018-01-01", "education": {"level": "S1", "field": "Kesehatan Masyarakat"}},
                {"nip": "199001012015032001", "name": "B", "status": "PNS", "gender": "P",
                 "birth_date": "1990-01-01", "rank": "III/b", "position_id": "p-guru-a", "unit_id": "sd-1",
                 "position_start": "2015-03-01", "education": {"level": "S1", "field": "Pendidikan Guru SD"}},
                {"nip": "199202022016031003", "name": "C", "status": "PNS", "gender": "L",
                 "birth_date": "1992-02-02", "rank": "III/a", "position_id": "p-guru-b", "unit_id": "sd-1",
                 "position_start": "2016-03-01", "education": {"level": "S1", "field": None}},
            ],
        }
    )


def manager(*plugins: tuple[object, str], **settings: Any) -> PluginManager:
    """A manager without installed plugins, with ``plugins`` registered in order."""
    m = PluginManager(PluginSettings(entry_points=False, **settings), environ={})
    for plugin, name in plugins:
        m.register(plugin, name, version="1.0")
    return m


# --------------------------------------------------------------------------- discovery and settings


def test_entry_point_discovery_finds_the_installed_example_plugins():
    m = load_plugins(PluginSettings(), environ={})
    infos = {i.name: i for i in m.list_plugins()}
    for name, module in ((DINKES, "mutasi_rules_dinkes_pontianak"), (DISDIKBUD, "mutasi_rules_disdikbud_pontianak")):
        info = infos[name]
        assert info.status == "enabled"
        assert info.version == version(name)
        assert info.source == f"{name}=={version(name)}"
        assert info.module == module
        assert info.origin == f"plugin:{name}=={version(name)}"
        assert "mutasi_rules_rulesets" in info.hooks and "mutasi_rules_fact_attributes" in info.hooks
    assert "mutasi_rules_plan_constraints" in infos[DISDIKBUD].hooks
    assert "mutasi_rules_plan_constraints" not in infos[DINKES].hooks


LOCAL_PLUGIN = '''
from mutasi_rules.plugins import NoticeContact, hookimpl

__version__ = "{version}"

@hookimpl
def mutasi_rules_notice_contact(unit_id):
    return NoticeContact(office="{office}")
'''


def test_explicit_plugins_by_module_and_by_file(tmp_path, monkeypatch):
    (tmp_path / "pkg_local_contact.py").write_text(LOCAL_PLUGIN.format(version="2.5", office="by module"))
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "file_contact.py").write_text(LOCAL_PLUGIN.format(version="0.3", office="by file"))
    monkeypatch.syspath_prepend(str(tmp_path))
    m = load_plugins(PluginSettings(explicit=["pkg_local_contact", str(other / "file_contact.py")]), environ={})
    by_module, by_file = m.get("pkg_local_contact"), m.get("file_contact")
    assert (by_module.status, by_module.version) == ("enabled", "2.5")
    assert by_module.source.endswith("pkg_local_contact.py")
    assert (by_file.status, by_file.version, by_file.source) == ("enabled", "0.3", str(other / "file_contact.py"))
    # Registered after the installed plugins, so called first; the last explicit one first of all.
    order = m.call_order("mutasi_rules_notice_contact")
    assert order[:2] == ["file_contact", "pkg_local_contact"]
    assert set(order[2:]) == {DINKES, DISDIKBUD}
    contact = m.notice_contact("pkm-1", dataset())
    assert contact is not None and contact.office == "by file"
    assert contact.source == "plugin:file_contact==0.3"


def test_explicit_plugin_that_cannot_be_imported_is_broken(tmp_path):
    missing = tmp_path / "nope.py"
    with pytest.raises(PluginError) as err:
        load_plugins(PluginSettings(entry_points=False, explicit=[str(missing)]), environ={})
    assert err.value.plugin == "nope" and err.value.hook == "load"
    m = load_plugins(PluginSettings(entry_points=False, explicit=["no_such_module_xyz"], skip_broken=True), environ={})
    assert m.get("no_such_module_xyz").status == "broken"
    assert m.skipped[0].plugin == "no_such_module_xyz" and "ModuleNotFoundError" in m.skipped[0].reason


def test_disabled_only_and_environment():
    m = load_plugins(PluginSettings(disabled=[DINKES]), environ={})
    assert m.get(DINKES).status == "disabled" and m.get(DISDIKBUD).status == "enabled"
    assert [i.name for i in m.enabled] == [DISDIKBUD]
    assert m.call_order("mutasi_rules_rulesets") == [DISDIKBUD]

    m = load_plugins(PluginSettings(), environ={"MUTASI_RULES_DISABLE_PLUGINS": f" {DISDIKBUD} ,"})
    assert m.get(DISDIKBUD).status == "disabled" and m.get(DINKES).status == "enabled"
    assert m.settings.disabled == [DISDIKBUD]
    # A name that matches no plugin is an error, not ignored (issue #21).
    with pytest.raises(PluginNameError, match=r"MUTASI_RULES_DISABLE_PLUGINS.*'other'"):
        load_plugins(PluginSettings(), environ={"MUTASI_RULES_DISABLE_PLUGINS": f"{DISDIKBUD},other"})

    # Disabling by module name works too; 'only' keeps just the listed ones.
    m = load_plugins(PluginSettings(disabled=["mutasi_rules_dinkes_pontianak"]), environ={})
    assert m.get(DINKES).status == "disabled"
    m = load_plugins(PluginSettings(only=[DINKES]), environ={})
    assert [i.name for i in m.enabled] == [DINKES] and m.get(DISDIKBUD).reason == "not in 'only'"


def test_unmarked_hook_functions_count_and_unknown_hooks_are_rejected():
    class Unmarked:
        def mutasi_rules_training_catalogue(self):
            return [TrainingOffer(name="Diklat X", hours=8, provider="BKPSDM")]

    class Typo:
        def mutasi_rules_score_candidates(self, candidate):
            return []

    m = manager((Unmarked(), "unmarked"))
    assert [t.name for t in m.training_catalogue()] == ["Diklat X"]
    with pytest.raises(PluginError) as err:
        manager((Typo(), "typo"))
    assert err.value.plugin == "typo" and "did you mean mutasi_rules_score_candidate" in str(err.value)


def test_catalogue_entries_merge_batch_capacity_and_duration_or_conflict():
    def offer(**figures):
        class Plugin:
            @hookimpl
            def mutasi_rules_training_catalogue(self):
                return [TrainingOffer(name="Diklat X", hours=8, provider="BKPSDM", **figures)]

        return Plugin()

    # One plugin states the capacity, the other the duration: the entry has both.
    merged = manager((offer(capacity=20), "a"), (offer(duration_days=2), "b")).training_catalogue()
    assert [(o.capacity, o.duration_days) for o in merged] == [(20, 2)]
    with pytest.raises(PluginConflictError, match="capacity 25 vs 20"):
        manager((offer(capacity=20), "a"), (offer(capacity=25), "b")).training_catalogue()


def test_hook_wrappers_are_rejected():
    class Wrapper:
        @hookimpl(wrapper=True)
        def mutasi_rules_training_catalogue(self):
            return (yield)

    with pytest.raises(PluginError, match="hook wrappers are not supported") as err:
        manager((Wrapper(), "wrapper"))
    assert err.value.hook == "mutasi_rules_training_catalogue"


def test_two_plugins_with_one_name_conflict():
    class P:
        pass

    with pytest.raises(PluginConflictError, match="two plugins are named 'same'"):
        manager((P(), "same"), (P(), "same"))


# --------------------------------------------------------------------------- call semantics


class Contact:
    def __init__(self, office: str | None, calls: list[str]) -> None:
        self.office, self.calls = office, calls

    @hookimpl
    def mutasi_rules_notice_contact(self, unit_id):
        self.calls.append(self.office or "none")
        return NoticeContact(office=self.office) if self.office else None


def test_firstresult_first_non_none_wins_and_stops():
    calls: list[str] = []
    m = manager((Contact("early", calls), "early"), (Contact("late", calls), "late"), (Contact(None, calls), "silent"))
    contact = m.notice_contact("pkm-1", dataset())
    # LIFO: 'silent' (registered last) is asked first and passes; 'late' answers; 'early' is never called.
    assert calls == ["none", "late"]
    assert contact == NoticeContact(office="late", source="plugin:late==1.0")

    class First(Contact):
        @hookimpl(tryfirst=True)
        def mutasi_rules_notice_contact(self, unit_id):
            return super().mutasi_rules_notice_contact(unit_id)

    calls.clear()
    m = manager((First("preferred", calls), "preferred"), (Contact("late", calls), "late"))
    assert m.notice_contact("x", dataset()).office == "preferred" and calls == ["preferred"]
    assert manager().notice_contact("x", dataset()) is None


class Scorer:
    def __init__(self, name: str) -> None:
        self.name = name

    def mutasi_rules_score_candidate(self, candidate):
        return [ScoreComponent(name=f"c-{self.name}", points=1, reason=TEXT, source="forged")]


def test_all_results_are_collected_in_call_order():
    class Last(Scorer):
        @hookimpl(trylast=True)
        def mutasi_rules_score_candidate(self, candidate):
            return super().mutasi_rules_score_candidate(candidate)

    class Front(Scorer):
        @hookimpl(tryfirst=True)
        def mutasi_rules_score_candidate(self, candidate):
            return super().mutasi_rules_score_candidate(candidate)

    class Nothing:
        def mutasi_rules_score_candidate(self):
            return None

    m = manager((Last("z"), "z"), (Scorer("a"), "a"), (Front("f"), "f"), (Scorer("b"), "b"), (Nothing(), "n"))
    components = m.score_candidate(candidate=None, dataset=dataset(), as_of=AS_OF)
    assert [c.name for c in components] == ["c-f", "c-b", "c-a", "c-z"]
    assert m.call_order("mutasi_rules_score_candidate") == ["f", "n", "b", "a", "z"]
    # The manager writes provenance; a plugin cannot claim another source.
    assert [c.source for c in components] == [f"plugin:{n}==1.0" for n in ("f", "b", "a", "z")]


def test_every_veto_is_collected():
    class Vetoer:
        def __init__(self, basis: str) -> None:
            self.basis = basis

        def mutasi_rules_veto_candidate(self, candidate, dataset, as_of):
            return Veto(reason=TEXT, legal_basis=self.basis) if self.basis else None

    m = manager((Vetoer("Perwa 1/2025"), "v1"), (Vetoer(""), "quiet"), (Vetoer("SE Sekda"), "v2"))
    vetoes = m.veto_candidate(None, dataset(), AS_OF)
    assert [(v.legal_basis, v.source) for v in vetoes] == [("SE Sekda", "plugin:v2==1.0"),
                                                           ("Perwa 1/2025", "plugin:v1==1.0")]


def test_decision_sinks_all_receive_the_decision():
    received: list[tuple[str, Any]] = []

    class Sink:
        def __init__(self, name: str) -> None:
            self.name = name

        def mutasi_rules_decision_made(self, decision):
            received.append((self.name, decision))
            return "ignored"

    manager((Sink("one"), "one"), (Sink("two"), "two")).decision_made({"run": 1})
    assert received == [("two", {"run": 1}), ("one", {"run": 1})]


# --------------------------------------------------------------------------- failures


class Raises:
    def mutasi_rules_training_catalogue(self):
        raise RuntimeError("catalogue server unreachable")


class WrongType:
    def mutasi_rules_training_catalogue(self):
        return {"name": "not a list"}


class Good:
    def mutasi_rules_training_catalogue(self):
        return [TrainingOffer(name="Pelatihan Vaksinator", hours=40, provider="Bapelkes")]


@pytest.mark.parametrize(
    ("plugin", "fragment"),
    [(Raises(), "raised RuntimeError: catalogue server unreachable"), (WrongType(), "returned an invalid dict")],
)
def test_failing_plugin_is_named_or_skipped(plugin, fragment):
    m = manager((Good(), "good"), (plugin, "bad"))
    with pytest.raises(PluginError) as err:
        m.training_catalogue()
    assert (err.value.plugin, err.value.hook) == ("bad", "mutasi_rules_training_catalogue")
    assert fragment in str(err.value) and "plugin 'bad', hook mutasi_rules_training_catalogue" in str(err.value)

    m = manager((Good(), "good"), (plugin, "bad"), skip_broken=True)
    assert [t.name for t in m.training_catalogue()] == ["Pelatihan Vaksinator"]
    assert [(s.plugin, s.hook) for s in m.skipped] == [("bad", "mutasi_rules_training_catalogue")]
    assert fragment in m.skipped[0].reason
    assert m.get("bad").status == "broken" and m.call_order("mutasi_rules_training_catalogue") == ["good"]


def test_wrong_item_type_is_reported_with_the_field():
    class BadScore:
        def mutasi_rules_score_candidate(self):
            return [ScoreComponent(name="ok", points=1, reason=TEXT), {"name": "x", "points": "lots"}]

    with pytest.raises(PluginError, match=r"hook mutasi_rules_score_candidate: .*1\.points") as err:
        manager((BadScore(), "badscore")).score_candidate(None, None, AS_OF)
    assert err.value.plugin == "badscore"


def test_training_offers_merge_when_equal_and_conflict_otherwise():
    class Same:
        def mutasi_rules_training_catalogue(self):
            return [TrainingOffer(name="Pelatihan Vaksinator", hours=40, provider="Bapelkes", description="other")]

    offers = manager((Good(), "good"), (Same(), "same")).training_catalogue()
    assert len(offers) == 1 and offers[0].sources == ("plugin:same==1.0", "plugin:good==1.0")

    class Different:
        def mutasi_rules_training_catalogue(self):
            return [TrainingOffer(name="pelatihan vaksinator", hours=24, provider="Dinkes")]

    with pytest.raises(PluginConflictError) as err:
        manager((Good(), "good"), (Different(), "diff"), skip_broken=True).training_catalogue()
    assert set(err.value.plugins) == {"good", "diff"} and "24 h by Dinkes" in str(err.value)


# --------------------------------------------------------------------------- fact attributes


def declares(name: str, entity: str = "employee", kind: FieldType = FieldType.BOOL, value: Any = True):
    class Declares:
        def mutasi_rules_fact_attributes(self):
            return [ExtensionAttribute(entity=entity, name=name, type=kind)]  # type: ignore[arg-type]

        def mutasi_rules_enrich_facts(self, entity, subject):
            return {name: value} if entity == "employee" else None

    return Declares()


def enrich_employee(m: PluginManager) -> dict[str, Any]:
    data = dataset()
    employee = data.employees[0]
    facts = employee_facts(employee, DatasetIndex(data), AS_OF)
    return m.enrich("employee", employee.nip, employee, facts, data, AS_OF)


def test_enrich_merges_declared_attributes():
    m = manager((declares("flag"), "a"), (declares("years", kind=FieldType.NUMBER, value=3.5), "b"))
    assert enrich_employee(m) == {"flag": True, "years": 3.5}
    assert [(a.entity, a.name, a.source) for a in m.fact_attributes()] == [
        ("employee", "flag", "a"),
        ("employee", "years", "b"),
    ]


def test_two_plugins_setting_one_attribute_conflict():
    m = manager((declares("flag", value=True), "first"), (declares("flag", value=False), "second"))
    with pytest.raises(PluginConflictError) as err:
        enrich_employee(m)
    assert set(err.value.plugins) == {"first", "second"}
    assert "both set employee.ext.flag for 198503122010011002" in str(err.value)


def test_one_attribute_declared_with_two_types_conflicts():
    m = manager((declares("flag"), "first"), (declares("flag", kind=FieldType.STRING, value="x"), "second"))
    with pytest.raises(PluginConflictError, match=r"declared as string\? by second and as bool\? by first"):
        m.fact_attributes()


def test_undeclared_or_mistyped_attribute_names_plugin_and_hook():
    class Undeclared:
        def mutasi_rules_enrich_facts(self, entity):
            return {"surprise": 1}

    with pytest.raises(PluginError, match=r"undeclared attribute employee.ext.surprise") as err:
        enrich_employee(manager((Undeclared(), "sneaky")))
    assert (err.value.plugin, err.value.hook) == ("sneaky", "mutasi_rules_enrich_facts")

    with pytest.raises(PluginError,
                       match=r"employee.ext.flag for 198503122010011002 must be bool or null, got str") as err:
        enrich_employee(manager((declares("flag", value="yes"), "typed")))
    assert err.value.plugin == "typed"

    m = manager((declares("flag", value="yes"), "typed"), (declares("ok"), "fine"), skip_broken=True)
    assert enrich_employee(m) == {"ok": True} and m.skipped[0].plugin == "typed"


def test_bad_declarations_are_errors():
    with pytest.raises(PluginError, match="type ordinal is not allowed"):
        manager((declares("rank_x", kind=FieldType.ORDINAL), "ord")).fact_attributes()
    with pytest.raises(PluginError, match="lower-case identifier"):
        manager((declares("Bad-Name"), "named")).fact_attributes()
    with pytest.raises(PluginError, match="entity"):
        manager((declares("x", entity="building"), "where")).fact_attributes()


# --------------------------------------------------------------------------- rule sets


def rule_file(ruleset_id: str, units: list[str], when: str = "candidate.same_opd", replaces: str | None = None) -> str:
    extra = f"    replaces: {replaces}\n" if replaces else ""
    return textwrap.dedent(
        f"""\
        ruleset:
          id: {ruleset_id}
          version: "1"
          title: {{id: Uji, en: Test}}
          authority: Test
          source: Test
          applies_to: {{units: {units}}}
          effective_from: 2024-01-01
        rules:
          - id: r1
            title: {{id: Uji, en: Test}}
            scope: employee
            when: {when}
            effect: warn
            message: {{id: pesan, en: message}}
            legal_basis: Test
        """
    ) + extra


class Contributes:
    def __init__(self, text: str) -> None:
        self.text = text

    def mutasi_rules_rulesets(self, settings):
        return [RuleSetContribution(text=self.text, name="inline.yaml")]


def national() -> list[Any]:
    return load_rulesets([ROOT / "rules" / "national"])


def test_plugin_rule_sets_load_with_plugin_origin():
    m = manager((Contributes(rule_file("agency.a", ["dinkes"], "employee.years_in_position > 3")), "a"))
    [loaded] = m.rulesets(national())
    assert loaded.id == "agency.a" and loaded.origin == "plugin:a==1.0"


def test_invalid_rule_set_names_plugin_and_hook():
    bad = Contributes(rule_file("agency.bad", ["dinkes"], "employee.years_in_postion > 3"))
    with pytest.raises(PluginError) as err:
        manager((bad, "bad")).rulesets(national())
    assert (err.value.plugin, err.value.hook) == ("bad", "mutasi_rules_rulesets")
    assert "invalid rule set inline.yaml" in str(err.value) and "years_in_position" in str(err.value)

    good = Contributes(rule_file("agency.good", ["disdikbud"], "employee.age > 50"))
    m = manager((good, "good"), (bad, "bad"), skip_broken=True)
    assert [r.id for r in m.rulesets(national())] == ["agency.good"]
    assert m.skipped[0][:2] == ("bad", "mutasi_rules_rulesets")


def test_agency_rule_set_must_declare_units():
    with pytest.raises(PluginError, match=r"must declare applies_to.units") as err:
        manager((Contributes(rule_file("agency.citywide", [], "employee.age > 50")), "citywide")).rulesets()
    assert err.value.plugin == "citywide"


def test_replacing_rules():
    target = "national.transfer-norms/min-time-in-post"
    one = Contributes(rule_file("agency.one", ["dinkes"], "employee.years_in_position < 1", replaces=target))
    [loaded] = manager((one, "one")).rulesets(national())
    assert loaded.rules[0].replaces == target

    two = Contributes(rule_file("agency.two", ["disdikbud"], "employee.years_in_position < 3", replaces=target))
    with pytest.raises(PluginConflictError) as err:
        manager((one, "one"), (two, "two"), skip_broken=True).rulesets(national())
    assert set(err.value.plugins) == {"one", "two"} and f"more than one plugin replaces {target}" in str(err.value)

    fixed = Contributes(
        rule_file("agency.strict", ["dinkes"], "employee.age > 50",
                  replaces="national.transfer-norms/cpns-not-transferred")
    )
    with pytest.raises(PluginError, match="is not overridable") as err:
        manager((fixed, "strict")).rulesets(national())
    assert err.value.plugin == "strict"


def test_example_plugin_rule_sets_type_check_against_their_attributes():
    m = load_plugins(PluginSettings(), environ={})
    loaded = {r.id: r for r in m.rulesets(national())}
    assert loaded["agency.dinkes-pontianak"].origin == f"plugin:{DINKES}=={version(DINKES)}"
    assert loaded["agency.disdikbud-pontianak"].ruleset.applies_to.units == ["disdikbud"]
    # Without the plugin that declares position.ext.guru the Disdikbud rules cannot load.
    m = load_plugins(PluginSettings(disabled=[DINKES]), environ={})
    assert [r.id for r in m.rulesets(national())] == ["agency.disdikbud-pontianak"]


# --------------------------------------------------------------------------- plan constraints


def test_plan_constraint_selects_positions_and_feeds_the_optimiser():
    data = dataset()
    by_pattern = PlanConstraint(id="t", unit_id="disdikbud", position_name_pattern="guru*", min_staff=1, reason=TEXT)
    assert by_pattern.positions(data) == ["p-guru-a", "p-guru-b"]
    assert by_pattern.current_staff(data) == 2
    flat = by_pattern.model_copy(update={"include_sub_units": False})
    assert flat.positions(data) == []
    by_ids = PlanConstraint(id="i", position_ids=["p-tu", "p-missing"], min_staff=0, reason=TEXT, source="plugin:x==1")
    assert by_ids.positions(data) == ["p-tu"]
    min_staff = by_pattern.to_min_staff(data)
    assert (min_staff.position_ids, min_staff.current, min_staff.minimum) == (frozenset({"p-guru-a", "p-guru-b"}), 2, 1)
    with pytest.raises(ValueError, match="select positions"):
        PlanConstraint(id="none", min_staff=1, reason=TEXT)


def test_disdikbud_constraint_uses_option_and_never_exceeds_current():
    settings = PluginSettings(only=[DISDIKBUD], options={DISDIKBUD: {"min_teachers_per_school": 1}})
    m = load_plugins(settings, environ={})
    [constraint] = m.plan_constraints(dataset(), AS_OF)
    assert (constraint.unit_id, constraint.min_staff, constraint.kind) == ("sd-1", 1, "min_staff")
    assert constraint.source == f"plugin:{DISDIKBUD}=={version(DISDIKBUD)}"
    [default] = load_plugins(PluginSettings(only=[DISDIKBUD]), environ={}).plan_constraints(dataset(), AS_OF)
    assert default.min_staff == 2 and "jumlah guru saat ini 2" in default.reason.id  # default 6, only 2 now

    bad = PluginSettings(only=[DISDIKBUD], options={DISDIKBUD: {"min_teachers_per_school": "six"}})
    with pytest.raises(PluginError, match="min_teachers_per_school") as err:
        load_plugins(bad, environ={}).plan_constraints(dataset(), AS_OF)
    assert (err.value.plugin, err.value.hook) == (DISDIKBUD, "mutasi_rules_plan_constraints")


# --------------------------------------------------------------------------- CLI


def test_cli_lists_plugins_as_json(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("MUTASI_RULES_DISABLE_PLUGINS", DISDIKBUD)
    broken = tmp_path / "broken_plugin.py"
    broken.write_text("raise ImportError('missing dependency')\n")
    code = main(["plugins", "list", "--format", "json", "--plugin", str(broken)])
    listing = {p["name"]: p for p in json.loads(capsys.readouterr().out)["plugins"]}
    assert code == 3  # a broken plugin is listed, and the exit code says so
    assert listing[DINKES]["status"] == "enabled" and "mutasi_rules_rulesets" in listing[DINKES]["hooks"]
    assert listing[DISDIKBUD]["status"] == "disabled"
    assert listing["broken_plugin"]["status"] == "broken" and "missing dependency" in listing["broken_plugin"]["reason"]

    monkeypatch.delenv("MUTASI_RULES_DISABLE_PLUGINS")
    assert main(["plugins", "list", "--lang", "en"]) == 0
    table = capsys.readouterr().out
    assert DINKES in table and DISDIKBUD in table and "enabled" in table


def test_cli_rejects_a_malformed_plugin_option(capsys):
    assert main(["plugins", "list", "--plugin-option", "no-colon"]) == 2
    assert "NAMA:KUNCI=NILAI" in capsys.readouterr().err


# --------------------------------------------------------------------------- end to end, through the engine


def candidate_scope(m: PluginManager, data: Dataset, nip: str, target_id: str) -> Any:
    """The candidate fact (employee ``nip`` -> position ``target_id``) with every entity enriched."""
    from mutasi_rules.data.facts import CandidateScope, candidate_facts, context_facts, position_facts, unit_facts

    index = DatasetIndex(data)
    employee = data.employee_by_nip()[nip]
    target, source = index.positions[target_id], index.positions[employee.position_id]

    def pos(p: Any) -> Any:
        return m.enrich_model("position", p.id, p, position_facts(p, index), data, AS_OF)

    def unit(unit_id: str) -> Any:
        u = index.units[unit_id]
        return m.enrich_model("unit", u.id, u, unit_facts(u, index), data, AS_OF)

    emp = m.enrich_model("employee", nip, employee, employee_facts(employee, index, AS_OF), data, AS_OF)
    cand = candidate_facts(
        employee, emp, pos(target), pos(source), unit(source.unit_id), unit(target.unit_id), target, AS_OF
    )
    subject = f"{nip}->{target_id}"
    cand = m.enrich_model("candidate", subject, employee, cand, data, AS_OF)
    return CandidateScope(as_of=AS_OF, context=context_facts(AS_OF, data), candidate=cand), subject


def test_dinkes_vaccination_candidate_gets_the_plugin_require_training_finding():
    from mutasi_rules.rules.engine import RuleEngine

    data = dataset()
    m = load_plugins(PluginSettings(), environ={})
    extensions = m.fact_attributes()
    loaded = load_rulesets([ROOT / "rules" / "national"], extensions=extensions)
    loaded += m.rulesets(loaded)
    pairs = [candidate_scope(m, data, "198503122010011002", "p-vak"),  # Dinkes staff -> puskesmas vaccinator
             candidate_scope(m, data, "199001012015032001", "p-vak"),  # a teacher -> vaccinator
             candidate_scope(m, data, "198503122010011002", "p-guru-b"),  # non-teacher -> teacher post
             candidate_scope(m, data, "199001012015032001", "p-guru-b")]  # teacher -> teacher post
    with RuleEngine(loaded, AS_OF, extensions) as engine:
        results = engine.evaluate("candidate", [f for f, _ in pairs], [s for _, s in pairs])
    keys = [{f.rule_key: f for f in findings} for findings in results]

    dinkes_origin = f"plugin:{DINKES}=={version(DINKES)}"
    vaccinator = keys[0]["agency.dinkes-pontianak/vaksinator-training"]
    assert (vaccinator.effect.value, vaccinator.training, vaccinator.source) == (
        "require_training", "Pelatihan Vaksinator", dinkes_origin
    )
    assert vaccinator.subject == "198503122010011002->p-vak"
    # Health education (Kesehatan Masyarakat) scores; a teacher's education does not.
    assert keys[0]["agency.dinkes-pontianak/pendidikan-kesehatan"].component == "pendidikan_kesehatan"
    assert "agency.dinkes-pontianak/pendidikan-kesehatan" not in keys[1]
    assert "agency.dinkes-pontianak/vaksinator-training" in keys[1]
    # Dinkes rules stay inside Dinkes; Disdikbud rules inside Disdikbud, reading position.ext.guru.
    assert not any(k.startswith("agency.dinkes") for k in (*keys[2], *keys[3]))
    disdikbud_origin = f"plugin:{DISDIKBUD}=={version(DISDIKBUD)}"
    blocked = keys[2]["agency.disdikbud-pontianak/non-guru-tanpa-sertifikat-pendidik"]
    assert (blocked.effect.value, blocked.source) == ("block", disdikbud_origin)
    in_service = keys[3]["agency.disdikbud-pontianak/guru-sertifikat-pendidik-dalam-jabatan"]
    assert in_service.training == "Sertifikat Pendidik"
    assert "agency.disdikbud-pontianak/non-guru-tanpa-sertifikat-pendidik" not in keys[3]


def test_min_staff_from_run_bezetting_equals_the_scan():
    from collections import Counter

    from mutasi_rules.data.loading import load_dataset
    from mutasi_rules.plugins.types import PlanConstraint
    from mutasi_rules.rules.rulesets import Localized

    dataset = load_dataset(Path(__file__).resolve().parent.parent / "examples" / "pontianak")
    constraint = PlanConstraint(id="guru", unit_id="disdikbud", position_name_pattern="Guru*", min_staff=3,
                                reason=Localized(id="x", en="x"))
    bezetting = Counter(e.position_id for e in dataset.employees)
    assert constraint.to_min_staff(dataset, bezetting) == constraint.to_min_staff(dataset)
    assert constraint.current_staff(dataset, bezetting) == constraint.current_staff(dataset) > 0


def test_candidate_enrichment_runs_only_when_a_candidate_attribute_is_declared():
    from mutasi_rules.planning.recommendation import prepare

    class Counting:
        def __init__(self, declared: str | None) -> None:
            self.declared, self.calls = declared, collections.Counter()

        def mutasi_rules_fact_attributes(self):
            return [ExtensionAttribute(entity=self.declared, name="seen", type=FieldType.BOOL)] if self.declared else []

        def mutasi_rules_enrich_facts(self, entity):
            self.calls[entity] += 1
            return {"seen": True} if entity == self.declared else None

    data = dataset()
    nip = data.employees[0].nip
    target = next(p.id for p in data.positions if p.id != data.employees[0].position_id)
    for declared, called in ((None, 0), ("employee", 0), ("candidate", 1)):
        plugin = Counting(declared)
        ctx = prepare(data, plugins=manager((plugin, "counting")))
        scope = ctx.candidate_scope(nip, target)
        assert plugin.calls["candidate"] == called
        assert scope.candidate.ext == ({"seen": True} if declared == "candidate" else {})
        assert ctx.employee_facts(nip).ext == ({"seen": True} if declared == "employee" else {})
