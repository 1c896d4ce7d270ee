"""Files that are not ONNX models are refused by name, by size and first bytes, before being read whole."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import onnx
import pytest
from click.testing import CliRunner

from olive_core.cli.main import cli
from olive_core.errors import ModelLoadError

from olive_onnx.files import read_model_proto
from olive_onnx.model import OnnxModelConfig, OnnxModelType
from olive_onnx.testing import matmul_graph, onnx_handle

WORKFLOW = {"input_model": {"type": "onnx", "config": {"model_path": "model.onnx"}}, "passes": {}}


def _sparse_file(path: Path, size: int) -> Path:
    """A file of ``size`` bytes that takes no disk space: a model-sized file without writing GBs."""
    with path.open("wb") as stream:
        stream.write(matmul_graph().SerializeToString()[:64])  # starts like a real model
        stream.truncate(size)
    return path


@pytest.fixture
def no_whole_file_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything hands the file to protobuf (which reads it whole)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was read whole before its size and format were checked")

    monkeypatch.setattr(onnx, "load", refuse)
    monkeypatch.setattr(onnx, "load_model", refuse)


def test_workflow_file_named_onnx_is_refused_naming_the_file(tmp_path: Path, no_whole_file_reads: None) -> None:
    (tmp_path / "model.onnx").write_text(json.dumps(WORKFLOW, indent=2))
    with pytest.raises(ModelLoadError, match=r"model\.onnx' is a text file .*workflow or config file") as raised:
        OnnxModelType().create_handle("input_model", OnnxModelConfig(model_path="model.onnx"), tmp_path)
    assert str(tmp_path / "model.onnx") in str(raised.value) and raised.value.hint


def test_yaml_file_named_onnx_is_refused_as_text(tmp_path: Path, no_whole_file_reads: None) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_text("input_model:\n  type: onnx\n  config:\n    model_path: bad.onnx\n")
    with pytest.raises(ModelLoadError, match=r"bad\.onnx' is a text file \(it starts with 'input_model: type"):
        read_model_proto(bad)


def test_multi_gb_onnx_file_is_refused_by_size_without_reading_it(tmp_path: Path, no_whole_file_reads: None) -> None:
    big = _sparse_file(tmp_path / "big.onnx", 3 * 2**30)
    with pytest.raises(ModelLoadError, match=r"big\.onnx' is 3\.0 GiB, more than a single \.onnx file can hold"):
        OnnxModelType().check(onnx_handle(big))


def test_file_just_under_the_limit_that_is_not_a_model_is_refused_from_its_fields(
    tmp_path: Path, no_whole_file_reads: None
) -> None:
    # a model's first bytes, then zeros: field 0 does not exist, found without reading 2 GB
    big = _sparse_file(tmp_path / "zeros.onnx", 2**31 - 1)
    with pytest.raises(ModelLoadError, match=r"zeros\.onnx' is not an ONNX model: byte 0x00 is not a field"):
        read_model_proto(big)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\x08\x08\x12", "the file ends inside a field"),  # ir_version 8, then a cut producer_name
        (b"\x08\x08\x3a\xff\x01", "field 7 needs 255 bytes"),  # a graph longer than the file
        (b"\x08\x08\x42\x00", "it has no graph"),  # well-formed, but no graph
        (b"\x0f\x00\x00\xfe\xfd", "byte 0x0f is not a field"),  # wire type 7 does not exist
        (b"\x0a\x00\xfe\xfd\xfc", "byte 0x0a is not a field"),  # ir_version given as bytes
    ],
    ids=["cut-varint", "long-graph", "no-graph", "bad-wire-type", "wrong-wire-type"],
)
def test_binary_files_that_are_not_a_model_proto_are_refused_with_the_reason(
    tmp_path: Path, no_whole_file_reads: None, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(content)
    with pytest.raises(ModelLoadError, match=rf"bad\.onnx' is not an ONNX model: {message}"):
        read_model_proto(bad)


def test_valid_models_pass_the_check(save_onnx: Callable[..., Path], tiny_bert_file: Path) -> None:
    for model_file in (save_onnx(matmul_graph(), "m.onnx"), save_onnx(matmul_graph(), "e/m.onnx", external=True)):
        assert read_model_proto(model_file).graph.name == "matmul"
    assert len(read_model_proto(tiny_bert_file).graph.node) > 10


@pytest.mark.parametrize("kind", ["workflow", "multi-gb"])
def test_olive_run_on_a_bad_onnx_input_prints_one_error_and_exits_2(tmp_path: Path, kind: str) -> None:
    if kind == "workflow":
        (tmp_path / "model.onnx").write_text(json.dumps(WORKFLOW))
        expected = "is a text file"
    else:
        _sparse_file(tmp_path / "model.onnx", 5 * 2**30)
        expected = "is 5.0 GiB"
    workflow = tmp_path / "workflow.json"
    workflow.write_text(json.dumps(WORKFLOW))
    result = CliRunner().invoke(cli, ["run", str(workflow), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1 and expected in error_lines[0] and str(tmp_path / "model.onnx") in error_lines[0]
