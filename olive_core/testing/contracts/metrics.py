"""MetricContract: what a plugin's metric tests subclass, so every metric meets the same rules.

    class TestPerplexity(MetricContract):
        metric_name = "perplexity"

        @pytest.fixture
        def context(self, ...) -> MetricContext:
            ...  # a MetricContext for a model the metric can measure
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

import pytest

from olive_core.evaluation.metric import Metric, MetricContext
from olive_core.testing.contracts.checks import check_config, heavy_modules_after_import


class MetricContract:
    """Subclass with ``metric_name`` and a ``context`` fixture; optionally ``configs``."""

    metric_name: ClassVar[str] = ""
    #: configs to measure with; each must give a finite value for every sub-metric
    configs: ClassVar[list[dict[str, Any]]] = [{}]

    @pytest.fixture
    def context(self) -> MetricContext:
        raise NotImplementedError("a MetricContract subclass must define a 'context' fixture")

    @pytest.fixture
    def metric_class(self, olive_plugin_manager: Any) -> type[Metric]:
        return olive_plugin_manager.registry.load("metric", self.metric_name)

    def test_declares_sub_metrics_with_directions(self, metric_class: type[Metric]) -> None:
        assert issubclass(metric_class, Metric)
        assert metric_class.sub_metrics, "declare the sub-metrics the metric returns"
        assert set(metric_class.sub_metrics.values()) <= {"min", "max"}

    def test_config_is_strict_documented_and_bounded(self, metric_class: type[Metric]) -> None:
        check_config(metric_class.Config)

    def test_import_loads_no_heavy_framework(self, metric_class: type[Metric]) -> None:
        loaded = heavy_modules_after_import(metric_class.__module__)
        assert not loaded, f"importing {metric_class.__module__} loads {loaded}; import it inside measure()"

    def test_measures_a_finite_value_for_every_sub_metric(self, metric_class: type[Metric], context: MetricContext) -> None:
        for raw in self.configs:
            values = metric_class().measure(metric_class.Config(**raw), context)
            assert set(metric_class.sub_metrics) <= set(values), f"missing: {set(metric_class.sub_metrics) - set(values)}"
            bad = {name: value for name, value in values.items() if not math.isfinite(float(value))}
            assert not bad, f"not finite: {bad}"
