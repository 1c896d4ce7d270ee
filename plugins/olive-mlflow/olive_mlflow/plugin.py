"""The plugin's entry module: registers the ``mlflow`` tracker by import path (mlflow loads only
when a run that names it starts)."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@hookimpl
def register_trackers(register: Registrar) -> None:
    register("mlflow", "olive_mlflow.tracker:MlflowTracker")
