"""Goals on sub-metrics: absolute thresholds, and limits relative to the input model's value."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from olive_core.config.workflow import GoalConfig

# Relative targets are computed in floating point (``ref * (1 + p / 100)``); a value equal to
# the reference must still meet "no worse than 0%".
_RELATIVE_TOLERANCE = 1e-9


@dataclass(frozen=True)
class GoalResult:
    """Whether one sub-metric met its goal, the value it had to reach, and how far it missed."""

    met: bool
    target: float
    #: 0 when met; otherwise the distance to the target, in the sub-metric's unit
    missed_by: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GoalResult:
        return cls(met=bool(data["met"]), target=float(data["target"]), missed_by=float(data["missed_by"]))


def goal_target(goal: GoalConfig, direction: str, reference: float | None) -> float:
    """The bound a value must reach: at most it for 'min' sub-metrics, at least it for 'max'.

    ``reference`` is the input model's value; relative goals need it. Percentages are of the
    reference's magnitude, so they keep their sense for negative values.
    """
    better = -1.0 if direction == "min" else 1.0
    if goal.threshold is not None:
        return goal.threshold
    if reference is None:
        raise ValueError("a relative goal needs the input model's value")
    scale = abs(reference) / 100.0
    if goal.max_degradation is not None:
        return reference - better * goal.max_degradation
    if goal.max_degradation_percent is not None:
        return reference - better * scale * goal.max_degradation_percent
    if goal.min_improvement is not None:
        return reference + better * goal.min_improvement
    if goal.min_improvement_percent is not None:
        return reference + better * scale * goal.min_improvement_percent
    raise ValueError("the goal sets no bound")


def evaluate_goal(goal: GoalConfig, direction: str, value: float, reference: float | None = None) -> GoalResult:
    """Check ``value`` against ``goal`` for a sub-metric whose better side is ``direction``."""
    target = goal_target(goal, direction, reference)
    shortfall = value - target if direction == "min" else target - value
    tolerance = _RELATIVE_TOLERANCE * max(1.0, abs(target))
    met = shortfall <= tolerance
    return GoalResult(met=met, target=target, missed_by=0.0 if met else shortfall)


def is_relative(goal: GoalConfig) -> bool:
    return goal.threshold is None
