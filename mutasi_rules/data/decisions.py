"""Review decisions: what the review committee decided about a recorded plan (the data shapes).

The review committee (Tim Penilai Kinerja / Baperjakat) and the head of the region accept
some moves, reject others, insist on some and hold others back. Each decision names the
reviewer, the reason and the date it was given (a date given by people, never the clock):

* ``reject``: this person to this post, never again in this lineage of plans;
* ``pin``: this person to this post, must be in the plan (over rules that allow an override);
* ``exclude_employee``: this person is not moved at all;
* ``hold_position``: this post receives nobody.

A decisions file (YAML or JSON) is a list of :class:`ReviewDecision`; once recorded in the
decision log each becomes an :class:`AppliedDecision` with an id, and a re-plan's result
names every decision it honoured (``run.review_decisions``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

ReviewAction = Literal["reject", "pin", "exclude_employee", "hold_position"]

#: Which of ``nip`` and ``position`` each action needs (the other must be absent).
ACTION_SUBJECT: dict[str, tuple[bool, bool]] = {
    "reject": (True, True),
    "pin": (True, True),
    "exclude_employee": (True, False),
    "hold_position": (False, True),
}


class ReviewDecision(BaseModel):
    """One decision of a review, as written in a decisions file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: ReviewAction = Field(description="reject | pin | exclude_employee | hold_position")
    nip: str | None = Field(default=None, description="The employee (reject, pin, exclude_employee)")
    position: str | None = Field(default=None, description="The target position id (reject, pin, hold_position)")
    reason: str = Field(min_length=1, description="Why, in the reviewer's words (shown in explanations)")
    reviewer: str = Field(min_length=1, description="Who decided (name, role or body, e.g. Baperjakat)")
    date: dt.date = Field(description="The date the decision was given")

    @field_validator("nip", mode="before")
    @classmethod
    def _nip_as_text(cls, value: Any) -> Any:
        # An unquoted NIP in YAML is read as a number; 18 digits survive that exactly.
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("reason", "reviewer")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    @model_validator(mode="after")
    def _subject(self) -> ReviewDecision:
        needs_nip, needs_position = ACTION_SUBJECT[self.action]
        if needs_nip and not self.nip:
            raise ValueError(f"action {self.action!r} needs 'nip'")
        if needs_position and not self.position:
            raise ValueError(f"action {self.action!r} needs 'position'")
        if not needs_nip and self.nip:
            raise ValueError(f"action {self.action!r} takes no 'nip' (it applies to the position)")
        if not needs_position and self.position:
            raise ValueError(f"action {self.action!r} takes no 'position' (it applies to the person)")
        return self

    @property
    def pair(self) -> tuple[str, str] | None:
        """(nip, position) of a reject or pin."""
        return (self.nip, self.position) if self.nip and self.position else None

    @property
    def move(self) -> tuple[str, str]:
        """(nip, position) of a reject or pin (validation requires both)."""
        return self.nip_given, self.position_given

    @property
    def nip_given(self) -> str:
        """The employee of a reject, pin or exclude_employee (validation requires it)."""
        if not self.nip:
            raise ValueError(f"a {self.action} decision has no 'nip'")
        return self.nip

    @property
    def position_given(self) -> str:
        """The position of a reject, pin or hold_position (validation requires it)."""
        if not self.position:
            raise ValueError(f"a {self.action} decision has no 'position'")
        return self.position

    def describe(self) -> str:
        subject = " -> ".join(part for part in (self.nip, self.position) if part)
        return f"{self.action} {subject}"


class DecisionsFile(RootModel[list[ReviewDecision]]):
    """A decisions file: a list of review decisions (YAML or JSON)."""


class AppliedDecision(ReviewDecision):
    """A recorded decision: its id in the decision log and the run it was recorded on."""

    id: str = Field(description="'<review id>/<n>': the review record and the decision's place in it")
    run_id: str = Field(description="The run the decision was recorded on")


class MoveReview(BaseModel):
    """A move made because a reviewer pinned it; ``overridden`` names every rule set aside for it."""

    model_config = ConfigDict(frozen=True)

    decision: str = Field(description="The pin's id (AppliedDecision.id)")
    reviewer: str
    reason: str
    date: dt.date
    overridden: list[str] = Field(
        default_factory=list, description="'<ruleset>/<rule>' of every blocking rule the pin overrides (human override)"
    )


__all__ = ["ACTION_SUBJECT", "AppliedDecision", "DecisionsFile", "MoveReview", "ReviewAction", "ReviewDecision"]
