"""The entry point olive-core loads: registers the ``azure`` cache backend by import path."""

from __future__ import annotations

from typing import Any

import olive_core

olive_plugin_api = "1.0"


@olive_core.hookimpl
def register_cache_backends(register: Any) -> None:
    register("azure", "olive_azure_cache.cache:AzureCache")
