"""ONNX Runtime sessions for olive: one execution provider, known settings, checked inputs.

Session settings, from weakest to strongest:

1. ONNX Runtime's own defaults;
2. the settings :class:`~olive_onnx.passes.session_tuning.OnnxSessionTuning` measured best for
   this model, stored in ``handle.attributes["session_options"]``;
3. the settings the workflow writes explicitly (``runtime.intra_op_num_threads``,
   ``runtime.options``), key by key.

Explicit settings win because they state a constraint of the target (threads a service may
use, a provider option an NPU needs) and they apply to every model a run compares; letting a
tuned value override them would measure candidates under different rules. A tuned value that is
overridden is logged.

onnxruntime is imported inside the functions: the model type imports this module lazily, but
passes and tests may import it cheaply.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from olive_core.errors import ConfigError, DataError, ModelLoadError
from olive_onnx.accelerators import DEVICE_PROVIDERS, available_providers
from olive_onnx.files import external_data_files, resolve_model_file

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime

    from olive_core.accelerators import AcceleratorSpec
    from olive_core.models import ModelHandler

logger = logging.getLogger(__name__)

#: the handle attribute where tuned session settings are kept
TUNED_ATTRIBUTE = "session_options"

ExecutionMode = Literal["sequential", "parallel"]
OptimizationLevel = Literal["disable", "basic", "extended", "all"]


class SessionSettings(BaseModel):
    """The settings an ONNX Runtime session is made with; None leaves ORT's default."""

    model_config = ConfigDict(extra="forbid")

    intra_op_num_threads: int | None = Field(default=None, ge=0, description="threads inside one op (0: ORT's default)")
    inter_op_num_threads: int | None = Field(
        default=None, ge=0, description="threads across ops, used in parallel execution mode (0: ORT's default)"
    )
    execution_mode: ExecutionMode | None = Field(
        default=None, description="run independent ops sequentially or in parallel"
    )
    graph_optimization_level: OptimizationLevel | None = Field(
        default=None, description="graph optimizations ORT applies when it loads the model"
    )
    provider_options: dict[str, Any] = Field(
        default_factory=dict, description="options of the execution provider, e.g. QNN's backend_path"
    )
    session_config_entries: dict[str, str] = Field(
        default_factory=dict, description="ORT session config entries (SessionOptions.add_session_config_entry)"
    )

    def explicit(self) -> dict[str, Any]:
        """Only the settings that were given, as plain data."""
        return self.model_dump(exclude_defaults=True)


KNOWN_SETTINGS = tuple(SessionSettings.model_fields)


def parse_settings(raw: dict[str, Any], source: str) -> SessionSettings:
    """Validate one settings dict; ``source`` says where it came from, for the message."""
    try:
        return SessionSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"ONNX Runtime setting '{field}' from {source}: {first['msg']}",
            path=field,
            hint=f"ONNX Runtime settings: {', '.join(KNOWN_SETTINGS)}",
        ) from exc


def effective_settings(handle: ModelHandler, settings: dict[str, Any]) -> SessionSettings:
    """Merge ORT defaults < tuned settings < explicit settings (see the module docstring)."""
    unknown = sorted(key for key in settings if key not in KNOWN_SETTINGS)
    if unknown:
        # The workflow's runtime options are shared by every runtime in a run; keys meant for
        # another runtime (torch) are not an error here, but a typo should be visible.
        logger.warning(
            "ignoring runtime settings that ONNX Runtime does not know: %s (known: %s)",
            ", ".join(unknown),
            ", ".join(KNOWN_SETTINGS),
        )
    explicit = parse_settings({k: v for k, v in settings.items() if k in KNOWN_SETTINGS}, "the workflow's runtime")
    tuned = parse_settings(dict(handle.attributes.get(TUNED_ATTRIBUTE) or {}), f"tuning of '{handle.path}'")
    merged = tuned.explicit()
    for key, value in explicit.explicit().items():
        if key in merged and merged[key] != value:
            logger.info("runtime setting %s=%r overrides the tuned %r for '%s'", key, value, merged[key], handle.path)
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
    return SessionSettings.model_validate(merged)


