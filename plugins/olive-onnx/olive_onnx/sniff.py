"""Is a file an ONNX ModelProto at all? Decided from its size and top-level fields, before parsing.

``onnx.load`` reads the whole file into memory and then fails with a bare protobuf ``DecodeError``:
a 3 GB file that is not a model costs 3 GB and half a minute to refuse, and a workflow file named
``.onnx`` gets a message that does not say what is wrong. A serialized ModelProto is a sequence of
(tag, value) fields; walking its top level needs only the tags and lengths (the graph's bytes are
skipped with a seek), so a file that is not one is refused cheaply and by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from olive_core.errors import ModelLoadError

#: protobuf cannot parse a message of 2 GiB or more: a larger .onnx file cannot be a model
PROTOBUF_LIMIT = 2**31 - 1

#: ModelProto's fields in onnx.proto -> their wire type (0 varint, 2 length-delimited)
MODEL_PROTO_FIELDS = {
    1: 0,  # ir_version
    2: 2,  # producer_name
    3: 2,  # producer_version
    4: 2,  # domain
    5: 0,  # model_version
    6: 2,  # doc_string
    7: 2,  # graph
    8: 2,  # opset_import
    14: 2,  # metadata_props
    20: 2,  # training_info
    25: 2,  # functions
    26: 2,  # configuration
}
_IR_VERSION, _GRAPH = 1, 7
#: top-level fields walked at most; a real model has a few dozen, the rest is left to protobuf
_MAX_FIELDS = 10_000

_REEXPORT = "re-export or re-download the model"
_POINT_AT_MODEL = (
    "point model_path at the model's .onnx file (a binary file written by torch.onnx.export or onnx.save_model)"
)


class _NotAModel(Exception):
    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason, self.offset = reason, offset


def check_model_bytes(model_file: Path) -> None:
    """Refuse, naming the file, one that is too large, empty, text, or not a protobuf ModelProto."""
    try:
        size = model_file.stat().st_size
        if size > PROTOBUF_LIMIT:
            raise ModelLoadError(
                f"'{model_file}' is {size / 2**30:.1f} GiB, more than a single .onnx file can hold (2 GiB, "
                "protobuf's limit), so it is not an ONNX model file; a model that large keeps its weights in "
                "external data files beside a small .onnx file",
                hint=f"{_POINT_AT_MODEL}; save large models with onnx.save_model(..., save_as_external_data=True)",
            )
        if size == 0:
            raise ModelLoadError(f"'{model_file}' is empty, not an ONNX model", hint=_REEXPORT)
        with model_file.open("rb") as stream:
            head = stream.read(256)
            if _looks_like_text(head):
                shown = " ".join(head[:40].decode("utf-8", errors="replace").split())
                raise ModelLoadError(
                    f"'{model_file}' is a text file (it starts with '{shown}'), not an ONNX model; a workflow "
                    "or config file named .onnx?",
                    hint=_POINT_AT_MODEL,
                )
            stream.seek(0)
            _walk_top_level(stream, size)
    except _NotAModel as exc:
        raise ModelLoadError(
            f"'{model_file}' is not an ONNX model: {exc.reason} (at byte {exc.offset} of {size}); the file is "
            "truncated or is not an ONNX file",
            hint=_REEXPORT,
        ) from None
    except OSError as exc:
        raise ModelLoadError(
            f"'{model_file}' cannot be read: {exc.strerror or exc}", hint="check the file's permissions"
        ) from exc


def _looks_like_text(head: bytes) -> bool:
    """JSON, YAML or any UTF-8 text: a ModelProto starts with binary tags (ir_version's is 0x08)."""
    text = head.decode("utf-8", errors="replace").rstrip("\ufffd")  # the read may cut a character
    return bool(text) and "\ufffd" not in text and all(ch.isprintable() or ch in "\t\r\n" for ch in text)


def _walk_top_level(stream: BinaryIO, size: int) -> None:
    """Check every top-level field's tag, wire type and length against the file's size."""
    seen: set[int] = set()
    position = 0
    for _ in range(_MAX_FIELDS):
        if position == size:
            break
        start = position
        tag, position = _varint(stream, position, size)
        number, wire = tag >> 3, tag & 7
        expected = MODEL_PROTO_FIELDS.get(number)
        if number == 0 or wire not in (0, 1, 2, 5) or (expected is not None and wire != expected):
            raise _NotAModel(f"byte 0x{tag & 0xFF:02x} is not a field of an ONNX ModelProto", start)
        if wire == 0:
            _, position = _varint(stream, position, size)
        else:
            length = {1: 8, 5: 4}.get(wire)
            if length is None:
                length, position = _varint(stream, position, size)
            if position + length > size:
                raise _NotAModel(f"field {number} needs {length} bytes, the file ends before", start)
            position += length
            stream.seek(position)
        seen.add(number)
    else:
        return  # many fields, all well-formed so far: protobuf checks the rest
    if _IR_VERSION not in seen or _GRAPH not in seen:
        missing = " and ".join(
            name for key, name in ((_IR_VERSION, "IR version"), (_GRAPH, "graph")) if key not in seen
        )
        raise _NotAModel(f"it has no {missing}", size)


def _varint(stream: BinaryIO, position: int, size: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        byte = stream.read(1)
        if not byte:
            raise _NotAModel("the file ends inside a field", position)
        position += 1
        value |= (byte[0] & 0x7F) << shift
        if not byte[0] & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise _NotAModel("a varint longer than 10 bytes", position)
