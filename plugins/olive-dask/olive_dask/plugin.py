"""The entry point olive-core loads: registers the ``dask`` executor by import path (Dask loads
only when a run starts it)."""

from __future__ import annotations

from typing import Any

import olive_core

olive_plugin_api = "1.0"


@olive_core.hookimpl
def register_executors(register: Any) -> None:
    register("dask", "olive_dask.executor:DaskExecutor")
