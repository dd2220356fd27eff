"""What decides a run besides the dataset: :class:`RecommendOptions` (recorded with every decision)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from mutasi_rules.analysis.workload import WorkloadSettings
from mutasi_rules.planning.scoring import ScoringSettings
from mutasi_rules.plugins.manager import PluginSettings


class RecommendOptions(BaseModel):
    """Everything besides the dataset that decides a run (recorded with every decision)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    as_of: dt.date | None = Field(default=None, description="Default: the dataset's metadata.as_of")
    plan_date: dt.date | None = Field(default=None, description="Intended transfer date; default: as_of")
    rules: list[str] = Field(default_factory=list, description="Rule files or directories; empty: the default rules/")
    plugins: PluginSettings = Field(default_factory=PluginSettings)
    use_plugins: bool = Field(default=True, description="Load installed and explicit plugins")
    max_moves: int | None = Field(default=None, ge=0)
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    workload: WorkloadSettings = Field(default_factory=WorkloadSettings)
    alternatives_per_position: int = Field(default=5, ge=0, description="Ranked alternatives kept per shortage")



__all__ = ["RecommendOptions"]
