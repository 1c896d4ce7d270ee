"""The plugin's entry module: registers the ``mlflow`` tracker by import path (mlflow loads only
when a run that names it starts)."""

from __future__ import annotations

from typing import Any

from olive_core import hookimpl

olive_plugin_api = "1.0"


@hookimpl
def register_trackers(register: Any) -> None:
    register("mlflow", "olive_mlflow.tracker:MlflowTracker")
