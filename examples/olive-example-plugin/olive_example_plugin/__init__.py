"""An example third-party plugin: registers one pass through olive-core's plugin hooks."""

from __future__ import annotations

from typing import Any

from olive_core import hookimpl

olive_plugin_api = "1.0"


@hookimpl
def register_passes(register: Any) -> None:
    register("OnnxAddMetadata", "olive_example_plugin.metadata:OnnxAddMetadata")
