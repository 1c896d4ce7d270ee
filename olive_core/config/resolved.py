"""A workflow after phase two: every component resolved to its class and validated config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from olive_core.accelerators import AcceleratorSpec
from olive_core.config.workflow import GoalConfig, WorkflowConfig
from olive_core.redaction import Redactor


@dataclass
class ResolvedComponent:
    """A registered component's name, loaded class and validated config."""

    type: str
    cls: type
    config: BaseModel


@dataclass
class ResolvedPass:
    """One pass a step may run: its validated alternative configs; searched dimensions come later.

    ``name`` is the step's name: this is what :class:`~olive_core.engine.steps.StepRunner` runs.
    """

    name: str
    type: str
    cls: type
    alternatives: list[BaseModel]
    fallback: BaseModel | None
    #: the fields written in each alternative (pinned when searching)
    written: list[set[str]] = field(default_factory=list)
    search_overrides: dict[str, Any] = field(default_factory=dict)


@dataclass
class ResolvedStep:
    """One pass step: one pass, or several alternative passes of which a candidate runs one."""

    name: str
    passes: list[ResolvedPass]
    optional: bool = False

    @property
    def types(self) -> list[str]:
        return [p.type for p in self.passes]

    def pass_of(self, type_name: str) -> ResolvedPass:
        return next(p for p in self.passes if p.type == type_name)


@dataclass
class ResolvedData:
    name: str
    load: ResolvedComponent
    preprocess: list[ResolvedComponent]
    postprocess: list[ResolvedComponent]
    batch_size: int
    max_samples: int | None


@dataclass
class ResolvedMetric:
    name: str
    type: str
    cls: type
    config: BaseModel
    data: str | None
    sub_metrics: list[str]
    goals: dict[str, GoalConfig]


@dataclass
class ResolvedWorkflow:
    """Everything the engine needs, checked before anything runs."""

    config: WorkflowConfig
    source: str | None
    base_dir: Path
    input_model: ResolvedComponent
    accelerators: list[AcceleratorSpec]
    steps: list[ResolvedStep]
    data: dict[str, ResolvedData]
    metrics: list[ResolvedMetric]
    search: ResolvedComponent | None
    cache: ResolvedComponent
    #: scrubs this run's variable values and secret fields from everything recorded
    redactor: Redactor = field(default_factory=Redactor)
    #: the run's observers (``tracking``), each with its validated config
    trackers: list[ResolvedComponent] = field(default_factory=list)
    #: where trials run (search.executor, or the default for search.parallel_trials)
    executor: ResolvedComponent | None = None
