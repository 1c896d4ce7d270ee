"""What every ONNX pass does the same way: read the input, derive the output handle, name failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import OliveError, PassError
from olive_core.models import ModelHandler

from olive_onnx.files import external_data_files, read_model_proto, resolve_model_file
from olive_onnx.settings import TUNED_ATTRIBUTE

if TYPE_CHECKING:
    import onnx


def read_graph(model: ModelHandler) -> tuple[Path, onnx.ModelProto]:
    """The input's .onnx file and its graph without weights (for checks that must stay cheap).

    The external data locations are checked here because ORT's tools, given the file, load the
    external data themselves.
    """
    model_file = resolve_model_file(model.path).resolve()
    graph = read_model_proto(model_file)
    external_data_files(model_file, graph)
    return model_file, graph


def derive_output(model: ModelHandler, model_file: Path, **changes: Any) -> ModelHandler:
    """The handle of a new model written by a pass, carrying the input's files and attributes.

    The input's external data files are not carried: they belong to the input's graph (the new
    model's own are found from its graph). Session settings tuned for the input graph are
    dropped: they were measured on another graph (put OnnxSessionTuning after the passes that
    change the model).
    """
    output = model.derive(type="onnx", path=str(model_file), **changes)
    if model.type == "onnx" and "files" not in changes:
        own_data = {path.resolve() for path in external_data_files(resolve_model_file(model.path))}
        output.files = [f for f in output.files if Path(f).resolve() not in own_data]
    output.attributes.pop(TUNED_ATTRIBUTE, None)
    return output


def pass_failure(pass_name: str, exc: BaseException, hint: str | None = None) -> OliveError:
    """An ORT tool's exception as a PassError naming the pass; olive errors pass through unchanged."""
    if isinstance(exc, OliveError):
        return exc
    reason = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else 'no message'}"
    return PassError(pass_name, reason, hint=hint)


@contextmanager
def quiet_logger(*names: str) -> Iterator[None]:
    """Raise chatty library loggers to WARNING during a call (ORT's quantizers log every node)."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(max(logger.level, logging.WARNING))
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


class _AdviceToDebug(logging.Filter):
    """Turn ORT's generic advice, logged on the root logger, into debug records of ours."""

    ADVICE = ("Please consider", "Please use QuantFormat")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith(self.ADVICE):
            logging.getLogger("olive_onnx.ort").debug("%s", record.getMessage())
            return False
        return True


@contextmanager
def ort_advice_as_debug() -> Iterator[None]:
    """ORT's quantizers print advice on every call through the root logger; keep it out of the
    user's terminal (it is generic and the passes already follow it or let the user choose)."""
    advice = _AdviceToDebug()
    root = logging.getLogger()
    root.addFilter(advice)
    try:
        yield
    finally:
        root.removeFilter(advice)
