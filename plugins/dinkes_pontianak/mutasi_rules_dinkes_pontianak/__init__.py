"""Dinas Kesehatan Kota Pontianak: agency norms for transfers into health posts.

Hooks implemented (see mutasi_rules.plugins.hookspecs):

* ``mutasi_rules_rulesets``: ``rules/dinkes.yaml`` (applies to unit ``dinkes`` and its
  puskesmas): vaccinator training for vaksinasi posts, a valid STR for health professions,
  and a score for a health education;
* ``mutasi_rules_fact_attributes`` / ``mutasi_rules_enrich_facts``: ``employee.ext.health_education``
  (bool, null when the field of study is not recorded), derived from the education field;
* ``mutasi_rules_training_catalogue``: Pelatihan Vaksinator;
* ``mutasi_rules_notice_contact``: the Dinkes personnel office for its own units.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from mutasi_rules.plugin import (
    Dataset,
    ExtensionAttribute,
    FieldType,
    NoticeContact,
    RuleSetContribution,
    TrainingOffer,
    hookimpl,
)

DISTRIBUTION = "mutasi-rules-dinkes-pontianak"
try:
    __version__ = version(DISTRIBUTION)
except PackageNotFoundError:  # imported from a source tree without installation
    __version__ = "0.0.0+source"

UNIT_ID = "dinkes"
VACCINATOR_TRAINING = "Pelatihan Vaksinator"

# Fields of study counted as a health education (matched case-insensitively as words or
# word prefixes inside the recorded field, e.g. "D3 Keperawatan", "S1 Kesehatan Masyarakat").
HEALTH_KEYWORDS: tuple[str, ...] = (
    "kesehatan",  # also covers kesehatan masyarakat, kesehatan lingkungan
    "keperawatan",
    "perawat",
    "kebidanan",
    "bidan",
    "kedokteran",
    "dokter",
    "farmasi",
    "apoteker",
    "gizi",
    "sanitasi",
    "epidemiologi",
    "analis kesehatan",
    "teknologi laboratorium medis",
    "rekam medis",
    "fisioterapi",
    "radiologi",
)


def is_health_education(field: str | None, keywords: Iterable[str] = HEALTH_KEYWORDS) -> bool | None:
    """Whether a field of study is a health education; None when no field is recorded."""
    if field is None or not field.strip():
        return None
    text = " ".join(field.casefold().replace("-", " ").split())
    return any(keyword in text for keyword in keywords)


@hookimpl
def mutasi_rules_fact_attributes() -> list[ExtensionAttribute]:
    return [
        ExtensionAttribute(
            entity="employee",
            name="health_education",
            type=FieldType.BOOL,
            nullable=True,
            description="Education field is a health field (kesehatan, keperawatan, kebidanan, ...); "
            "null when the field is not recorded",
        )
    ]


@hookimpl
def mutasi_rules_enrich_facts(entity: str, record: Any) -> dict[str, Any] | None:
    if entity != "employee":
        return None
    return {"health_education": is_health_education(record.education.field)}


@hookimpl
def mutasi_rules_rulesets() -> list[RuleSetContribution]:
    return [RuleSetContribution.from_package(__name__, "rules/dinkes.yaml")]


@hookimpl
def mutasi_rules_training_catalogue() -> list[TrainingOffer]:
    return [
        TrainingOffer(
            name=VACCINATOR_TRAINING,
            hours=40,
            provider="Bapelkes Kalimantan Barat / Dinas Kesehatan Kota Pontianak",
            description="Pelatihan imunisasi bagi vaksinator puskesmas (contoh katalog; jam pelajaran per kurikulum).",
            capacity=30,
            duration_days=5,
        )
    ]


def _ancestry(unit_id: str, dataset: Dataset) -> list[str]:
    parents = {u.id: u.parent_id for u in dataset.units}
    path = [unit_id]
    while (parent := parents.get(path[-1])) is not None and parent not in path:
        path.append(parent)
    return path


@hookimpl
def mutasi_rules_notice_contact(unit_id: str, dataset: Dataset) -> NoticeContact | None:
    if UNIT_ID not in _ancestry(unit_id, dataset):
        return None
    return NoticeContact(office="Subbagian Umum dan Kepegawaian, Dinas Kesehatan Kota Pontianak")


__all__ = ["HEALTH_KEYWORDS", "UNIT_ID", "VACCINATOR_TRAINING", "__version__", "is_health_education"]
