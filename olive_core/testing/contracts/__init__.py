"""Contract suites plugin tests subclass, one per kind of component, so each meets the same rules."""

from olive_core.testing.contracts.caches import CacheBackendContract
from olive_core.testing.contracts.data import DataComponentContract
from olive_core.testing.contracts.executors import ExecutorContract
from olive_core.testing.contracts.metrics import MetricContract
from olive_core.testing.contracts.passes import PassContract
from olive_core.testing.contracts.providers import ExecutionProviderContract
from olive_core.testing.contracts.trackers import TrackerContract

__all__ = ["CacheBackendContract", "DataComponentContract", "ExecutionProviderContract", "ExecutorContract", "MetricContract", "PassContract", "TrackerContract"]
