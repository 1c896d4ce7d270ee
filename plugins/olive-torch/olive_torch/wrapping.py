"""One calling convention for every model: tensors in io-config order in, a tuple of outputs out.

Exporters trace positional tensors and the runtime returns outputs by position, but HF models
take keyword arguments and return ``ModelOutput`` objects with extra fields (pooler output, the
key/value cache). The wrapper bridges the two, so the traced graph has exactly the inputs and
outputs the io config names.

A TorchScript model needs one more step before an exporter sees it (:func:`wrap_for_export`):
the TorchScript exporter's tracer does not find a ScriptModule called from a Python module, and
torch.export cannot read TorchScript at all.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from olive_core.errors import ConfigError, IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.models.io_config import IoConfig

from olive_torch.io import IO_CONFIG_FIELD, resolve_io_config

if TYPE_CHECKING:
    import torch


def wrap_for_io(model: torch.nn.Module, handle: ModelHandler, io_config: IoConfig | None = None) -> torch.nn.Module:
    """``model`` called as ``wrapped(*tensors)`` in io-config order, returning the named outputs."""
    import torch

    io_config = io_config or resolve_io_config(handle)
    by_name = handle.type == "hf"
    parameters = forward_parameters(model)
    check_inputs(io_config, parameters, by_name, handle)
    extra = {"use_cache": False} if by_name and parameters is not None and "use_cache" in parameters else {}
    input_names, output_names = list(io_config.input_names), list(io_config.output_names)
    # torch.export modules refuse train()/eval(): they are already inference graphs.
    fixed_mode = isinstance(model, torch.fx.GraphModule)

    class IoModule(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *args: torch.Tensor) -> tuple[torch.Tensor, ...]:
            if by_name:
                output = self.model(**dict(zip(input_names, args)), **extra)
            else:
                output = self.model(*args)
            return select_outputs(output, output_names)

        def train(self, mode: bool = True) -> IoModule:
            self.training = mode
            if not fixed_mode:
                self.model.train(mode)
            return self

    return IoModule().eval()


def wrap_for_export(
    model: torch.nn.Module, handle: ModelHandler, io_config: IoConfig, example: tuple[Any, ...], exporter: str
) -> torch.nn.Module:
    """:func:`wrap_for_io`'s module in a form ``exporter`` (``torchscript`` or ``dynamo``) can trace.

    For a TorchScript model: the TorchScript exporter gets the wrapper traced by
    ``torch.jit.trace`` (which records the ScriptModule's call; the exporter then reads that
    graph as it is); torch.export gets the model converted to an fx graph by torch's
    TorchScript converter, which raises :class:`IncompatibleModelError` for what it cannot read.
    """
    import torch

    wrapped = wrap_for_io(model, handle, io_config)
    if not isinstance(model, torch.jit.ScriptModule):
        return wrapped
    if exporter == "torchscript":
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit's deprecation and tracer warnings: nothing a user can act on
            return torch.jit.trace(wrapped, example, check_trace=False, strict=False)
    try:
        from torch._export.converter import TS2EPConverter  # torch's own, not yet public

        with torch.no_grad():
            graph = TS2EPConverter(model, example).convert().module()
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise IncompatibleModelError(
            f"torch.export cannot read the TorchScript model '{handle.path}': torch's TorchScript converter "
            f"failed: {type(exc).__name__}: {first[:300]}",
            hint="use exporter: torchscript, which exports TorchScript as it is",
        ) from exc
    return wrap_for_io(graph, handle, io_config)


def forward_parameters(model: Any) -> list[str] | None:
    """Names of the explicit forward parameters, or None when it takes ``*args``/``**kwargs`` only."""
    try:
        schema = model.forward.schema  # TorchScript methods have a schema, not a signature
        return [argument.name for argument in schema.arguments[1:]]
    except AttributeError:
        pass
    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):
        return None
    explicit = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    variadic = any(p.kind is p.VAR_POSITIONAL for p in parameters)
    return None if variadic and not explicit else explicit


def check_inputs(io_config: IoConfig, parameters: list[str] | None, by_name: bool, handle: ModelHandler) -> None:
    """Refuse an io config whose inputs the model's forward cannot take, naming what it takes."""
    if parameters is None:
        return
    if by_name:
        unknown = [name for name in io_config.input_names if name not in parameters]
        if unknown:
            raise ConfigError(
                f"{type_name(handle)} '{handle.path}' takes no input named {', '.join(map(repr, unknown))}",
                path=f"{IO_CONFIG_FIELD}.input_names",
                hint=f"its forward takes: {', '.join(parameters[:12])}",
            )
    elif len(io_config.input_names) > len(parameters):
        raise ConfigError(
            f"io_config names {len(io_config.input_names)} inputs, but the forward of '{handle.path}' "
            f"takes {len(parameters)}: {', '.join(parameters)}",
            path=f"{IO_CONFIG_FIELD}.input_names",
            hint="list one name per forward argument, in call order",
        )


def type_name(handle: ModelHandler) -> str:
    return "the model" if handle.type != "hf" else f"the {handle.attributes.get('task', 'hf')} model"


def select_outputs(output: Any, names: list[str]) -> tuple[Any, ...]:
    """The outputs ``names`` asks for: by key from a mapping (``ModelOutput``), else by position."""
    if isinstance(output, Mapping):
        missing = [name for name in names if name not in output]
        if missing:
            raise ConfigError(
                f"the model returns no output named {', '.join(map(repr, missing))}",
                path=f"{IO_CONFIG_FIELD}.output_names",
                hint=f"it returns: {', '.join(str(key) for key in output.keys())}",
            )
        return tuple(output[name] for name in names)
    values = tuple(output) if isinstance(output, Sequence) and not hasattr(output, "shape") else (output,)
    if len(values) != len(names):
        raise ConfigError(
            f"the model returns {len(values)} output(s) but io_config names {len(names)}: {', '.join(names)}",
            path=f"{IO_CONFIG_FIELD}.output_names",
            hint="give one name per returned tensor",
        )
    return values
