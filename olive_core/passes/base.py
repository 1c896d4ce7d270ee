"""Pass: a named, versioned, pure transformation of a model."""

from __future__ import annotations

import inspect
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from olive_core.accelerators import AcceleratorSpec
from olive_core.bounds import STRICT_CONFIG
from olive_core.errors import ConfigError, IncompatibleModelError
from olive_core.models.handler import ModelHandler


class PassConfig(BaseModel):
    """Base of every pass config: static, strict, every field described."""

    model_config = STRICT_CONFIG


@dataclass
class PassRecords:
    """JSON facts a pass learns once per (model, data) and reuses across trials and runs, kept in
    the run's cache (e.g. a per-node sensitivity ranking). Plain data: nothing is unpickled."""

    get_record: Callable[[str, str], dict[str, Any] | None]
    put_record: Callable[[str, str, dict[str, Any]], None]
    namespace: str

    def get(self, key: str) -> dict[str, Any] | None:
        return self.get_record(self.namespace, key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.put_record(self.namespace, key, value)


@dataclass
class PassContext:
    """What a running pass may use besides its input model and config."""

    accelerator: AcceleratorSpec
    step: str = ""
    #: ``data(name)`` returns the named data config's batches (for calibration)
    data: Callable[[str], Iterable[dict[str, Any]]] | None = None
    #: the workflow's runtime settings (threads, provider options), for passes that run the model
    runtime_settings: dict[str, Any] = field(default_factory=dict)
    #: facts the pass reports about its work (fused-op counts, ...), kept in the lineage
    report: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    logger: logging.Logger = field(default_factory=lambda: logging.getLogger("olive_core.pass"))
    #: ``data_key(name)``: the content key of data config ``name``; None outside a workflow
    data_key: Callable[[str], str] | None = None
    #: the run cache's store of this pass type's learned facts; None outside a workflow
    records: PassRecords | None = None

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.logger.warning("%s: %s", self.step, message)

    def require_data(self, name: str | None, needed_by: str) -> Callable[[], Iterable[dict[str, Any]]]:
        """A reader of data config ``name``, or a ConfigError on the pass's ``data`` field when none
        is named or this run reads no data (a pass run outside a workflow). Call it in check_input
        to fail before anything runs; reading prepares the data, so call the reader in run."""
        if name is None:
            raise ConfigError(
                f"{needed_by} needs calibration data",
                path="data",
                hint="set 'data' to the name of an entry in the workflow's 'data'",
            )
        data = self.data
        if data is None:
            raise ConfigError(
                f"{needed_by} was given no way to read data config '{name}'",
                path="data",
                hint="run it in a workflow that defines that data config",
            )
        return lambda: data(name)


class Pass(ABC):
    """Subclass, set the class attributes, implement :meth:`run`.

    A pass must be a pure function of (input model, config, version): that is what makes the
    cache correct. Bump ``version`` whenever the output for the same input and config changes.
    Keep heavy imports (torch, onnx, onnxruntime) inside :meth:`run` so that listing and
    validating passes stays cheap.
    """

    Config: ClassVar[type[PassConfig]] = PassConfig
    version: ClassVar[str] = "1"
    #: model types this pass accepts
    input_types: ClassVar[tuple[str, ...]] = ()
    #: model type it produces; None for a pass whose output keeps its input's type
    output_type: ClassVar[str | None] = ""
    #: devices it supports (checked at validation, before anything runs); empty means any
    devices: ClassVar[tuple[str, ...]] = ()
    #: execution providers it supports, e.g. ("QNNExecutionProvider",); empty means any
    providers: ClassVar[tuple[str, ...]] = ()
    #: what its input model must be, in words (`olive passes` shows it; check_input enforces it)
    input_constraints: ClassVar[tuple[str, ...]] = ()
    #: config fields that name a workflow data config (calibration, training): the data's
    #: content enters the output's cache key, and validation checks the name exists
    data_fields: ClassVar[tuple[str, ...]] = ("data",)

    @classmethod
    def description(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ")

    @classmethod
    def output_type_for(cls, input_type: str) -> str:
        """The type of the model this pass makes from a model of ``input_type``."""
        return input_type if cls.output_type is None else cls.output_type

    @classmethod
    def data_names(cls, config: PassConfig) -> dict[str, str]:
        """The data configs ``config`` names: field -> data name."""
        names = {field: getattr(config, field, None) for field in cls.data_fields}
        return {field: name for field, name in names.items() if isinstance(name, str)}

    def check_input(self, model: ModelHandler, config: PassConfig, context: PassContext) -> None:
        """Refuse a model this pass cannot work on, before any work is done.

        The default checks the model type; passes add checks such as "already quantized".
        """
        if self.input_types and model.type not in self.input_types:
            raise IncompatibleModelError(
                f"{type(self).__name__} takes {' or '.join(self.input_types)} models, "
                f"but got a '{model.type}' model",
                hint="put a pass that produces one of those types before it",
            )
        if self.devices and context.accelerator.device not in self.devices:
            raise IncompatibleModelError(
                f"{type(self).__name__} runs on {', '.join(self.devices)}, "
                f"not on '{context.accelerator.device}'"
            )
        if self.providers and context.accelerator.execution_provider not in self.providers:
            raise IncompatibleModelError(
                f"{type(self).__name__} needs {' or '.join(self.providers)}, "
                f"not {context.accelerator.execution_provider}"
            )

    @abstractmethod
    def run(self, model: ModelHandler, config: PassConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        """Transform ``model`` and write the result under ``output_dir`` (an empty folder that
        becomes the cached artifact); return the handle of the new model."""
