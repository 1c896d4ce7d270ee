"""ONNX Runtime session settings: what can be set, and whose value wins.

From weakest to strongest:

1. ONNX Runtime's own defaults;
2. the settings :class:`~olive_onnx.passes.session_tuning.OnnxSessionTuning` measured best for
   this model, stored in ``handle.attributes["session_options"]``;
3. the settings the workflow writes explicitly (``runtime.intra_op_num_threads``,
   ``runtime.options``), key by key.

Explicit settings win because they state a constraint of the target (threads a service may
use, a provider option an NPU needs) and they apply to every model a run compares; letting a
tuned value override them would measure candidates under different rules. A tuned value that is
overridden is logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from olive_core.errors import ConfigError

if TYPE_CHECKING:
    import onnxruntime

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


def parse_settings(raw: dict[str, Any], source: str, path: str) -> SessionSettings:
    """Validate one settings dict; ``source`` and ``path`` say where it came from, for the message."""
    try:
        return SessionSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(
            f"ONNX Runtime setting '{field}' from {source}: {first['msg']}",
            path=f"{path}.{field}",
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
    explicit = parse_settings(
        {k: v for k, v in settings.items() if k in KNOWN_SETTINGS}, "the workflow's runtime section", "runtime"
    )
    tuned = parse_settings(
        dict(handle.attributes.get(TUNED_ATTRIBUTE) or {}),
        f"the tuned settings of '{handle.path}'",
        f"attributes.{TUNED_ATTRIBUTE}",
    )
    merged = tuned.explicit()
    for key, value in explicit.explicit().items():
        if key in merged and merged[key] != value:
            logger.info("runtime setting %s=%r overrides the tuned %r for '%s'", key, value, merged[key], handle.path)
        merged[key] = {**merged[key], **value} if isinstance(value, dict) and key in merged else value
    return SessionSettings.model_validate(merged)


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
