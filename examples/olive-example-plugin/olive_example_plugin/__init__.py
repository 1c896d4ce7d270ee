"""An example third-party plugin: registers one pass through olive-core's plugin hooks."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@hookimpl
def register_passes(register: Registrar) -> None:
    register("OnnxAddMetadata", "olive_example_plugin.metadata:OnnxAddMetadata")
