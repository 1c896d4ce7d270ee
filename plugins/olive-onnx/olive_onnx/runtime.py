"""ONNX Runtime sessions for olive: one execution provider, merged settings, checked inputs.

onnxruntime is imported inside the functions: the model type imports this module lazily, but
passes and tests may import it cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import DataError, ModelLoadError

from olive_onnx.accelerators import resolve_execution_provider
from olive_onnx.plugin_eps import plugin_ep_devices
from olive_onnx.files import external_data_files, resolve_model_file
from olive_onnx.settings import SessionSettings, effective_settings, session_options

if TYPE_CHECKING:
    import numpy as np
    import onnxruntime

    from olive_core.accelerators import AcceleratorSpec
    from olive_core.models import ModelHandler

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


def open_session(
    model_file: Path,
    accelerator: AcceleratorSpec,
    settings: SessionSettings,
    options: onnxruntime.SessionOptions | None = None,
    disabled_optimizers: Sequence[str] = (),
    config_entries: dict[str, str] | None = None,
) -> onnxruntime.InferenceSession:
    """An ORT session on exactly the accelerator's provider (a built-in one, or a plugin EP
    registered from its library), with its options and session config (``config_entries``
    override the provider's, e.g. to measure what falls back to the CPU); an error if ORT could
    not use it."""
    import onnxruntime

    external_data_files(model_file)  # never let ORT read data from outside the model's folder
    provider = resolve_execution_provider(accelerator)
    options = accelerator_session_options(accelerator, settings, options, config_entries)
    extra: dict[str, Any] = {"disabled_optimizers": list(disabled_optimizers)} if disabled_optimizers else {}
    if accelerator.library is None:
        provider_options = {**accelerator.options(), **settings.provider_options}
        extra["providers"] = [(provider, provider_options)] if provider_options else [provider]
    try:
        session = onnxruntime.InferenceSession(str(model_file), sess_options=options, **extra)
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


def accelerator_session_options(
    accelerator: AcceleratorSpec,
    settings: SessionSettings,
    options: onnxruntime.SessionOptions | None = None,
    config_entries: dict[str, str] | None = None,
) -> onnxruntime.SessionOptions:
    """``options`` (by default those of ``settings``) with the accelerator's session config entries
    (``config_entries`` override them) and, for a plugin EP (an accelerator with a ``library``), its
    provider added for its devices with the accelerator's and the settings' provider options.

    A built-in provider is not added here: ORT takes it as the session's ``providers``
    (:func:`open_session` does that). What runs a plugin EP without a session (ORT's
    ``ModelCompiler``) takes these options as they are.
    """
    provider = resolve_execution_provider(accelerator)
    options = options if options is not None else session_options(settings)
    for key, value in {**accelerator.config_entries(), **(config_entries or {})}.items():
        options.add_session_config_entry(key, value)
    if accelerator.library is not None:
        provider_options = {**accelerator.options(), **settings.provider_options}
        options.add_provider_for_devices(plugin_ep_devices(provider, accelerator.library), provider_options)
    return options


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
    return OnnxSession(open_session(model_file, accelerator, merged), model_file, merged)
