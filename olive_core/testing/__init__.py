"""Test helpers for plugin authors: fixtures (auto-loaded by pytest) and contract suites.

    from olive_core.testing import PassContract

    class TestMyPass(PassContract):
        pass_name = "MyPass"
        ...

Plain helpers live in their own modules, imported by name: ``workflows`` (the toy plugin's
manager, input model and workflows; ``olive`` in-process or in a subprocess), ``steps`` (an
input model's handle and one pass, the way the engine makes and runs them) and ``ports``.
"""

from olive_core.testing.contracts import (
    CacheBackendContract,
    DataComponentContract,
    ExecutionProviderContract,
    ExecutorContract,
    MetricContract,
    PassContract,
    TrackerContract,
)
from olive_core.testing.distributions import FakeDistribution, make_fake_distribution

__all__ = [
    "CacheBackendContract",
    "DataComponentContract",
    "ExecutionProviderContract",
    "ExecutorContract",
    "MetricContract",
    "PassContract",
    "TrackerContract",
    "FakeDistribution",
    "make_fake_distribution",
]
