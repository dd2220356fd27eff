"""Rule files: the pydantic models of a rule set, and loading them from YAML.

A rule file is data (docs/rule-language.md). Loading parses every ``when`` expression with
the project's own parser and checks it against the fact schema of the rule's scope, so a
rule set that loads is a rule set the engine can run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .facts import Scope
from .language.ast import Expr
from .models import JabatanKind

RuleId = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9_.\-]*$")]


class Localized(BaseModel):
    """A text in Bahasa Indonesia (``id``) and English (``en``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    en: str = Field(min_length=1)

    def get(self, lang: str) -> str:
        return self.en if lang == "en" else self.id


class Effect(str, Enum):
    BLOCK = "block"
    WARN = "warn"
    REQUIRE_TRAINING = "require_training"
    SCORE = "score"
    CLASSIFY = "classify"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleId
    title: Localized
    scope: Scope
    when: str = Field(min_length=1, description="Condition in the rule expression language")
    effect: Effect
    training: str | None = Field(default=None, description="require_training: the training or certificate")
    component: str | None = Field(default=None, description="score: the score component")
    points: float | None = Field(default=None, description="score: points added when the condition holds")
    label: str | None = Field(default=None, description="classify: the label attached")
    message: Localized = Field(description="Shown when the rule fires; {path} placeholders read facts")
    legal_basis: str = Field(min_length=1, description="Dasar hukum")
    overridable: bool = Field(default=False, description="May an agency rule set replace this rule?")
    replaces: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_.\-]*/[a-z0-9][a-z0-9_.\-]*$",
        description="'<ruleset id>/<rule id>' of an overridable rule this rule replaces where its rule set applies",
    )

    @model_validator(mode="after")
    def _effect_parameters(self) -> "Rule":
        needs = {
            Effect.REQUIRE_TRAINING: ("training",),
            Effect.SCORE: ("component", "points"),
            Effect.CLASSIFY: ("label",),
        }.get(self.effect, ())
        for name in needs:
            if getattr(self, name) is None:
                raise ValueError(f"effect {self.effect.value} needs '{name}'")
        for name in ("training", "component", "points", "label"):
            if name not in needs and getattr(self, name) is not None:
                raise ValueError(f"'{name}' does not apply to effect {self.effect.value}")
        return self


class AppliesTo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    units: list[str] = Field(default_factory=list, description="Unit ids (with their sub-units); empty: all")
    position_kinds: list[JabatanKind] = Field(default_factory=list, description="Empty: all")


class RuleSet(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: RuleId
    version: str = Field(min_length=1)
    title: Localized
    authority: str = Field(min_length=1, description="Who issued the norms")
    source: str = Field(min_length=1, description="The document the rule set encodes")
    applies_to: AppliesTo = Field(default_factory=AppliesTo)
    effective_from: dt.date
    effective_until: dt.date | None = None

    @model_validator(mode="after")
    def _validity_ordered(self) -> "RuleSet":
        if self.effective_until is not None and self.effective_until < self.effective_from:
            raise ValueError(f"effective_until {self.effective_until} is before effective_from {self.effective_from}")
        return self

    def in_force(self, day: dt.date) -> bool:
        return self.effective_from <= day and (self.effective_until is None or day <= self.effective_until)


class RuleFile(BaseModel):
    """The top level of a rule file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ruleset: RuleSet
    rules: list[Rule] = Field(min_length=1)


@dataclass(frozen=True)
class LoadedRuleSet:
    """A validated rule set with where it came from and its checked expressions."""

    ruleset: RuleSet
    rules: tuple[Rule, ...]
    origin: str  # file path, or "plugin:<name>==<version>"
    sha256: str  # of the canonical JSON of the RuleFile
    expressions: dict[str, Expr] = field(default_factory=dict)  # rule id -> checked expression

    @property
    def id(self) -> str:
        return self.ruleset.id

    @property
    def version(self) -> str:
        return self.ruleset.version
