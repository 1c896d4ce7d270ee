"""The entry point olive-core loads: registers the ``azure`` cache backend by import path."""

from __future__ import annotations

import olive_core
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@olive_core.hookimpl
def register_cache_backends(register: Registrar) -> None:
    register("azure", "olive_azure_cache.cache:AzureCache")
