"""Choose results: feasible candidates (all goals met) ranked by objectives, the Pareto front
of several objectives, and - when nothing is feasible - the candidates that came closest."""

from __future__ import annotations

from olive_core.config.workflow import ObjectiveConfig
from olive_core.engine.result import CandidateResult

#: how many near misses a run without a feasible candidate keeps
CLOSEST_KEPT = 3


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


def violation(candidate: CandidateResult) -> float:
    """0 when every goal is met; else the sum of relative misses (missed_by / |target|)."""
    if candidate.evaluation is None:
        return 0.0
    return sum(
        goal.missed_by / max(abs(goal.target), 1e-9) for goal in candidate.evaluation.goals.values() if not goal.met
    )


def _feasible(candidates: list[CandidateResult]) -> list[CandidateResult]:
    return [c for c in candidates if c.ok and c.evaluation is not None and c.evaluation.all_goals_met]


def pick_best(candidates: list[CandidateResult], keys: list[str]) -> list[int]:
    """Indices of the best candidates.

    Without metrics every successful candidate is kept (nothing to rank them by). With metrics,
    only candidates meeting all goals qualify, and the highest score (by priority) wins.
    """
    if not keys:
        return [c.index for c in candidates if c.ok]
    feasible = _feasible(candidates)
    if not feasible:
        return []
    return [max(feasible, key=lambda c: score(c, keys) or ()).index]


def dominates(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return all(x >= y for x, y in zip(a, b)) and any(x > y for x, y in zip(a, b))


def pareto_front(candidates: list[CandidateResult], keys: list[str]) -> list[int]:
    """Feasible candidates no other feasible candidate dominates, best first; one per distinct score."""
    if len(keys) < 2:
        return []
    scored = [(c, score(c, keys)) for c in _feasible(candidates)]
    front: dict[tuple[float, ...], int] = {}
    for candidate, own in scored:
        if own is not None and not any(other is not None and dominates(other, own) for _, other in scored):
            front.setdefault(own, candidate.index)
    return [index for _, index in sorted(front.items(), reverse=True)]


def closest(candidates: list[CandidateResult]) -> list[int]:
    """When no candidate met every goal: the evaluated ones that missed by the least."""
    if _feasible(candidates):
        return []
    evaluated = [c for c in candidates if c.ok and c.evaluation is not None and c.evaluation.goals]
    return [c.index for c in sorted(evaluated, key=violation)[:CLOSEST_KEPT]]
