"""The entry point olive-core loads: registers components by import path, imports nothing heavy."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@hookimpl
def register_execution_providers(register: Registrar) -> None:
    register("QNNExecutionProvider", "olive_qnn.provider:QNN")


@hookimpl
def register_passes(register: Registrar) -> None:
    register("QnnPreprocess", "olive_qnn.passes.preprocess:QnnPreprocess")
    register("QnnQuantization", "olive_qnn.passes.quantization:QnnQuantization")
    register("QnnContextBinary", "olive_qnn.passes.context_binary:QnnContextBinary")


@hookimpl
def register_metrics(register: Registrar) -> None:
    register("npu_coverage", "olive_qnn.coverage:NpuCoverageMetric")


@hookimpl
def register_recipes(register: Registrar) -> None:
    register("qnn-npu", "olive_qnn.recipe:NpuRecipe")
