"""OnnxConversion: export an `hf` or `pytorch` model to ONNX, then prove the export right.

The export is checked with ONNX Runtime against PyTorch on several input shapes: a traced graph
can silently bake in a batch size, a sequence length or a data-dependent branch, and only running
it at other shapes shows that.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from olive_core.errors import IncompatibleModelError, OliveError, PassError
from olive_core.models.handler import ModelHandler
from olive_core.models.io_config import IoConfig
from olive_core.passes import Pass, PassConfig, PassContext

if TYPE_CHECKING:
    import numpy as np
    import torch

Exporter = Literal["torchscript", "dynamo"]
PASS_NAME = "OnnxConversion"


#: a batch size or sequence length of the export check
CheckSize = Annotated[int, Field(ge=1, le=4096)]


class OnnxConversionConfig(PassConfig):
    exporter: Exporter = Field(
        default="torchscript",
        description="'torchscript' (torch.jit tracing; the graph ONNX Runtime's transformer optimizer fuses "
        "best) or 'dynamo' (torch.export; handles more Python control flow)",
    )
    target_opset: int = Field(default=17, ge=7, le=30, description="ONNX opset of the exported model")
    attn_implementation: str | None = Field(
        default="eager",
        description="attention implementation to load hf models with, unless their load_kwargs set one; "
        "'eager' lets ONNX Runtime fuse Attention after a TorchScript export; null keeps the model's default",
    )
    use_external_data: bool | None = Field(
        default=None,
        description="store weights in model.onnx.data beside model.onnx; null: only when the weights "
        "approach protobuf's 2 GiB limit",
    )
    atol: float = Field(default=1e-4, ge=0, description="absolute tolerance of the ONNX Runtime vs PyTorch check")
    rtol: float = Field(default=1e-3, ge=0, description="relative tolerance of the ONNX Runtime vs PyTorch check")
    check_shapes: list[tuple[CheckSize, CheckSize]] = Field(
        default_factory=lambda: [(1, 8), (2, 16)],
        min_length=1,
        description="(batch size, sequence length) pairs the exported model is checked on; "
        "they resize the io config's dynamic batch and sequence axes",
    )


class OnnxConversion(Pass):
    """Export an `hf` or `pytorch` model to ONNX and check it against PyTorch with ONNX Runtime.

    Writes model.onnx (and model.onnx.data for large models) plus the model's config and
    tokenizer files; reports the exporter, the opset and the largest difference found.
    """

    Config = OnnxConversionConfig
    version = "1"
    input_types = ("hf", "pytorch")
    output_type = "onnx"

    def check_input(self, model: ModelHandler, config: OnnxConversionConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        from olive_torch.api import quantization_of

        quantization = quantization_of(model)
        if quantization:
            library = quantization.get("library", "unknown")
            raise IncompatibleModelError(
                f"{PASS_NAME} exports float models, and this one is {library}-quantized: the exporters "
                "stop at torchao's quantized tensors or turn them back into float weights",
                hint="convert the float model, then quantize the ONNX model "
                "(OnnxDynamicQuantization, OnnxStaticQuantization, OnnxInt4WeightOnly)",
            )

    def run(self, model: ModelHandler, config: OnnxConversionConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        import torch

        from olive_onnx.files import MODEL_FILE_NAME
        from olive_torch.api import load_torch_model, resolve_io_config, wrap_for_io

        io_config = resolve_io_config(model)
        loaded = load_torch_model(_with_attention(model, config))
        module = wrap_for_io(loaded, model, io_config)
        example = _example_args(model, io_config)
        with torch.no_grad():
            module(*example)  # io mistakes surface here with their own message, not inside an exporter
        external = config.use_external_data if config.use_external_data is not None else _is_large(module)

        target = output_dir / MODEL_FILE_NAME
        with tempfile.TemporaryDirectory(dir=output_dir, prefix=".export-") as staging:
            exported = Path(staging) / MODEL_FILE_NAME
            _export(_exportable(loaded, model, io_config, example, config), example, exported, io_config, config)
            opset = _resave(exported, output_dir, external)

        io_config = _match_graph_inputs(target, io_config, context)
        max_diff = _check_against_torch(target, module, model, io_config, config)
        files = [str(f) for f in sorted(output_dir.glob(f"{MODEL_FILE_NAME}.data"))]
        files += [str(f) for f in _copy_support_files(model, output_dir, context)]

        if opset != config.target_opset:
            context.warn(f"the {config.exporter} exporter wrote opset {opset}, not the requested {config.target_opset}")
        context.report.update(
            {"exporter": config.exporter, "opset": opset, "max_abs_diff": max_diff, "external_data": external}
        )
        return model.derive(type="onnx", path=str(target), files=files, io_config=io_config)


# -- loading ------------------------------------------------------------------------------------


def _with_attention(model: ModelHandler, config: OnnxConversionConfig) -> ModelHandler:
    """The handle to load from: an hf model gets the configured attention unless it chose one."""
    load_kwargs = dict(model.attributes.get("load_kwargs") or {})
    if model.type != "hf" or config.attn_implementation is None or "attn_implementation" in load_kwargs:
        return model
    return model.derive(attributes={"load_kwargs": {**load_kwargs, "attn_implementation": config.attn_implementation}})


def _example_args(model: ModelHandler, io_config: IoConfig) -> tuple[torch.Tensor, ...]:
    from olive_torch.api import dummy_inputs

    inputs = dummy_inputs(model)
    return tuple(inputs[name] for name in io_config.input_names)


def _exportable(
    loaded: torch.nn.Module,
    model: ModelHandler,
    io_config: IoConfig,
    example: tuple[Any, ...],
    config: OnnxConversionConfig,
) -> torch.nn.Module:
    """The module the exporter traces; a TorchScript model is prepared for it (see wrap_for_export)."""
    from olive_torch.api import wrap_for_export

    try:
        return wrap_for_export(loaded, model, io_config, example, config.exporter)
    except IncompatibleModelError as exc:
        reason = f"the {config.exporter} exporter cannot convert this model: {exc.message}"
        raise PassError(PASS_NAME, reason, hint=exc.hint) from exc


def _is_large(module: torch.nn.Module) -> bool:
    from olive_onnx.files import EXTERNAL_DATA_THRESHOLD

    tensors = [*module.parameters(), *module.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors) > EXTERNAL_DATA_THRESHOLD


# -- export -------------------------------------------------------------------------------------


def _export(module: torch.nn.Module, example: tuple[Any, ...], target: Path, io_config: IoConfig, config: OnnxConversionConfig) -> None:
    import torch

    names = [*io_config.input_names, *io_config.output_names]
    common = {
        "input_names": list(io_config.input_names),
        "output_names": list(io_config.output_names),
        "opset_version": config.target_opset,
        "verbose": False,  # dynamo prints its progress otherwise
    }
    try:
        with _quiet():
            if config.exporter == "torchscript":
                axes = {name: axes for name, axes in (io_config.dynamic_axes or {}).items() if name in names}
                torch.onnx.export(module, example, str(target), dynamic_axes=axes or None, dynamo=False, **common)
            else:
                torch.onnx.export(
                    module,
                    example,
                    str(target),
                    dynamic_shapes=_dynamic_shapes(io_config),
                    dynamo=True,
                    external_data=True,  # always a file pair here; _resave decides the final layout
                    **common,
                )
    except OliveError:
        raise
    except Exception as exc:
        raise export_failure(config.exporter, exc) from exc


def _dynamic_shapes(io_config: IoConfig) -> dict[str, tuple[dict[int, Any] | None, ...]] | None:
    """torch.export's form of the io config's dynamic axes; one Dim per axis name, shared by inputs."""
    import torch

    if not io_config.dynamic_axes:
        return None
    dims: dict[str, Any] = {}
    shapes = []
    for name in io_config.input_names:
        axes = io_config.dynamic_axes.get(name) or {}
        shapes.append(
            {int(axis): dims.setdefault(label, torch.export.Dim(re.sub(r"\W", "_", label))) for axis, label in axes.items()}
            or None
        )
    # The wrapper takes ``*args``: torch.export wants their shapes under that name.
    return {"args": tuple(shapes)}


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Exporters warn about tracing and their own deprecations; none of it is the user's to act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


_OP_PATTERNS = (
    re.compile(r"Exporting the operator '([^']+)'"),
    re.compile(r"No ONNX function found for <OpOverload\(op='([^']+)'"),
    re.compile(r"target=torch\.ops\.([\w.]+)"),
    re.compile(r"Error when translating node %(\w+)"),
)
_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\w+)')


def export_failure(exporter: str, exc: BaseException) -> PassError:
    """A PassError that names the op (or code) the exporter choked on and suggests the other exporter."""
    text = "\n".join(_exception_texts(exc))
    other = "dynamo" if exporter == "torchscript" else "torchscript"
    op = next((match.group(1) for pattern in _OP_PATTERNS if (match := pattern.search(text))), None)
    frames = [m for m in _FRAME.finditer(text) if "/torch/" not in m.group(1) and "/olive_" not in m.group(1)]
    where = f" in {frames[-1].group(3)}() at {Path(frames[-1].group(1)).name}:{frames[-1].group(2)}" if frames else ""
    if op is not None:
        reason = f"the {exporter} exporter cannot convert operator '{op}'{where}"
    else:
        first = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        reason = f"the {exporter} exporter failed{where}: {type(exc).__name__}: {first[:300]}"
    hint = f"try exporter: {other}"
    if "opset version" in text:
        hint += ", or a higher target_opset"
    hint += "; or replace that operation in the model's code"
    return PassError(PASS_NAME, reason, hint=hint)


def _exception_texts(exc: BaseException) -> Iterator[str]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield f"{type(current).__name__}: {current}"
        current = current.__cause__ or current.__context__


def _resave(exported: Path, output_dir: Path, external: bool) -> int:
    """Write the export as output_dir/model.onnx (+ one model.onnx.data); return its opset."""
    import onnx

    from olive_onnx.files import save_model

    proto = onnx.load(str(exported))  # brings in whatever external files the exporter wrote
    save_model(proto, output_dir, external_data=external)
    return next((entry.version for entry in proto.opset_import if entry.domain in ("", "ai.onnx")), 0)


# -- checking -----------------------------------------------------------------------------------


def _match_graph_inputs(target: Path, io_config: IoConfig, context: PassContext) -> IoConfig:
    """Exporters drop inputs the model never reads: the io config must list what the graph takes."""
    import onnx

    graph_inputs = {value.name for value in onnx.load(str(target), load_external_data=False).graph.input}
    kept = [index for index, name in enumerate(io_config.input_names) if name in graph_inputs]
    if len(kept) == len(io_config.input_names):
        return io_config
    dropped = [name for name in io_config.input_names if name not in graph_inputs]
    context.warn(f"the exported graph does not use input(s) {', '.join(dropped)}; they are not model inputs")

    def pick(values: list[Any] | None) -> list[Any] | None:
        return None if values is None else [values[index] for index in kept]

    axes = {k: v for k, v in (io_config.dynamic_axes or {}).items() if k not in dropped} or None
    return io_config.model_copy(
        update={
            "input_names": pick(io_config.input_names),
            "input_shapes": pick(io_config.input_shapes),
            "input_types": pick(io_config.input_types),
            "dynamic_axes": axes,
        }
    )


def _check_against_torch(
    target: Path, module: torch.nn.Module, model: ModelHandler, io_config: IoConfig, config: OnnxConversionConfig
) -> float:
    """Run ONNX Runtime and PyTorch on every check shape; return the largest absolute difference."""
    import numpy as np
    import onnxruntime
    import torch

    from olive_torch.api import dummy_inputs

    try:
        session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    except Exception as exc:
        other = "dynamo" if config.exporter == "torchscript" else "torchscript"
        raise PassError(
            PASS_NAME,
            f"ONNX Runtime cannot load the exported model: {str(exc).strip().splitlines()[0]}",
            hint=f"try exporter: {other}, or another target_opset",
        ) from exc
    graph_inputs = {value.name for value in session.get_inputs()}
    largest = 0.0
    seen: set[tuple[tuple[int, ...], ...]] = set()
    for seed, (batch_size, sequence_length) in enumerate(config.check_shapes, start=1):
        inputs = dummy_inputs(model, batch_size=batch_size, sequence_length=sequence_length, seed=seed)
        shapes = tuple(tuple(t.shape) for t in inputs.values())
        if shapes in seen:  # a model without dynamic axes has one shape only
            continue
        seen.add(shapes)
        with torch.inference_mode():
            expected = [t.detach().float().numpy() for t in module(*inputs.values())]
        feed = {name: tensor.numpy() for name, tensor in inputs.items() if name in graph_inputs}
        actual = session.run(list(io_config.output_names), feed)
        for name, want, got in zip(io_config.output_names, expected, actual):
            largest = max(largest, _compare(name, want, np.asarray(got, dtype=np.float32), shapes, config))
    return largest


def _compare(name: str, want: np.ndarray, got: np.ndarray, shapes: tuple[Any, ...], config: OnnxConversionConfig) -> float:
    import numpy as np

    if want.shape != got.shape:
        raise PassError(
            PASS_NAME,
            f"output '{name}' has shape {list(got.shape)} in ONNX Runtime but {list(want.shape)} in PyTorch "
            f"for input shapes {[list(s) for s in shapes]}: the export fixed a dimension that should be dynamic",
            hint="declare the dimension in io_config.dynamic_axes, or try the other exporter",
        )
    diff = float(np.max(np.abs(want - got))) if want.size else 0.0
    if not np.allclose(got, want, atol=config.atol, rtol=config.rtol):
        raise PassError(
            PASS_NAME,
            f"output '{name}' of the ONNX model differs from PyTorch by up to {diff:.3g} "
            f"(atol {config.atol}, rtol {config.rtol}) for input shapes {[list(s) for s in shapes]}",
            hint="try the other exporter; raise atol/rtol only if such a difference is acceptable",
        )
    return diff


# -- support files ------------------------------------------------------------------------------


def _copy_support_files(model: ModelHandler, output_dir: Path, context: PassContext) -> list[Path]:
    """Config, tokenizer and pooling files, plus the input's own extra files, beside model.onnx.

    Extra files come from the handle, which may come from a cache record someone else wrote:
    only those inside the model's folder are copied.
    """
    from olive_torch.api import escaping_links, hf_support_files, is_inside, model_folder

    sources: list[Path] = hf_support_files(model) if model.type == "hf" else []
    folder = model_folder(model) if not model.attributes.get("hub_id") else None
    for file in map(Path, model.files):
        if folder is not None and is_inside(file, folder) and not (file.is_dir() and escaping_links(file, folder)):
            sources.append(file)
        else:
            context.warn(f"'{file}' is listed with the model but lies outside its folder: not copied")
    copied: list[Path] = []
    for source in sources:
        destination = output_dir / source.name
        if destination.exists() or not source.exists():
            continue
        if source.is_dir():
            shutil.copytree(source, destination)
        else:
            shutil.copy2(source, destination)
        copied.append(destination)
    return copied
