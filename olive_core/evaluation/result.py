"""Evaluation: what the evaluator reports for one model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from olive_core.evaluation.goals import GoalResult


@dataclass
class Evaluation:
    """Flat ``metricname-submetric`` values with their directions, goal results and run settings."""

    values: dict[str, float]
    directions: dict[str, str]
    goals: dict[str, GoalResult] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)
    cached: bool = False
    #: where it was measured (the key of its accelerator)
    accelerator: str = ""

    @property
    def all_goals_met(self) -> bool:
        """True when every goal set on a sub-metric is met (and when none is set)."""
        return all(goal.met for goal in self.goals.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "values": dict(self.values),
            "directions": dict(self.directions),
            "goals": {key: goal.to_json() for key, goal in self.goals.items()},
            "settings": dict(self.settings),
            "cached": self.cached,
            "accelerator": self.accelerator,
            "all_goals_met": self.all_goals_met,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Evaluation:
        return cls(
            values={key: float(value) for key, value in data["values"].items()},
            directions=dict(data["directions"]),
            goals={key: GoalResult.from_json(goal) for key, goal in data.get("goals", {}).items()},
            settings=dict(data.get("settings", {})),
            cached=bool(data.get("cached", False)),
            accelerator=str(data.get("accelerator", "")),
        )
