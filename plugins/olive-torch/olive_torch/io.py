"""Io configs and dummy inputs: derived from a model's config and task, overridable in the workflow.

``hf_io_config`` reads only the HF ``config.json`` contents, so a handle gets its io config
without importing transformers. ``dummy_inputs`` makes the example tensors that exporters trace
and that conversion checks compare on; they are seeded, so a pass using them stays a pure
function of its input.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import ConfigError, ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.models.io_config import IoConfig

from olive_torch.hf_config import read_hf_config
from olive_torch.tasks import BATCH_AXIS, SEQUENCE_AXIS, TASKS

if TYPE_CHECKING:
    import torch

#: where a workflow writes a model's io config, for error messages
IO_CONFIG_FIELD = "input_model.config.io_config"

DEFAULT_BATCH_SIZE = 2
DEFAULT_SEQUENCE_LENGTH = 8


def hf_input_names(hf_config: dict[str, Any]) -> list[str]:
    """The text inputs a model takes: token types only where the model has more than one."""
    names = ["input_ids", "attention_mask"]
    if int(hf_config.get("type_vocab_size") or 0) > 1:
        names.append("token_type_ids")
    return names


def hf_io_config(
    hf_config: dict[str, Any],
    task: str,
    batch_size: int = DEFAULT_BATCH_SIZE,
    sequence_length: int = DEFAULT_SEQUENCE_LENGTH,
    override: IoConfig | None = None,
) -> IoConfig:
    """The io config of a text model for ``task``; an ``override`` wins, missing shapes are filled."""
    if override is not None:
        count = len(override.input_names)
        return override.model_copy(
            update={
                "input_shapes": override.input_shapes or [[batch_size, sequence_length]] * count,
                "input_types": override.input_types or ["int64"] * count,
            }
        )
    names = hf_input_names(hf_config)
    outputs = TASKS[task].outputs
    per_token = {0: BATCH_AXIS, 1: SEQUENCE_AXIS}
    return IoConfig(
        input_names=names,
        input_shapes=[[batch_size, sequence_length] for _ in names],
        input_types=["int64" for _ in names],
        output_names=list(outputs),
        dynamic_axes={**{name: dict(per_token) for name in names}, **{k: dict(v) for k, v in outputs.items()}},
    )


def resolve_io_config(handle: ModelHandler) -> IoConfig:
    """The handle's io config, derived where the workflow did not give one."""
    if handle.io_config is not None:
        return handle.io_config
    if handle.type == "hf":
        return hf_io_config(read_hf_config(handle), handle.attributes.get("task", "feature-extraction"))
    if handle.attributes.get("model_format") == "exported_program":
        return exported_program_io_config(Path(handle.path))
    raise ConfigError(
        f"the io config of '{handle.path}' cannot be derived from a {handle.type} model",
        path=IO_CONFIG_FIELD,
        hint="give io_config with input_names, input_shapes, input_types and output_names",
    )


def exported_program_io_config(path: Path) -> IoConfig:
    """Names, example shapes, dtypes and dynamic axes recorded in a ``torch.export`` file."""
    import torch

    try:
        program = torch.export.load(str(path))
    except Exception as exc:
        raise ModelLoadError(f"'{path}' cannot be read as a torch.export program: {exc}") from exc
    signature = program.graph_signature
    placeholders = {node.name: node for node in program.graph.nodes if node.op == "placeholder"}
    names = list(signature.user_inputs)
    shapes, types, axes = [], [], {}
    for index, name in enumerate(names):
        value = placeholders[name].meta["val"]
        example = program.example_inputs[0][index] if program.example_inputs else None
        shapes.append(list(example.shape) if example is not None else [_size_hint(d) for d in value.shape])
        types.append(str(value.dtype).removeprefix("torch."))
        dynamic = {axis: _axis_name(name, axis) for axis, d in enumerate(value.shape) if not isinstance(d, int)}
        if dynamic:
            axes[name] = dynamic
    return IoConfig(
        input_names=names,
        input_shapes=shapes,
        input_types=types,
        output_names=list(signature.user_outputs),
        dynamic_axes=axes or None,
    )


def _size_hint(dim: Any) -> int:
    return dim if isinstance(dim, int) else int(getattr(dim.node, "hint", None) or 2)


def _axis_name(input_name: str, axis: int) -> str:
    return BATCH_AXIS if axis == 0 else f"{input_name}_dim{axis}"


def _is_batch_axis(name: str) -> bool:
    return "batch" in name.lower()


def _is_sequence_axis(name: str) -> bool:
    return "seq" in name.lower()


def dummy_inputs(
    handle: ModelHandler,
    batch_size: int | None = None,
    sequence_length: int | None = None,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Example inputs in io-config order; ``batch_size`` / ``sequence_length`` resize the dynamic
    axes whose names mention batch / seq. Attention masks pad the end of every row but the first,
    so that a traced graph keeps its masking."""
    import torch

    io_config = resolve_io_config(handle)
    if io_config.input_shapes is None:
        raise ConfigError(
            f"no input_shapes for '{handle.path}', so no example inputs can be made",
            path=f"{IO_CONFIG_FIELD}.input_shapes",
            hint="give one example shape per input, e.g. [[1, 3, 224, 224]]",
        )
    types = io_config.input_types or ["float32"] * len(io_config.input_names)
    generator = torch.Generator().manual_seed(seed)
    vocab_size = int(handle.attributes.get("vocab_size") or 1)
    inputs: dict[str, torch.Tensor] = {}
    for name, shape, type_name in zip(io_config.input_names, io_config.input_shapes, types):
        shape = list(shape)
        for axis, axis_name in (io_config.dynamic_axes or {}).get(name, {}).items():
            if batch_size is not None and _is_batch_axis(axis_name):
                shape[int(axis)] = batch_size
            elif sequence_length is not None and _is_sequence_axis(axis_name):
                shape[int(axis)] = sequence_length
        inputs[name] = _example_tensor(name, shape, torch_dtype(type_name), vocab_size, generator)
    return inputs


def _example_tensor(name: str, shape: list[int], dtype: torch.dtype, vocab_size: int, generator: Any) -> torch.Tensor:
    import torch

    if dtype.is_floating_point:
        return torch.randn(shape, generator=generator).to(dtype)
    if dtype == torch.bool:
        return torch.ones(shape, dtype=dtype)
    if name.endswith("attention_mask") and len(shape) == 2:
        mask = torch.ones(shape, dtype=dtype)
        for row in range(1, shape[0]):
            mask[row, shape[1] - min(row, shape[1] - 1) :] = 0
        return mask
    if name == "position_ids" and shape:
        return torch.arange(shape[-1], dtype=dtype).expand(shape).contiguous()
    if name == "input_ids":
        return torch.randint(0, max(vocab_size, 1), shape, generator=generator, dtype=dtype)
    return torch.zeros(shape, dtype=dtype)


def torch_dtype(type_name: str) -> torch.dtype:
    """The torch dtype of a numpy dtype name from an io config."""
    import torch

    dtype = getattr(torch, type_name, None)
    if not isinstance(dtype, torch.dtype):
        raise ConfigError(
            f"'{type_name}' is not a tensor dtype",
            path=f"{IO_CONFIG_FIELD}.input_types",
            hint="use numpy dtype names such as 'float32', 'int64' or 'bool'",
        )
    return dtype
