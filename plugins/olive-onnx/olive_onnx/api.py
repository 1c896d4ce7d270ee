"""olive-onnx's stable surface for other plugins: import olive-onnx's helpers from here.

The names below are kept stable: renaming one, or changing what it takes or returns, is a
breaking change of olive-onnx, made with a deprecation first. Every other module of
``olive_onnx`` is internal and may be renamed, split or changed in any release.
``tests/test_plugin_seams.py`` in olive-core checks that no plugin imports olive-onnx from
anywhere else.

Importing this module is cheap: the modules it imports load onnx and onnxruntime inside their
functions. The four names whose modules import onnx or onnxruntime at import time (graph
inspection, calibration) are loaded on first use instead, through the module ``__getattr__``
below (PEP 562), so ``from olive_onnx.api import op_counts`` costs an onnx import only where
it runs, and ``olive --help`` imports no onnx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Model files: the .onnx file of a model path, its graph without weights, the whole model, and
# saving one (with external data past protobuf's 2 GiB); every read checks that external data
# stays inside the model's folder.
from olive_onnx.files import (
    MODEL_FILE_NAME,
    external_data_files,
    load_model,
    needs_external_data,
    read_model_proto,
    resolve_model_file,
    save_model,
)

# Writing a pass on ONNX models as olive-onnx's own are written: read the input's graph, derive
# the output handle, turn an ORT tool's exception into a PassError, keep ORT's chatter quiet, and
# keep the temporary files ORT's tools write inside the step's folder.
from olive_onnx.passes.common import derive_output, ort_advice_as_debug, pass_failure, quiet_logger, read_graph
from olive_onnx.scratch import scratch_space, stage_input

# Quantization: refuse a model ORT's INT8 tools cannot quantize (quantized already, FP16), and
# count the quantized ops of a result for the lineage.
from olive_onnx.passes.quantization_common import refuse_unquantizable, report_quantized_ops

# Sessions: the merged runtime settings of a model, ORT session options from them, the options
# for an accelerator (its plugin EP added), a session on exactly the accelerator's provider, and
# olive's checked session for a handle.
from olive_onnx.settings import SessionSettings, effective_settings, session_options
from olive_onnx.runtime import accelerator_session_options, create_session, open_session

# Data for `olive optimize`-style recipes: the built-in text or tensor samples, by data name.
from olive_onnx.recipe_data import CALIBRATION, EVALUATION, tensor_data, text_data

# The conversion pass itself, for plugins that convert parts of a model (a pipeline's components).
from olive_onnx.passes.conversion import OnnxConversion, OnnxConversionConfig

if TYPE_CHECKING:
    from olive_onnx.calibration import DataConfigReader
    from olive_onnx.inspect import graph_inputs, op_counts, refuse_quantized

#: name -> module, for names whose module imports onnx or onnxruntime when imported: graph
#: inspection (the inputs with their dims, op counts, refusing a quantized model) and an ORT
#: calibration reader over a workflow's data
_ON_FIRST_USE = {
    "graph_inputs": "olive_onnx.inspect",
    "op_counts": "olive_onnx.inspect",
    "refuse_quantized": "olive_onnx.inspect",
    "DataConfigReader": "olive_onnx.calibration",
}

__all__ = [
    "CALIBRATION",
    "EVALUATION",
    "MODEL_FILE_NAME",
    "DataConfigReader",
    "OnnxConversion",
    "OnnxConversionConfig",
    "SessionSettings",
    "accelerator_session_options",
    "create_session",
    "derive_output",
    "effective_settings",
    "external_data_files",
    "graph_inputs",
    "load_model",
    "needs_external_data",
    "op_counts",
    "open_session",
    "ort_advice_as_debug",
    "pass_failure",
    "quiet_logger",
    "read_graph",
    "read_model_proto",
    "refuse_quantized",
    "refuse_unquantizable",
    "report_quantized_ops",
    "resolve_model_file",
    "save_model",
    "scratch_space",
    "session_options",
    "stage_input",
    "tensor_data",
    "text_data",
]


def __getattr__(name: str) -> Any:
    module = _ON_FIRST_USE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_ON_FIRST_USE))
