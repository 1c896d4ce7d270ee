"""A cache backend plugin: the local cache with a size budget, which says so when a run leaves it over."""

from __future__ import annotations

from pydantic import Field

from olive_core import hookimpl
from olive_core.cache.local import LocalCache, LocalCacheConfig
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


class BudgetCacheConfig(LocalCacheConfig):  # keeps `dir`, so --cache-dir still sets the folder
    max_gb: float = Field(default=50.0, gt=0, le=1e6, description="the size past which closing the cache warns")


class BudgetCache(LocalCache):
    """A local cache folder that warns, when a run closes it, if it holds more than `max_gb`."""

    Config = BudgetCacheConfig

    def __init__(self, config: BudgetCacheConfig | None = None) -> None:
        config = config or BudgetCacheConfig()
        super().__init__(config)
        self.max_gb = config.max_gb

    def close(self) -> None:
        used_gb = self.size_bytes() / 1e9
        if used_gb > self.max_gb:
            self.report_progress(
                f"the cache at {self.location} holds {used_gb:.3g} GB, over its budget of {self.max_gb:g} GB: "
                "`olive cache clear` empties it"
            )
        super().close()


@hookimpl
def register_cache_backends(register: Registrar) -> None:
    register("budget", BudgetCache)
