"""Where an ONNX model's bytes live: the .onnx file, its external data files, and their safety.

An ONNX file may keep tensors in external files named by a ``location`` string inside the
model. A crafted model can point that string at any file on the machine (``/etc/passwd``,
``../../secrets``); loading it would read that file into a tensor. Every path that reads a model
here first checks that each location stays inside the model's own folder.

onnx is imported inside the functions: model types and passes import this module at load time.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterator
from pathlib import Path, PureWindowsPath
from typing import TYPE_CHECKING

from olive_core.errors import ModelLoadError

if TYPE_CHECKING:
    import onnx

MODEL_FILE_NAME = "model.onnx"
#: protobuf cannot serialize a model of 2 GiB or more; stay clear of it
EXTERNAL_DATA_THRESHOLD = 1_800_000_000


def resolve_model_file(path: str | Path) -> Path:
    """The .onnx file of a model path: the file itself, or the only .onnx file in a folder."""
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        candidates = sorted(p for p in path.glob("*.onnx") if p.is_file())
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise ModelLoadError(
                f"folder '{path}' holds no .onnx file",
                hint="point model_path at the .onnx file, or at a folder that holds exactly one",
            )
        names = ", ".join(c.name for c in candidates)
        raise ModelLoadError(
            f"folder '{path}' holds {len(candidates)} .onnx files ({names}); which one is the model is ambiguous",
            hint="point model_path at the .onnx file itself",
        )
    raise ModelLoadError(f"ONNX model '{path}' does not exist", hint="check model_path and the workflow's folder")


def read_model_proto(model_file: Path) -> onnx.ModelProto:
    """The model without its external data: cheap, and enough to inspect the graph.

    The file's size and top-level fields are checked first (:mod:`olive_onnx.sniff`), so a file
    that is not a model is refused by name without being read whole.
    """
    import onnx
    from google.protobuf.message import DecodeError

    from olive_onnx.sniff import check_model_bytes

    check_model_bytes(model_file)
    try:
        model = onnx.load(str(model_file), load_external_data=False)
    except (DecodeError, RuntimeError, ValueError, OSError) as exc:
        raise ModelLoadError(
            f"'{model_file}' is not a readable ONNX model ({type(exc).__name__}: {exc}); the file may be "
            "truncated or not an ONNX file",
            hint="re-export or re-download the model",
        ) from exc
    if model.ir_version <= 0 or not model.opset_import or not model.HasField("graph"):
        raise ModelLoadError(
            f"'{model_file}' is not an ONNX model: it has no IR version, opset or graph (an empty or garbage file)",
            hint="re-export or re-download the model",
        )
    return model


def iter_tensors(model: onnx.ModelProto) -> Iterator[onnx.TensorProto]:
    """Every tensor in the model: initializers and tensor attributes, subgraphs included."""
    yield from _graph_tensors(model.graph)


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        for attribute in node.attribute:
            if attribute.HasField("t"):
                yield attribute.t
            yield from attribute.tensors
            if attribute.HasField("g"):
                yield from _graph_tensors(attribute.g)
            for subgraph in attribute.graphs:
                yield from _graph_tensors(subgraph)


def external_locations(model: onnx.ModelProto) -> dict[str, str]:
    """External data location -> the name of the first tensor that uses it."""
    import onnx

    locations: dict[str, str] = {}
    for tensor in iter_tensors(model):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        location = next((entry.value for entry in tensor.external_data if entry.key == "location"), "")
        locations.setdefault(location, tensor.name)
    return locations


def check_external_location(model_file: Path, location: str, tensor: str) -> Path:
    """Return the data file of one location, or refuse a location that leaves the model's folder."""
    where = f"tensor '{tensor}' of '{model_file}'"
    fix = "re-save the model with its external data next to it (onnx.save_model(..., save_as_external_data=True))"
    if not location:
        raise ModelLoadError(f"{where} is stored externally but names no location", hint=fix)
    if os.path.isabs(location) or PureWindowsPath(location).is_absolute() or PureWindowsPath(location).drive:
        raise ModelLoadError(
            f"{where} keeps its data at the absolute path '{location}'; external data must sit inside "
            "the model's folder (a model must not read arbitrary files)",
            hint=fix,
        )
    normalized = posixpath.normpath(location.replace("\\", "/"))
    if normalized == ".." or normalized.startswith("../"):
        raise ModelLoadError(
            f"{where} keeps its data at '{location}', outside the model's folder; external data must "
            "sit inside that folder (a model must not read arbitrary files)",
            hint=fix,
        )
    data_file = model_file.parent / normalized
    if data_file.is_symlink():
        raise ModelLoadError(
            f"external data '{data_file}' of {where} is a symbolic link; onnx refuses to follow links "
            "for external data",
            hint=f"replace the link by a copy of the file (cp -L '{data_file}' ...)",
        )
    if not data_file.is_file():
        raise ModelLoadError(
            f"external data '{data_file}' of {where} does not exist",
            hint="copy the model together with its external data files",
        )
    return data_file


def external_data_files(model_file: Path, model: onnx.ModelProto | None = None) -> list[Path]:
    """The checked external data files of a model, sorted; reads the model if not given."""
    model = model if model is not None else read_model_proto(model_file)
    files = {check_external_location(model_file, loc, tensor) for loc, tensor in external_locations(model).items()}
    return sorted(files)


def load_model(path: str | Path) -> onnx.ModelProto:
    """The whole model, external data included, after the location check."""
    import onnx

    model_file = resolve_model_file(path)
    proto = read_model_proto(model_file)
    if external_data_files(model_file, proto):
        onnx.load_external_data_for_model(proto, str(model_file.parent))
    return proto


def model_size(path: str | Path) -> int:
    """Bytes of the model file plus its external data."""
    model_file = resolve_model_file(path)
    return sum(f.stat().st_size for f in [model_file, *external_data_files(model_file)])


def needs_external_data(path: str | Path) -> bool:
    """Whether a model derived from this one should be saved with external data (2 GiB limit)."""
    return model_size(path) > EXTERNAL_DATA_THRESHOLD


def save_model(model: onnx.ModelProto, output_dir: Path, external_data: bool | None = None) -> Path:
    """Write ``model`` as ``output_dir/model.onnx`` (+ ``model.onnx.data`` when large); return the file."""
    import onnx

    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / MODEL_FILE_NAME
    if external_data is None:
        external_data = model.ByteSize() > EXTERNAL_DATA_THRESHOLD
    if external_data:
        onnx.save_model(
            model,
            str(target),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=f"{MODEL_FILE_NAME}.data",
            size_threshold=1024,
        )
    else:
        onnx.save_model(model, str(target))
    return target
