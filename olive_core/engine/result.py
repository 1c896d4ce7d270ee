"""What a run produces: the lineage of every model made, every candidate, and the best."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.models.handler import ModelHandler
from olive_core.tracking import STOPPED_BY_ERROR, STOPPED_BY_INTERRUPT

#: the version of run.json's shape; readers (``olive report``) refuse another one. Raise it when a
#: field they read changes meaning or shape; adding a field needs no new version.
RUN_FORMAT = 1

if TYPE_CHECKING:
    from olive_core.evaluation.evaluator import Evaluation
    from olive_core.redaction import Redactor


@dataclass
class StepRecord:
    """One node of the lineage: how one model was made from its parent."""

    model_id: str
    parent_id: str
    step: str
    pass_type: str
    pass_version: str
    config: dict[str, Any]
    accelerator: str
    status: str  # "ran", "cached" or "failed"
    seconds: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    attempts: int = 1
    used_fallback: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def redacted(self, redact: Redactor) -> StepRecord:
        return replace(
            self,
            config=redact(self.config),
            report=redact(self.report),
            warnings=redact(self.warnings),
            error=redact.text(self.error) if self.error else self.error,
        )


@dataclass
class CandidateResult:
    """One trial: a config for every step, and what came of it."""

    index: int
    accelerator: str
    point: dict[str, dict[str, Any]]
    lineage: list[str] = field(default_factory=list)
    model: ModelHandler | None = None
    error: str | None = None
    evaluation: Evaluation | None = None
    #: the process that ran the trial ("host pid N"), when it was not the engine's
    worker: str | None = None

    @property
    def ok(self) -> bool:
        return self.model is not None and self.error is None

    def redacted(self, redact: Redactor) -> CandidateResult:
        """A copy fit to show or hand to observers: no variable's value, no secret field."""
        evaluation = self.evaluation
        if evaluation is not None:
            evaluation = replace(evaluation, settings=redact(evaluation.settings))
        return replace(
            self,
            point=redact(self.point),
            model=redact.handle(self.model) if self.model is not None else None,
            error=redact.text(self.error) if self.error else self.error,
            evaluation=evaluation,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "accelerator": self.accelerator,
            "configs": self.point,
            "lineage": self.lineage,
            "model_id": self.model.id if self.model is not None else None,
            "error": self.error,
            "metrics": self.evaluation.to_json() if self.evaluation is not None else None,
            "worker": self.worker,
        }


@dataclass
class WorkflowResult:
    """Returned by :func:`olive_core.run`; ``run.json`` is its JSON form."""

    run_id: str
    output_dir: Path
    input_model: ModelHandler
    input_evaluation: Evaluation | None = None
    steps: dict[str, StepRecord] = field(default_factory=dict)
    candidates: list[CandidateResult] = field(default_factory=list)
    best: list[int] = field(default_factory=list)
    #: with several objectives: the feasible candidates no other one dominates
    pareto: list[int] = field(default_factory=list)
    #: when no candidate met every goal: those that missed by the least
    closest: list[int] = field(default_factory=list)
    #: output folders written (relative to output_dir) -> the candidate each holds
    written: dict[str, int] = field(default_factory=dict)
    stopped_early: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.best)

    def candidate(self, index: int) -> CandidateResult:
        """The candidate with this index (trials may finish out of order)."""
        return next(c for c in self.candidates if c.index == index)

    def redacted(self, redact: Redactor) -> WorkflowResult:
        """A copy fit to show or hand to observers: no variable's value, no secret field."""
        return replace(
            self,
            input_model=redact.handle(self.input_model),
            steps={model_id: record.redacted(redact) for model_id, record in self.steps.items()},
            candidates=[candidate.redacted(redact) for candidate in self.candidates],
        )

    @property
    def best_candidates(self) -> list[CandidateResult]:
        return [self.candidate(index) for index in self.best]


def stopped_by(exc: BaseException, scrub: Callable[[str], str]) -> str:
    """``stopped_early`` of a run an exception stopped (run.json, the report and trackers read it)."""
    if isinstance(exc, KeyboardInterrupt):
        return STOPPED_BY_INTERRUPT
    first_line = (str(exc).strip().splitlines() or [""])[0][:500]
    return STOPPED_BY_ERROR + scrub(f"{type(exc).__name__}: {first_line}".rstrip(": "))
