"""Findings: one rule that fired for one subject, with everything needed to explain it.

Built here from a fired rule and the fact it fired on, whatever backend evaluated it: the
message rendered in both languages from the fact's values, the trainings a
``require_training`` rule names, and the display value of every path the condition read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.data.facts import Scope, display_value, read_parts
from mutasi_rules.rules.rulesets import BasisKind, Effect, LoadedRuleSet, Localized, Rule, render_message

#: Rendered messages kept per renderer (many subjects share placeholder values).
MESSAGE_CACHE_SIZE = 50_000

Reads = Sequence[tuple[str, tuple[str, ...]]]  # (dotted path, its parts)

class Finding(BaseModel):
    """One rule that fired for one subject, with everything needed to explain it."""

    model_config = ConfigDict(frozen=True)

    rule_id: str
    ruleset_id: str
    ruleset_version: str
    source: str = Field(description="Origin of the rule set: file path or plugin:<name>==<version>")
    scope: Scope
    subject: str
    effect: Effect
    training: str | None = Field(default=None, description="require_training: the training(s), as text")
    trainings: list[str] = Field(default_factory=list, description="require_training: each training required")
    component: str | None = None
    points: float | None = None
    label: str | None = None
    title: Localized
    message: Localized
    legal_basis: str
    basis_kind: BasisKind | None = Field(
        default=None, description="What sets the rule's number or requirement: statutory, convention, agency_policy"
    )
    facts_read: dict[str, Any] = Field(description="Display value of every path the condition reads")
    replaces: str | None = Field(default=None, description="'<ruleset>/<rule>' this rule overrode")

    @property
    def rule_key(self) -> str:
        return f"{self.ruleset_id}/{self.rule_id}"


class FindingRenderer:
    """Turns (rule, fact) into a :class:`Finding`; caches rendered messages by placeholder values."""

    def __init__(self) -> None:
        self._messages: dict[tuple[Any, ...], Localized] = {}

    def finding(self, *, loaded: LoadedRuleSet, rule: Rule, scope: Scope, subject: str, fact: Any,
                reads: Reads, message_reads: Reads, training_reads: Reads, cache_key: Any) -> Finding:
        """The finding of ``rule`` on ``fact``; ``*_reads`` are the paths the condition, the message
        and the training template read; ``cache_key`` names the rule for the message cache."""
        values = tuple(read_parts(fact, parts) for _, parts in message_reads)
        key = (cache_key, tuple(tuple(v) if isinstance(v, list) else v for v in values))
        message = self._messages.get(key)
        if message is None:
            by_path = {path: value for (path, _), value in zip(message_reads, values, strict=True)}
            message = Localized(
                id=render_message(rule.message.id, by_path, "id"), en=render_message(rule.message.en, by_path, "en")
            )
            if len(self._messages) >= MESSAGE_CACHE_SIZE:
                self._messages.clear()
            self._messages[key] = message
        trainings = required_trainings(rule, fact, training_reads)
        return Finding(
            rule_id=rule.id,
            ruleset_id=loaded.id,
            ruleset_version=loaded.version,
            source=loaded.origin,
            scope=scope,
            subject=subject,
            effect=rule.effect,
            training=", ".join(trainings) if trainings else None,
            trainings=trainings,
            component=rule.component,
            points=rule.points,
            label=rule.label,
            title=rule.title,
            message=message,
            legal_basis=rule.legal_basis,
            basis_kind=rule.basis_kind,
            facts_read={path: display_value(read_parts(fact, parts)) for path, parts in reads},
            replaces=rule.replaces,
        )


def required_trainings(rule: Rule, fact: Any, training_reads: Reads) -> list[str]:
    """The trainings a require_training finding names.

    ``training`` is a literal name or a template; a template that is exactly one
    placeholder of a list path (``{candidate.missing_trainings}``) names one training
    per item, so a generic rule can require whatever the target position lacks.
    """
    template = rule.training
    if not template:
        return []
    if not training_reads:
        return [template]
    by_path = {path: read_parts(fact, parts) for path, parts in training_reads}
    if len(by_path) == 1 and template.strip() == "{" + next(iter(by_path)) + "}":
        value = next(iter(by_path.values()))
        if isinstance(value, (list, tuple)):
            return sorted({str(display_value(v)) for v in value})
    rendered = render_message(template, by_path)
    return [rendered] if rendered and rendered != "-" else []


__all__ = ["Finding", "FindingRenderer", "required_trainings"]
