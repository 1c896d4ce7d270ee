"""Core's own metrics and data components meet the suites plugin authors run on theirs."""

from __future__ import annotations

from pathlib import Path

import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.evaluation.data import DataContext
from olive_core.evaluation.metric import MetricContext
from olive_core.testing import DataComponentContract, MetricContract
from olive_core.testing.toy import ToyModelType


class TestSizeMetricContract(MetricContract):
    metric_name = "size"

    @pytest.fixture
    def context(self, toy_model: Path) -> MetricContext:
        model_type = ToyModelType()
        handle = model_type.create_handle("input_model", model_type.Config(model_path=str(toy_model)), toy_model.parent)
        return MetricContext(model=handle, model_type=model_type, accelerator=AcceleratorSpec("cpu"), session=lambda: None)


class TestTextLinesContract(DataComponentContract):
    component_name = "text_lines"

    @pytest.fixture
    def context(self, tmp_path: Path) -> DataContext:
        (tmp_path / "lines.txt").write_text("first\nsecond\n")
        return DataContext(base_dir=tmp_path, name="contract")

    configs = [{"path": "lines.txt"}]
