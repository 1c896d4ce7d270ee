"""The metric plugin's tests: its contract suite, and its values where the answer is known."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import DataError
from olive_core.evaluation import MetricContext
from olive_core.models import ModelHandler
from olive_core.testing import MetricContract
from olive_core.testing.toy import ToyModelType


def context_of(ours: Any, reference: Any) -> MetricContext:
    """A MetricContext as the evaluator makes one, for a model measured on one batch."""
    return MetricContext(
        model=ModelHandler(type="toy", path="candidate.json"),
        model_type=ToyModelType(),
        accelerator=AcceleratorSpec("cpu", "CPUExecutionProvider"),
        session=lambda: pytest.fail("output_error reads outputs: it opens no session"),
        outputs=lambda: [{"y": np.asarray(ours)}],
        reference_outputs=lambda: [{"y": np.asarray(reference)}],
    )


class TestOutputError(MetricContract):
    metric_name = "output_error"  # the suite loads it from the installed plugins by this name
    configs = [{}, {"output": "y", "tolerance": 0.5}]  # each must give a finite value for every sub-metric

    @pytest.fixture
    def context(self) -> MetricContext:
        return context_of([[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.5], [3.0, 4.0]])

    def test_values(self, metric_class: Any) -> None:  # metric_class: a fixture of the suite
        values = metric_class().measure(metric_class.Config(tolerance=0.1), context_of([[1.0, 1.0]], [[0.0, 1.0]]))
        assert values == {"mse": 0.5, "off_fraction": 0.5}

    def test_a_missing_output_is_named(self, metric_class: Any) -> None:
        with pytest.raises(DataError, match="no output 'z'"):
            metric_class().measure(metric_class.Config(output="z"), context_of([[1.0]], [[1.0]]))
