"""The entry point olive-core loads: registers the ``dask`` executor by import path (Dask loads
only when a run starts it)."""

from __future__ import annotations

import olive_core
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@olive_core.hookimpl
def register_executors(register: Registrar) -> None:
    register("dask", "olive_dask.executor:DaskExecutor")
