"""Numbers in workflows are finite and bounded: a typo is a validation error, not a hang or a crash."""

from __future__ import annotations

import math
from typing import Annotated

import pytest
from pydantic import BaseModel, Field

from olive_core.bounds import STRICT_CONFIG, unbounded_numbers
from olive_core.config.workflow import WorkflowConfig
from olive_core.engine.api import load_workflow
from olive_core.errors import ConfigError
from olive_core.plugins import create_plugin_manager
from olive_core.registry import KINDS


def test_the_checker_finds_unbounded_numbers_wherever_they_are():
    class Inner(BaseModel):
        model_config = STRICT_CONFIG
        depth: int = Field(default=1, ge=0)

    class Loose(BaseModel):
        count: int = 1
        bounded: int = Field(default=1, ge=0, le=9)
        ratio: float = 0.5
        sizes: list[int] = []
        ranges: dict[str, tuple[Annotated[int, Field(ge=0, le=9)], int]] = {}
        inner: Inner = Inner()
        either: str | int = 0

    assert unbounded_numbers(Loose) == [
        "count (int without both bounds)",
        "ratio (float that may be NaN or infinite)",
        "sizes[] (int without both bounds)",
        "ranges[][] (int without both bounds)",
        "inner.depth (int without both bounds)",
        "either (int without both bounds)",
    ]


def test_the_workflow_shape_has_no_unbounded_number():
    assert unbounded_numbers(WorkflowConfig) == []


def test_every_installed_component_bounds_its_numbers():
    """Core's components in the core session; every plugin's in the session that has them all."""
    registry = create_plugin_manager().registry
    found = {}
    for kind in KINDS:
        for component in registry.components(kind):
            config = getattr(component.load(), "Config", None)
            if config is not None and unbounded_numbers(config):
                found[f"{kind} {component.name} ({component.source.distribution})"] = unbounded_numbers(config)
    assert found == {}


@pytest.mark.parametrize(
    ("section", "path"),
    [
        ({"data": {"d": {"load": {"type": "synthetic"}, "max_samples": 10**12}}}, "data.d.max_samples"),
        ({"runtime": {"intra_op_num_threads": 2**40}}, "runtime.intra_op_num_threads"),
        ({"search": {"seed": -1}}, "search.seed"),
        ({"search": {"max_time_s": math.inf}}, "search.max_time_s"),
        ({"data": {"d": {"load": {"type": "synthetic", "config": {"num_samples": 10**12}}}}}, "data.d.load.config.num_samples"),
    ],
)
def test_an_out_of_bounds_number_names_its_field(section, path, write_workflow, toy_manager):
    with pytest.raises(ConfigError) as error:
        load_workflow(write_workflow(**section), toy_manager)
    assert path in str(error.value)


def test_a_nan_goal_threshold_is_refused(write_workflow, toy_manager, tmp_path):
    metrics = [{"name": "size", "type": "size", "goals": {"mb": {"threshold": math.nan}}}]
    with pytest.raises(ConfigError, match=r"metrics.0.goals.mb.threshold: Input should be a finite number"):
        load_workflow(write_workflow(metrics=metrics), toy_manager)
    yaml_file = tmp_path / "nan.yaml"
    yaml_file.write_text(write_workflow(metrics=metrics).read_text().replace("NaN", ".nan"))
    with pytest.raises(ConfigError, match=r"threshold: Input should be a finite number"):
        load_workflow(yaml_file, toy_manager)
