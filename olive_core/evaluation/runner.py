"""Run batches through an inference session: fit them to its inputs, run, post-process.

Data that does not fit is reported before running, naming the input and the shapes, because a
runtime's own message ("invalid dimensions for input 3") rarely says which data field is wrong.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from olive_core.config.resolved import ResolvedComponent
from olive_core.errors import DataError, OliveError
from olive_core.evaluation.batching import describe_array, describe_batch
from olive_core.evaluation.data import Batch, DataContext
from olive_core.models.handler import ModelHandler
from olive_core.models.io_config import IoConfig
from olive_core.models.model_type import InferenceSession

logger = logging.getLogger(__name__)


def model_label(model: ModelHandler) -> str:
    return f"{model.type} model '{model.path}'"


def expected_inputs(io_config: IoConfig | None) -> str:
    """``x float32[batch, 4]``: what the model takes, as far as its io_config says."""
    if io_config is None:
        return "(the model has no io_config)"
    parts = []
    for index, name in enumerate(io_config.input_names):
        dtype = io_config.input_types[index] if io_config.input_types else "?"
        shape = _symbolic_shape(io_config, index)
        parts.append(f"{name} {dtype}[{', '.join(shape)}]" if shape is not None else f"{name} {dtype}")
    return ", ".join(parts)


def _symbolic_shape(io_config: IoConfig, index: int) -> list[str] | None:
    if not io_config.input_shapes:
        return None
    dynamic = (io_config.dynamic_axes or {}).get(io_config.input_names[index], {})
    return [str(dynamic.get(axis, dim)) for axis, dim in enumerate(io_config.input_shapes[index])]


def fit_inputs(batch: Batch, session: InferenceSession, model: ModelHandler, data_name: str) -> Batch:
    """The session's inputs taken from ``batch``: extra fields dropped, dtypes cast within a kind.

    Raises :class:`DataError` naming the input for a missing field, a dtype of another kind
    (floats for token ids) or, where the io_config says so, a wrong rank or fixed dimension.
    """
    io_config = model.io_config
    missing = [name for name in session.input_names if name not in batch]
    if missing:
        raise DataError(
            f"data '{data_name}' does not fit {model_label(model)}: input '{missing[0]}' is missing; "
            f"the batch has {describe_batch(batch)}; the model takes {expected_inputs(io_config)}",
            hint=f"add a pre-processing step that produces '{missing[0]}', or rename the data's field",
        )
    extra = sorted(set(batch) - set(session.input_names))
    if extra:
        logger.debug("data '%s': fields %s are not inputs of the model; dropped", data_name, ", ".join(extra))
    return {name: _fit_one(name, batch[name], io_config, model, data_name) for name in session.input_names}


def _fit_one(name: str, array: np.ndarray, io_config: IoConfig | None, model: ModelHandler, data_name: str) -> np.ndarray:
    if io_config is None or name not in io_config.input_names:
        return array
    index = io_config.input_names.index(name)

    def mismatch(what: str, hint: str) -> DataError:
        return DataError(
            f"data '{data_name}' does not fit {model_label(model)}: input '{name}' is {describe_array(array)} "
            f"but {what}; the model takes {expected_inputs(io_config)}",
            hint=hint,
        )

    if io_config.input_types:
        wanted = np.dtype(io_config.input_types[index])
        if array.dtype != wanted:
            if not _castable(array.dtype, wanted):
                raise mismatch(f"the model expects {wanted}", f"produce '{name}' as {wanted} in a pre-processing step")
            array = array.astype(wanted)
    shape = _symbolic_shape(io_config, index)
    if shape is not None:
        if array.ndim != len(shape):
            raise mismatch(f"the model expects rank {len(shape)}", "check the data's shape; batching adds the first axis")
        # Fixed sizes are checked only where the io_config lists this input's dynamic axes: an
        # input without an entry may have example shapes only, and the runtime still checks them.
        if io_config.dynamic_axes is not None and name in io_config.dynamic_axes:
            fixed = [(axis, int(dim)) for axis, dim in enumerate(shape) if dim.lstrip("-").isdigit()]
            for axis, dim in fixed:
                if array.shape[axis] != dim:
                    raise mismatch(f"axis {axis} must be {dim}", f"resize or pad '{name}' to {dim} on axis {axis}")
    return array


def _castable(source: np.dtype, target: np.dtype) -> bool:
    """Casts that keep meaning: int to wider or narrower int, int/bool to float, float to float."""
    if source.kind in "iub" and target.kind in "iu":
        return True
    if source.kind in "iubf" and target.kind == "f":
        return True
    return source.kind == target.kind


def run_batch(session: InferenceSession, inputs: Batch, model: ModelHandler, data_name: str, index: int) -> dict[str, np.ndarray]:
    """Run one batch; a runtime failure becomes a DataError that shows the inputs given."""
    try:
        outputs = session.run(inputs)
    except OliveError:
        raise
    except Exception as exc:
        raise DataError(
            f"{model_label(model)} failed on batch {index} of data '{data_name}': {type(exc).__name__}: {exc}; "
            f"inputs given: {describe_batch(inputs)}; the model takes {expected_inputs(model.io_config)}",
            hint="check that the data's shapes and dtypes match the model's inputs",
        ) from exc
    names = list(session.output_names)
    if len(names) != len(outputs):
        names = names[: len(outputs)] + [f"output_{i}" for i in range(len(names), len(outputs))]
    return {name: np.asarray(value) for name, value in zip(names, outputs)}


def postprocess(
    outputs: dict[str, np.ndarray], batch: Batch, steps: list[ResolvedComponent], context: DataContext
) -> dict[str, np.ndarray]:
    """Apply the data config's post-processing steps to one batch's outputs."""
    for index, step in enumerate(steps):
        try:
            outputs = step.cls()((outputs, batch), step.config, context)
        except OliveError:
            raise
        except Exception as exc:
            raise DataError(
                f"data.{context.name}.postprocess.{index} ('{step.type}') failed: {type(exc).__name__}: {exc}; "
                f"outputs: {describe_batch(outputs)}"
            ) from exc
    return outputs


def run_all(
    session: InferenceSession, batches: list[Batch], model: ModelHandler, steps: list[ResolvedComponent], context: DataContext
) -> list[dict[str, Any]]:
    """Post-processed outputs of every batch."""
    results = []
    for index, batch in enumerate(batches):
        raw = run_batch(session, fit_inputs(batch, session, model, context.name), model, context.name, index)
        results.append(postprocess(raw, batch, steps, context))
    return results
