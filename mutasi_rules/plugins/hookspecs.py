"""Hook specifications: what an agency plugin may contribute to mutasi-rules.

Modelled on pytest's ``_pytest/hookspec.py``. A plugin is a module (or any object) with
functions named like the specs below and marked with :data:`hookimpl`::

    from mutasi_rules.plugins import hookimpl

    @hookimpl
    def mutasi_rules_training_catalogue():
        return [TrainingOffer(name="Pelatihan Vaksinator", hours=40, provider="Bapelkes")]

An implementation may accept any subset of a spec's arguments, by name (pluggy passes
only those it asks for), so new arguments can be added to a spec without breaking plugins.

Call order (pluggy): implementations run in LIFO registration order, so the plugin
registered last runs first; ``@hookimpl(tryfirst=True)`` / ``@hookimpl(trylast=True)``
move an implementation to the front / back. mutasi-rules registers installed plugins
(entry-point group ``mutasi_rules``) sorted by name, then plugins named with ``--plugin``
in the order given; an explicit plugin therefore runs before installed ones.

Unless a spec says ``firstresult``, every plugin's result is collected in that call order
(a ``None`` result contributes nothing). The manager calls each implementation on its own
and checks its result against the declared return type, so every error names the plugin
and the hook. Hook wrappers (``wrapper=True`` / ``hookwrapper=True``) are not supported
for the same reason and are rejected when the plugin is registered.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from mutasi_rules.data.facts import CandidateFacts, ExtensionAttribute, ExtValue
    from mutasi_rules.data.models import Dataset
    from mutasi_rules.plugins.manager import PluginSettings
    from mutasi_rules.plugins.types import (
        NoticeContact,
        PlanConstraint,
        RuleSetContribution,
        ScoreComponent,
        TrainingOffer,
        Veto,
    )

PROJECT = "mutasi_rules"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


# --------------------------------------------------------------------------- rules and facts


@hookspec
def mutasi_rules_rulesets(settings: PluginSettings) -> list[RuleSetContribution] | None:
    """Contribute rule sets (the agency's own norms).

    Called once per run, after :func:`mutasi_rules_fact_attributes`, before any fact is
    evaluated.

    :param settings: the run's plugin settings; ``settings.options_for(name)`` holds this
        plugin's own options.
    :returns: a list of :class:`~mutasi_rules.plugins.RuleSetContribution` (a YAML file,
        usually package data via ``RuleSetContribution.from_package``, or YAML text).

    All results are collected. Each rule set is loaded and checked like any rule file, with
    origin ``plugin:<name>==<version>``, and must declare ``applies_to.units`` (an agency
    rule set applies to its agency, never city-wide). A rule may replace a national rule
    only through ``replaces: <ruleset>/<rule>`` naming an ``overridable`` rule; two plugins
    replacing the same rule is a conflict error naming both.
    """


@hookspec
def mutasi_rules_fact_attributes() -> list[ExtensionAttribute] | None:
    """Declare derived attributes the plugin adds to facts under ``<entity>.ext.<name>``.

    Called once per run, before rule sets are loaded, so that rules reading
    ``employee.ext.<name>`` are type-checked at load time.

    :returns: a list of :class:`mutasi_rules.data.facts.ExtensionAttribute` (entity, name,
        type; ordinal types are not allowed since an ext attribute has no enum).

    All results are collected. The same attribute declared by two plugins with the same
    type and nullability is one attribute; with a different type it is a conflict error.
    """


@hookspec
def mutasi_rules_enrich_facts(
    entity: str,
    subject: str,
    record: Any,
    facts: Any,
    dataset: Dataset,
    as_of: dt.date,
) -> dict[str, ExtValue] | None:
    """Compute declared ``ext`` attributes for one entity.

    Called once per entity whose facts are built (every employee, position and unit, and
    every candidate pair the rule engine evaluates), before rules are evaluated. Candidate
    pairs are counted in hundreds of thousands for a city, so for ``"candidate"`` the hook
    is called only when some plugin declares a candidate attribute in
    :func:`mutasi_rules_fact_attributes`.

    :param entity: ``"employee"``, ``"position"``, ``"unit"`` or ``"candidate"``.
    :param subject: the entity's stable id (NIP, position id, unit id, ``"<nip>-><position id>"``).
    :param record: the domain record: ``models.Employee``, ``models.Position``,
        ``models.Unit``; for ``"candidate"`` the ``Employee`` (the target position is
        ``facts.position``; its record is the dataset's position with that id).
    :param facts: the fact model built so far (``facts.EmployeeFacts`` ...; ``ext`` empty).
    :param dataset: the whole dataset (look-ups across entities).
    :param as_of: the run's date; never read the clock.
    :returns: ``{attribute name: value}`` for attributes declared for ``entity``, or None.

    All results are merged. An attribute that was not declared for this entity, or whose
    value does not match the declared type, is an error naming the plugin and the hook; two
    plugins setting the same attribute of the same entity is a conflict error naming both.
    """


# --------------------------------------------------------------------------- candidates


@hookspec
def mutasi_rules_score_candidate(
    candidate: CandidateFacts, dataset: Dataset, as_of: dt.date
) -> list[ScoreComponent] | None:
    """Add score components to a candidate (employee, target position) that passed the rules.

    Called once per eligible candidate, after rules and before the plan is optimised.

    :returns: a list of :class:`~mutasi_rules.plugins.ScoreComponent`; ``source`` is set
        by the manager.

    All results are collected, in call order, and added to the candidate's score.
    """


@hookspec
def mutasi_rules_veto_candidate(
    candidate: CandidateFacts, dataset: Dataset, as_of: dt.date
) -> Veto | None:
    """Object to a candidate for a reason rules cannot express.

    Called once per eligible candidate, after rules and before scoring.

    :returns: a :class:`~mutasi_rules.plugins.Veto` or None.

    All results are collected (not ``firstresult``): every veto is shown in the
    explanation, and any veto makes the candidate ineligible.
    """


# --------------------------------------------------------------------------- plan


@hookspec
def mutasi_rules_training_catalogue() -> list[TrainingOffer] | None:
    """Offer trainings the agency can provide (for ``require_training`` findings).

    Called once per run, when explanations and the plan's training needs are prepared.

    :returns: a list of :class:`~mutasi_rules.plugins.TrainingOffer`.

    All results are collected. The same training (name compared case-insensitively) from
    two plugins is merged when hours and provider agree (``sources`` lists both); otherwise
    it is a conflict error naming both plugins, since a plan cannot cost an ambiguous offer.
    """


@hookspec
def mutasi_rules_plan_constraints(
    dataset: Dataset, as_of: dt.date, settings: PluginSettings
) -> list[PlanConstraint] | None:
    """Add linear constraints to the plan optimiser.

    Called once per run, before the plan is optimised.

    :param settings: the run's plugin settings (``settings.options_for(name)``).
    :returns: a list of :class:`~mutasi_rules.plugins.PlanConstraint` (``kind
        "min_staff"``: selected positions keep at least N staff after the plan).

    All results are collected; every constraint applies.
    """


@hookspec(firstresult=True)
def mutasi_rules_notice_contact(unit_id: str, dataset: Dataset) -> NoticeContact | None:
    """The office a moved employee contacts to ask about or object to a transfer.

    Called once per unit that appears in a notice (the employee's current unit).

    :param unit_id: the employee's current unit (plugins usually check its ancestry).
    :returns: a :class:`~mutasi_rules.plugins.NoticeContact`, or None when the plugin
        does not cover the unit.

    ``firstresult``: the first non-None result in call order wins and later plugins are
    not called; so an explicitly named plugin (registered last) overrides an installed one,
    and ``tryfirst``/``trylast`` settle precedence between installed ones. When no plugin
    answers, the library's default (BKPSDM) applies.
    """


# --------------------------------------------------------------------------- audit


@hookspec
def mutasi_rules_decision_made(decision: Any) -> None:
    """Receive a finished run's result (an audit sink: archive, message queue...).

    Called once per finished run, after the result is written.

    :param decision: the run's result as recorded in the decision log.
    :returns: nothing; results are ignored. A sink that raises fails the run (or, with
        ``skip_broken``, is skipped and reported).
    """


HOOK_NAMES: tuple[str, ...] = tuple(
    name for name in sorted(globals()) if name.startswith(f"{PROJECT}_") and callable(globals()[name])
)

__all__ = ["HOOK_NAMES", "PROJECT", "hookimpl", "hookspec"]
