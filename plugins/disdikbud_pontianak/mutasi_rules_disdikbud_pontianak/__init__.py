"""Dinas Pendidikan dan Kebudayaan Kota Pontianak: agency norms for teacher posts.

Hooks implemented (see mutasi_rules.plugins.hookspecs):

* ``mutasi_rules_fact_attributes`` / ``mutasi_rules_enrich_facts``: ``position.ext.guru``
  (bool): the position is a teacher post (its name matches "Guru*"). The rule language
  compares strings only for equality, so the name test is done here, once per position;
* ``mutasi_rules_rulesets``: ``rules/disdikbud.yaml`` (applies to unit ``disdikbud`` and its
  schools): a teacher post needs a "Sertifikat Pendidik";
* ``mutasi_rules_plan_constraints``: every school (unit kind ``sekolah`` under disdikbud)
  keeps at least ``min_teachers_per_school`` teachers (default 6), or its current number
  of teachers when that is lower (a plan never makes a short school shorter);
* ``mutasi_rules_notice_contact``: the Disdikbud personnel office for its own units.

Options (``PluginSettings.options["mutasi-rules-disdikbud-pontianak"]``):
``min_teachers_per_school`` (int >= 0, default 6).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mutasi_rules.plugin import (
    Dataset,
    ExtensionAttribute,
    FieldType,
    Localized,
    NoticeContact,
    PlanConstraint,
    PluginSettings,
    RuleSetContribution,
    UnitKind,
    hookimpl,
)

DISTRIBUTION = "mutasi-rules-disdikbud-pontianak"
PLUGIN_NAME = DISTRIBUTION  # the entry point's name
try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # imported from a source tree without installation
    __version__ = "0.0.0+source"

UNIT_ID = "disdikbud"
TEACHER_PATTERN = "Guru*"
DEFAULT_MIN_TEACHERS = 6


def is_teacher_post(name: str) -> bool:
    """A teacher post: the name matches TEACHER_PATTERN (starts with "Guru", any case).

    The same pattern selects the teacher posts of a school in the plan constraint, so the
    rule and the constraint always agree on who is a teacher.
    """
    return fnmatch.fnmatch(name.casefold(), TEACHER_PATTERN.casefold())


def min_teachers(settings: PluginSettings | None) -> int:
    """The configured minimum of teachers per school (raises on a bad option value)."""
    options = settings.options_for(PLUGIN_NAME) if settings is not None else {}
    value = options.get("min_teachers_per_school", DEFAULT_MIN_TEACHERS)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"option min_teachers_per_school must be a whole number >= 0, got {value!r}")
    return value


def _ancestry(unit_id: str, parents: dict[str, str | None]) -> list[str]:
    path = [unit_id]
    while (parent := parents.get(path[-1])) is not None and parent not in path:
        path.append(parent)
    return path


@hookimpl
def mutasi_rules_fact_attributes() -> list[ExtensionAttribute]:
    return [
        ExtensionAttribute(
            entity="position",
            name="guru",
            type=FieldType.BOOL,
            nullable=False,
            description='Teacher post: the position name starts with "Guru"',
        )
    ]


@hookimpl
def mutasi_rules_enrich_facts(entity: str, record: Any) -> dict[str, Any] | None:
    if entity != "position":
        return None
    return {"guru": is_teacher_post(record.name)}


@hookimpl
def mutasi_rules_rulesets() -> list[RuleSetContribution]:
    return [RuleSetContribution.from_package(__name__, "rules/disdikbud.yaml")]


@hookimpl
def mutasi_rules_plan_constraints(dataset: Dataset, as_of: dt.date, settings: PluginSettings) -> list[PlanConstraint]:
    wanted = min_teachers(settings)
    parents = {u.id: u.parent_id for u in dataset.units}
    schools = {
        u.id: u for u in dataset.units if u.kind is UnitKind.SEKOLAH and UNIT_ID in _ancestry(u.id, parents)
    }
    # One pass over positions and employees (a city has hundreds of schools, thousands of staff).
    # A school's teacher posts are those in the school itself or its sub-units, like the
    # constraint's own selection (unit_id with include_sub_units).
    school_of: dict[str, str] = {}
    for position in dataset.positions:
        if is_teacher_post(position.name):
            school = next((u for u in _ancestry(position.unit_id, parents) if u in schools), None)
            if school is not None:
                school_of[position.id] = school
    teachers = dict.fromkeys(set(school_of.values()), 0)
    for employee in dataset.employees:
        school = school_of.get(employee.position_id)
        if school is not None:
            teachers[school] += 1
    constraints = []
    for school_id in sorted(teachers):  # a school without teacher posts in the data has nothing to keep
        unit, current = schools[school_id], teachers[school_id]
        minimum = min(wanted, current)
        lower = f" (jumlah guru saat ini {current}, di bawah {wanted})" if current < wanted else ""
        lower_en = f" (it has {current} now, below {wanted})" if current < wanted else ""
        constraints.append(
            PlanConstraint(
                id=f"guru-minimal-{unit.id}",
                unit_id=unit.id,
                position_name_pattern=TEACHER_PATTERN,
                min_staff=minimum,
                reason=Localized(
                    id=f"{unit.name} harus tetap memiliki sekurang-kurangnya {minimum} guru setelah mutasi{lower}.",
                    en=f"{unit.name} must keep at least {minimum} teachers after the transfers{lower_en}.",
                ),
            )
        )
    return constraints


@hookimpl
def mutasi_rules_notice_contact(unit_id: str, dataset: Dataset) -> NoticeContact | None:
    parents = {u.id: u.parent_id for u in dataset.units}
    if UNIT_ID not in _ancestry(unit_id, parents):
        return None
    return NoticeContact(office="Subbagian Umum dan Kepegawaian, Dinas Pendidikan dan Kebudayaan Kota Pontianak")


__all__ = ["DEFAULT_MIN_TEACHERS", "UNIT_ID", "__version__", "is_teacher_post", "min_teachers"]
