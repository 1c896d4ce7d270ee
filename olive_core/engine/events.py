"""What the engine tells an ``on_event`` observer while it runs (the CLI's progress display).

An observer is called as ``on_event(kind, detail)`` in the engine's process:

========================  ==================================================================
kind                      detail
========================  ==================================================================
``trials_planned``        :class:`TrialPlan`: how many trials the run will try at most
``trial_started``         the candidate's index (trial number - 1)
``step_started``          the step's name (trials run in this process only)
``step_cached``           the step's name: its model came from the cache
``step_finished``         the step's name: its pass ran and its model was stored
``evaluating``            ``"input model"``, or ``"candidate <n>"`` for a trial's output
``candidate_done``        the trial's :class:`~olive_core.engine.result.CandidateResult`
``trial_done``            :class:`TrialDone`: the same candidate with its steps and duration
========================  ==================================================================

Step events come from trials that run in the engine's process; trials on an executor's
workers report only ``trial_started`` and ``trial_done``, whose records say which steps
came from the cache. Details are redacted: no variable's value, no secret field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from olive_core.engine.result import CandidateResult, StepRecord

EventSink = Callable[[str, Any], None]


@dataclass(frozen=True)
class TrialPlan:
    """What the run will try, told before the first trial of each accelerator."""

    #: trials of the whole run at most (all accelerators), or None when only a time limit bounds it
    total: int | None
    accelerator: str
    #: the objective metric keys, by priority: what a finished trial's line shows first
    objectives: list[str] = field(default_factory=list)
    max_time_s: float | None = None
    parallel_trials: int = 1


@dataclass(frozen=True)
class TrialDone:
    """A finished trial: its candidate, the steps of its chain as they ran, and how long it took."""

    candidate: CandidateResult
    steps: list[StepRecord]
    seconds: float

    @property
    def cached_steps(self) -> list[str]:
        return [record.step for record in self.steps if record.status == "cached"]


def planned_trials(strategy_plan: int | None, max_trials: int | None, accelerators: int) -> int | None:
    """Trials of the whole run: the fewest of what the strategy proposes and ``max_trials``,
    for each accelerator; None when neither bounds them (a run stopped by time only)."""
    bounds = [bound for bound in (strategy_plan, max_trials) if bound is not None]
    return min(bounds) * accelerators if bounds else None