# --------------------------------------------------------------------------------------------
# Execution providers
# --------------------------------------------------------------------------------------------

#: where an execution provider comes from, for the error that says it is missing
PROVIDER_PACKAGES = {
    "CUDAExecutionProvider": "onnxruntime-gpu",
    "TensorrtExecutionProvider": "onnxruntime-gpu (with TensorRT installed)",
    "DmlExecutionProvider": "onnxruntime-directml",
    "ROCMExecutionProvider": "an onnxruntime build with ROCm",
    "MIGraphXExecutionProvider": "onnxruntime-migraphx",
    "QNNExecutionProvider": "onnxruntime-qnn",
    "OpenVINOExecutionProvider": "onnxruntime-openvino",
    "VitisAIExecutionProvider": "the Ryzen AI build of onnxruntime",
}


def resolve_execution_provider(accelerator: AcceleratorSpec) -> str:
    """The provider the session must use; an error (never a CPU fallback) when it is missing."""
    available = available_providers()
    if accelerator.execution_provider:
        wanted: tuple[str, ...] = (accelerator.execution_provider,)
    else:
        wanted = DEVICE_PROVIDERS.get(accelerator.device, ())
    for provider in wanted:
        if provider in available:
            return provider
    import onnxruntime

    named = " or ".join(wanted) if wanted else f"any provider for device '{accelerator.device}'"
    package = PROVIDER_PACKAGES.get(wanted[0]) if len(wanted) == 1 else None
    install = (
        f"install {package} in place of onnxruntime, or "
        if package
        else "install an onnxruntime build that has it, or "
    )
    raise ConfigError(
        f"accelerator '{accelerator}' needs {named}, which the installed onnxruntime "
        f"{onnxruntime.__version__} does not have; available providers: {', '.join(available)}",
        path="accelerators",
        hint=f"{install}target one of the available providers",
    )


# --------------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------------

_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(float16)": "float16",
    "tensor(double)": "float64",
    "tensor(int8)": "int8",
    "tensor(int16)": "int16",
    "tensor(int32)": "int32",
    "tensor(int64)": "int64",
    "tensor(uint8)": "uint8",
    "tensor(uint16)": "uint16",
    "tensor(uint32)": "uint32",
    "tensor(uint64)": "uint64",
    "tensor(bool)": "bool",
    "tensor(string)": "object",
}


def session_options(settings: SessionSettings) -> onnxruntime.SessionOptions:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    if settings.intra_op_num_threads is not None:
        options.intra_op_num_threads = settings.intra_op_num_threads
    if settings.inter_op_num_threads is not None:
        options.inter_op_num_threads = settings.inter_op_num_threads
    if settings.execution_mode is not None:
        options.execution_mode = {
            "sequential": onnxruntime.ExecutionMode.ORT_SEQUENTIAL,
            "parallel": onnxruntime.ExecutionMode.ORT_PARALLEL,
        }[settings.execution_mode]
    if settings.graph_optimization_level is not None:
        options.graph_optimization_level = optimization_level(settings.graph_optimization_level)
    for key, value in settings.session_config_entries.items():
        options.add_session_config_entry(key, str(value))
    return options


def optimization_level(level: OptimizationLevel) -> onnxruntime.GraphOptimizationLevel:
    import onnxruntime

    return {
        "disable": onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]


