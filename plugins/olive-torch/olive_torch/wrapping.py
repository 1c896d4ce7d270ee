"""One calling convention for every model: tensors in io-config order in, a tuple of outputs out.

Exporters trace positional tensors and the runtime returns outputs by position, but HF models
take keyword arguments and return ``ModelOutput`` objects with extra fields (pooler output, the
key/value cache). The wrapper bridges the two, so the traced graph has exactly the inputs and
outputs the io config names.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from olive_core.errors import ConfigError
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
