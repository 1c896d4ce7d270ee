"""Choose the best candidate(s): feasible first (all goals met), then by objectives."""

from __future__ import annotations

from olive_core.config.workflow import ObjectiveConfig
from olive_core.engine.result import CandidateResult


def objective_keys(objectives: list[ObjectiveConfig], measured: list[str]) -> list[str]:
    """Objective metric keys by priority; without objectives, the first measured sub-metric."""
    if objectives:
        return [o.metric for o in sorted(objectives, key=lambda o: o.priority)]
    return measured[:1]


def score(candidate: CandidateResult, keys: list[str]) -> tuple[float, ...] | None:
    """A tuple to maximize: each objective's value, negated where lower is better."""
    evaluation = candidate.evaluation
    if not candidate.ok or evaluation is None:
        return None
    values = []
    for key in keys:
        value = evaluation.values[key]
        values.append(-value if evaluation.directions[key] == "min" else value)
    return tuple(values)


def pick_best(candidates: list[CandidateResult], keys: list[str]) -> list[int]:
    """Indices of the best candidates.

    Without metrics every successful candidate is kept (nothing to rank them by). With metrics,
    only candidates meeting all goals qualify, and the highest score wins.
    """
    successful = [c for c in candidates if c.ok]
    if not keys:
        return [c.index for c in successful]
    feasible = [c for c in successful if c.evaluation is not None and c.evaluation.all_goals_met]
    if not feasible:
        return []
    best = max(feasible, key=lambda c: score(c, keys) or ())
    return [best.index]