def open_session(
    model_file: Path,
    provider: str,
    settings: SessionSettings,
    options: onnxruntime.SessionOptions | None = None,
    disabled_optimizers: Sequence[str] = (),
) -> onnxruntime.InferenceSession:
    """An ORT session on exactly ``provider``; an error if ORT could not use it."""
    import onnxruntime

    external_data_files(model_file)  # never let ORT read data from outside the model's folder
    options = options if options is not None else session_options(settings)
    providers = [(provider, settings.provider_options)] if settings.provider_options else [provider]
    extra = {"disabled_optimizers": list(disabled_optimizers)} if disabled_optimizers else {}
    try:
        session = onnxruntime.InferenceSession(str(model_file), sess_options=options, providers=providers, **extra)
    except Exception as exc:  # ORT raises its own pybind types; name the model and the provider
        raise ModelLoadError(
            f"ONNX Runtime cannot load '{model_file}' on {provider}: {str(exc).strip().splitlines()[0]}",
            hint="check that the model's ops and data types are supported by this execution provider",
        ) from exc
    used = session.get_providers()
    if not used or used[0] != provider:
        # ORT falls back to CPU when a provider fails to initialize (missing CUDA libraries...).
        raise ModelLoadError(
            f"ONNX Runtime could not initialize {provider} for '{model_file}' and fell back to {', '.join(used)}",
            hint=f"check the drivers and libraries that {provider} needs (see onnxruntime's log above)",
        )
    return session


class OnnxSession:
    """An :class:`olive_core.models.InferenceSession` over ORT, checking every input it is given."""

    def __init__(self, session: onnxruntime.InferenceSession, model_file: Path, settings: SessionSettings) -> None:
        self._session = session
        self.model_file = model_file
        self.settings = settings
        self.provider = session.get_providers()[0]
        self._inputs = session.get_inputs()
        self.input_names = [i.name for i in self._inputs]
        self.output_names = [o.name for o in session.get_outputs()]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        feed = self._checked(inputs)
        from onnxruntime.capi.onnxruntime_pybind11_state import InvalidArgument

        try:
            return list(self._session.run(self.output_names, feed))
        except InvalidArgument as exc:
            raise DataError(
                f"model '{self.model_file}' rejected its inputs: {str(exc).strip().splitlines()[0]}",
                hint="check the data config's pre-processing against the model's inputs",
            ) from exc

    def _checked(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        import numpy as np

        where = f"model '{self.model_file}'"
        unknown = [name for name in inputs if name not in self.input_names]
        if unknown:
            raise DataError(
                f"input '{unknown[0]}' is not an input of {where}; its inputs are {', '.join(self.input_names)}",
                hint="rename or drop that field in the data config's pre-processing",
            )
        missing = [name for name in self.input_names if name not in inputs]
        if missing:
            raise DataError(
                f"input '{missing[0]}' of {where} was not given; given: {', '.join(inputs) or 'nothing'}",
                hint="produce every model input in the data config's pre-processing",
            )
        feed = {}
        for spec in self._inputs:
            value = np.asarray(inputs[spec.name])
            expected_dtype = _ORT_TYPES.get(spec.type)
            if (
                expected_dtype is not None
                and value.dtype.name != expected_dtype
                and not (expected_dtype == "object" and value.dtype.kind in "OUS")
            ):
                raise DataError(
                    f"input '{spec.name}' of {where} expects dtype {expected_dtype}, given {value.dtype.name} "
                    f"(shape {list(value.shape)})",
                    hint=f"cast it with .astype('{expected_dtype}') in the data config's pre-processing",
                )
            shape = list(spec.shape or [])
            fixed_mismatch = any(isinstance(e, int) and e != g for e, g in zip(shape, value.shape, strict=False))
            if spec.shape is not None and (len(shape) != value.ndim or fixed_mismatch):
                raise DataError(
                    f"input '{spec.name}' of {where} expects shape {shape} (rank {len(shape)}), "
                    f"given shape {list(value.shape)} (rank {value.ndim})",
                    hint="batch the samples so that each input has the model's shape",
                )
            feed[spec.name] = value
        return feed


def create_session(handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]) -> OnnxSession:
    """A session for ``handle`` on ``accelerator``, with tuned and explicit settings merged."""
    model_file = resolve_model_file(handle.path)
    merged = effective_settings(handle, settings)
    provider = resolve_execution_provider(accelerator)
    return OnnxSession(open_session(model_file, provider, merged), model_file, merged)
