"""QnnContextBinary: the QDQ model compiled ahead of time for the run's QNN target (an EPContext model)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from olive_core.errors import IncompatibleModelError, OliveError, PassError
from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext

if TYPE_CHECKING:
    import onnxruntime

    from olive_onnx.api import SessionSettings

PASS_NAME = "QnnContextBinary"


class QnnContextBinaryConfig(PassConfig):
    """Nothing to choose: the target (htp_arch, soc_model) comes from the accelerator's provider options."""


class QnnContextBinary(Pass):
    """Compile a QDQ model for the run's QNN target into one ONNX file holding the context binary.

    The output is a model of EPContext nodes with the compiled graph embedded: it loads in a
    fraction of the time (no graph preparation on the device), and only on QNN with the provider
    options and SDK version it was compiled for (both are in the step's cache key). Every node must
    go to QNN; a compile that fails names the nodes QNN refuses. Reports the SDK version and the
    compile time.
    """

    Config = QnnContextBinaryConfig
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"
    devices = ("npu",)
    providers = ("QNNExecutionProvider",)
    input_constraints = (
        "a QDQ ONNX model (QnnQuantization makes one)",
        "static input shapes (QnnPreprocess fixes them)",
        "every node supported by QNN (the npu_coverage metric shows which are not)",
    )

    def check_input(self, model: ModelHandler, config: QnnContextBinaryConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        from olive_onnx.api import read_graph

        from olive_qnn.graph import epcontext_nodes, is_qdq, refuse_dynamic

        model_file, graph = read_graph(model)
        if epcontext_nodes(graph):
            raise IncompatibleModelError(
                f"{PASS_NAME}: '{model_file}' is compiled already (it holds EPContext nodes)",
                hint="compile the QDQ model it came from, once",
            )
        refuse_dynamic(graph, str(model_file), PASS_NAME)
        if not is_qdq(graph):
            raise IncompatibleModelError(
                f"{PASS_NAME} compiles QDQ models for the HTP, but '{model_file}' has no "
                "QuantizeLinear/DequantizeLinear",
                hint="put QnnQuantization before it",
            )

    def run(
        self, model: ModelHandler, config: QnnContextBinaryConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import onnxruntime

        from olive_onnx.api import (
            MODEL_FILE_NAME,
            derive_output,
            effective_settings,
            read_graph,
            read_model_proto,
            scratch_space,
        )

        from olive_qnn.graph import epcontext_nodes, node_attribute

        model_file, _ = read_graph(model)
        settings = effective_settings(model, context.runtime_settings)
        target = output_dir.resolve() / MODEL_FILE_NAME
        started = time.perf_counter()
        try:
            # QNN writes its intermediate files (a .dlc) into the current directory
            with scratch_space(output_dir):
                compiler = onnxruntime.ModelCompiler(
                    _compile_options(context, settings),
                    str(model_file),
                    embed_compiled_data_into_model=True,
                    flags=onnxruntime.OrtCompileApiFlags.ERROR_IF_NO_NODES_COMPILED,
                )
                compiler.compile_to_file(str(target))
        except Exception as exc:
            target.unlink(missing_ok=True)
            raise _compile_failure(exc, model_file, context, settings) from exc
        seconds = time.perf_counter() - started
        nodes = epcontext_nodes(read_model_proto(target))
        context.report.update(
            {
                "ep_sdk_version": node_attribute(nodes[0], "ep_sdk_version") if nodes else None,
                "compile_seconds": round(seconds, 3),
                "epcontext_nodes": len(nodes),
                "provider_options": {**context.accelerator.options(), **settings.provider_options},
            }
        )
        return derive_output(model, target)


def _compile_options(context: PassContext, settings: SessionSettings) -> onnxruntime.SessionOptions:
    """Session options with QNN added for its devices, as a run's sessions get them (same target)."""
    from olive_onnx.api import accelerator_session_options, session_options

    accelerator = context.accelerator
    if accelerator.library is None:
        provider = accelerator.execution_provider
        raise PassError(PASS_NAME, f"{provider} names no EP library to compile with", hint="reinstall olive-qnn")
    options = session_options(settings)
    options.log_severity_level = 4  # a failed compile is reported with the nodes QNN refuses, not ORT's log lines
    return accelerator_session_options(accelerator, settings, options)


def _compile_failure(exc: Exception, model_file: Path, context: PassContext, settings: SessionSettings) -> OliveError:
    """The compile's error, with the nodes QNN refuses when a recording session can tell them."""
    from olive_onnx.api import pass_failure

    from olive_qnn.placement import mem_alloc_error, measure_placement

    if isinstance(exc, OliveError):
        return exc
    finalize = mem_alloc_error(exc, model_file)
    if finalize is not None:
        return PassError(PASS_NAME, finalize.message, hint=finalize.hint)
    try:
        placement = measure_placement(model_file, context.accelerator, settings)
    except OliveError as measured:
        return PassError(
            PASS_NAME, f"{_first_line(exc)}; asking QNN which nodes it takes failed too: {measured.message}"
        )
    if placement.on_cpu:
        refused = {node.op_type for node in placement.on_cpu}
        hint = (
            "run QnnPreprocess before QnnQuantization: it fuses Erf sequences into Gelu, which QNN runs"
            if "Erf" in refused
            else "replace these ops in the model (QNN's HTP has no kernel for them), or run the QDQ model "
            "uncompiled with CPU fallback (session.disable_cpu_ep_fallback: '0')"
        )
        return PassError(
            PASS_NAME,
            f"QNN refuses {len(placement.on_cpu)} of {len(placement.nodes)} nodes of '{model_file}': "
            f"{placement.describe_cpu(5)}",
            hint=hint,
        )
    return pass_failure(PASS_NAME, exc, hint="check the accelerator's provider options (htp_arch, soc_model)")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
