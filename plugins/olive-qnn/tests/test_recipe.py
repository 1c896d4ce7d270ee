"""The NPU recipe: what `olive optimize --device npu` runs for a text encoder or an ONNX model.

The workflows it writes are validated by olive's own loader with every installed plugin, and the
shapes it fixes are checked by QnnPreprocess itself; `olive optimize --device npu` runs one end to
end on the HTP simulator (a one-layer BERT, seconds).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import onnx
import pytest

from olive_core.engine.api import load_workflow
from olive_core.errors import ConfigError
from olive_core.passes import PassContext
from olive_core.plugins import create_plugin_manager
from olive_core.recipes import Request, choose_recipe, describe_model
from olive_core.testing.workflows import run_olive
from olive_qnn.recipe import ACCELERATOR, ENCODER_MODEL_TYPES, NpuRecipe, task_of
from olive_qnn.testing import gelu_cnn_file, onnx_handle, tiny_cnn_file

RECIPE = "qnn-npu"
WORDS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "cat", "dog", "is", "on", "in", "of", "and", "to", "was", "it", "train", "late", "warm"]


@pytest.fixture(scope="module")
def manager():
    return create_plugin_manager()


@pytest.fixture(scope="module")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-layer BertModel (random weights) with a WordPiece tokenizer: a Hugging Face folder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    (folder / "vocab.txt").write_text("\n".join(WORDS) + "\n")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(WORDS), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)
    BertModel(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def bert_onnx_dir(tiny_bert_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny BERT exported with dynamic batch and sequence, its tokenizer beside it."""
    from olive_qnn.encoders import arithmetic_mask_encoder

    folder = tmp_path_factory.mktemp("bert-onnx")
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        shutil.copy(tiny_bert_dir / name, folder / name)
    _export(arithmetic_mask_encoder(str(tiny_bert_dir)), ["input_ids", "attention_mask", "token_type_ids"], folder / "model.onnx")
    return folder


def _export(module: Any, names: list[str], target: Path) -> None:
    import torch

    ids = torch.ones(1, 8, dtype=torch.int64)
    axes = {name: {0: "batch_size", 1: "sequence_length"} for name in [*names, "last_hidden_state"]}
    torch.onnx.export(module, (ids,) * len(names), str(target), input_names=names, output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17, dynamo=False)


def config_folder(folder: Path, **config: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def request(model: Path | str, task: str = "optimize", **options: Any) -> Request:
    return Request(task=task, model=describe_model(str(model)), device="npu", **options)


def written(manager, req: Request) -> dict[str, Any]:
    """The workflow the chosen recipe writes, validated as `--save-workflow` does."""
    name, recipe = choose_recipe(req, manager.registry)
    assert name == RECIPE
    workflow = recipe.workflow(req)
    load_workflow(workflow, manager)
    return workflow


def quantization(workflow: dict[str, Any]) -> list[tuple[str, str, str]]:
    configs = workflow["passes"]["quantize"]["config"]
    return [(c["activation_type"], c["weight_type"], c["calibrate_method"]) for c in (configs if isinstance(configs, list) else [configs])]


# -- the encoder loader ------------------------------------------------------------------------


@pytest.mark.parametrize("model_type", sorted(ENCODER_MODEL_TYPES))
def test_every_encoder_family_gives_the_stock_outputs_with_the_arithmetic_mask(model_type: str, tmp_path: Path) -> None:
    """What lets the recipe take these families: the same embeddings of real tokens as transformers' own mask."""
    import torch
    from transformers import AutoConfig, AutoModel

    from olive_qnn.encoders import arithmetic_mask_encoder

    sizes = {"dim": 16, "n_layers": 1, "n_heads": 2, "hidden_dim": 32} if model_type == "distilbert" else {
        "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32, "embedding_size": 16,
    }  # fmt: skip
    config = AutoConfig.for_model(model_type, vocab_size=64, max_position_embeddings=40, pad_token_id=1, **sizes)
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(tmp_path)
    stock = AutoModel.from_pretrained(tmp_path, attn_implementation="eager").eval()
    ours = arithmetic_mask_encoder(str(tmp_path))
    ids = torch.randint(3, 60, (2, 12))
    mask = torch.ones(2, 12, dtype=torch.int64)
    mask[1, 7:] = 0
    with torch.no_grad():
        expected = stock(input_ids=ids, attention_mask=mask).last_hidden_state
        got = ours(ids, mask, torch.zeros_like(ids)) if ENCODER_MODEL_TYPES[model_type] else ours(ids, mask)
    real = mask.bool()
    assert torch.allclose(got[real], expected[real], atol=1e-5)


@pytest.mark.parametrize(
    ("architecture", "task"),
    [("BertModel", "feature-extraction"), (None, "feature-extraction"), ("RobertaForSequenceClassification", "text-classification"), ("BertForMaskedLM", None)],
)
def test_the_task_comes_from_the_architecture(architecture: str | None, task: str | None) -> None:
    assert task_of(architecture) == task


# -- the workflows it writes -------------------------------------------------------------------


def test_an_encoder_folder_goes_through_the_qnn_minilm_chain(manager, tiny_bert_dir: Path) -> None:
    workflow = written(manager, request(tiny_bert_dir))
    assert [(name, step["type"]) for name, step in workflow["passes"].items()] == [
        ("convert", "OnnxConversion"), ("preprocess", "QnnPreprocess"), ("quantize", "QnnQuantization"), ("compile", "QnnContextBinary"),
    ]  # fmt: skip
    assert workflow["passes"]["convert"]["config"] == {"exporter": "torchscript", "check_shapes": [[1, 64]]}
    assert quantization(workflow) == [("uint16", "int16", "MinMax")]
    assert workflow["accelerators"] == [ACCELERATOR] and ACCELERATOR["provider"] == "QNNExecutionProvider"
    model = workflow["input_model"]
    assert model["type"] == "pytorch" and model["config"]["model_loader"] == "olive_qnn.encoders:arithmetic_mask_encoder"
    assert model["config"]["io_config"]["input_names"] == ["input_ids", "attention_mask", "token_type_ids"]
    assert model["config"]["io_config"]["input_shapes"] == [[1, 64]] * 3  # the context, below 128
    metrics = {m["name"]: m for m in workflow["metrics"]}
    assert metrics["similarity"]["goals"] == {"cosine_mean": {"threshold": 0.99}}
    assert metrics["similarity"]["config"] == {"output": "embedding"}
    assert metrics["npu"] == {"name": "npu", "type": "npu_coverage", "goals": {"coverage": {"threshold": 1.0}}}
    assert workflow["engine"] == {"evaluate_input_model": False, "input_model_on": "cpu"}
    evaluation = workflow["data"]["evaluation"]
    assert evaluation["batch_size"] == 1 and evaluation["max_samples"] == 8
    assert evaluation["preprocess"][0]["config"]["max_length"] == 64
    assert "built-in English sentences" in workflow["description"] and "no latency" in workflow["description"]


def test_a_roberta_classifier_takes_no_token_types_and_is_compared_by_its_logits(manager, tmp_path: Path) -> None:
    folder = config_folder(tmp_path / "roberta", architectures=["RobertaForSequenceClassification"], model_type="roberta", max_position_embeddings=514)
    (folder / "tokenizer.json").write_text("{}")
    workflow = NpuRecipe().workflow(request(folder))
    config = workflow["input_model"]["config"]
    assert config["io_config"]["input_names"] == ["input_ids", "attention_mask"]
    assert config["io_config"]["output_names"] == ["logits"] and config["loader_kwargs"] == {"task": "text-classification"}
    assert config["io_config"]["input_shapes"] == [[1, 128]] * 2
    assert "config" not in workflow["metrics"][0]  # every output: the logits


@pytest.mark.parametrize(
    ("task", "options", "expected", "compiled"),
    [
        ("optimize", {"precision": "int8"}, [("uint8", "uint8", "MinMax")], True),
        ("optimize", {"search": True}, [("uint16", "int16", "MinMax"), ("uint8", "uint8", "MinMax")], True),
        ("optimize", {"precision": "int8", "search": True}, [("uint8", "uint8", m) for m in ("MinMax", "Entropy", "Percentile")], True),
        ("quantize", {"precision": "int8", "method": "entropy"}, [("uint8", "uint8", "Entropy")], False),
    ],
)
def test_precision_method_and_search_pick_the_quantization(
    manager, tiny_bert_dir: Path, task: str, options: dict[str, Any], expected: list[tuple[str, str, str]], compiled: bool
) -> None:
    workflow = written(manager, request(tiny_bert_dir, task, **options))
    assert quantization(workflow) == expected
    assert ("compile" in workflow["passes"]) is compiled
    if len(expected) > 1:  # the smallest model that meets the goals
        assert [o["metric"] for o in workflow["search"]["objectives"]] == ["size-mb", "similarity-cosine_mean"]
        assert "the smallest is best" in workflow["description"]


def test_data_given_is_what_it_calibrates_and_measures_on(manager, tiny_bert_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "sentences.txt").write_text("the cat is warm\nthe train was late\n")
    workflow = written(manager, request(tiny_bert_dir, data=tmp_path / "sentences.txt"))
    assert {d["load"]["config"]["path"] for d in workflow["data"].values()} == {str(tmp_path / "sentences.txt")}
    assert "'sentences.txt'" in workflow["description"] and "give --data" not in workflow["description"]


def test_an_onnx_encoder_with_dynamic_dims_is_fixed_at_batch_1_and_its_context(manager, bert_onnx_dir: Path, tmp_path: Path) -> None:
    workflow = written(manager, request(bert_onnx_dir))
    assert workflow["input_model"] == {"type": "onnx", "config": {"model_path": str(bert_onnx_dir)}}
    assert "convert" not in workflow["passes"]
    preprocess = workflow["passes"]["preprocess"]["config"]
    assert preprocess == {"input_shapes": {name: [1, 64] for name in ("input_ids", "attention_mask", "token_type_ids")}}
    _preprocess_accepts(onnx_handle(bert_onnx_dir / "model.onnx"), preprocess)
    assert workflow["data"]["evaluation"]["preprocess"][0]["type"] == "hf_tokenize"  # its tokenizer is beside it
    assert workflow["metrics"][0]["config"] == {"output": "embedding"}


def test_a_cnn_with_a_dynamic_batch_is_measured_on_synthetic_images_at_batch_1(manager, tmp_path: Path) -> None:
    model = tiny_cnn_file(tmp_path / "cnn", dynamic_batch=True)
    workflow = written(manager, request(model))
    preprocess = workflow["passes"]["preprocess"]["config"]
    assert preprocess == {"input_shapes": {"x": [1, 3, 16, 16]}}
    _preprocess_accepts(onnx_handle(model), preprocess)
    load = workflow["data"]["calibration"]["load"]
    assert load["type"] == "synthetic" and load["config"]["shapes"] == {"x": [3, 16, 16]}
    assert "synthetic inputs" in workflow["description"]
    static = written(manager, request(gelu_cnn_file(tmp_path / "static")))
    assert static["passes"]["preprocess"]["config"] == {}  # nothing to fix


def _preprocess_accepts(model: Any, config: dict[str, Any]) -> None:
    """QnnPreprocess's own check of the sizes the recipe chose (every dynamic dim given one)."""
    from olive_qnn.passes.preprocess import QnnPreprocess

    the_pass = QnnPreprocess()
    the_pass.check_input(model, the_pass.Config(**config), PassContext(accelerator=None, step="preprocess"))  # type: ignore[arg-type]


# -- what it refuses ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("task", "options", "field", "message"),
    [
        ("optimize", {"precision": "fp32"}, "--precision", "QNN's HTP runs quantized \\(QDQ\\) models; olive-qnn makes no fp32 model"),
        ("optimize", {"precision": "fp16"}, "--precision", "makes no fp16 model for the NPU"),
        ("quantize", {"precision": "int4"}, "--precision", "makes 8- and 16-bit QDQ models for the HTP, not int4"),
        ("convert", {}, "--device", "QNN's HTP runs quantized models, so olive convert makes nothing for the NPU"),
    ],
)
def test_what_the_htp_cannot_run_is_one_error_naming_the_option(
    manager, tiny_bert_dir: Path, task: str, options: dict[str, Any], field: str, message: str
) -> None:
    req = request(tiny_bert_dir, task, **options)
    assert choose_recipe(req, manager.registry)[0] == RECIPE
    with pytest.raises(ConfigError, match=message) as error:
        NpuRecipe().workflow(req)
    assert error.value.path == field


def test_data_it_cannot_read_is_one_error_naming_data(tiny_bert_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "sentences.csv").write_text("text\nthe cat\n")
    with pytest.raises(ConfigError) as error:
        NpuRecipe().workflow(request(tiny_bert_dir, data=tmp_path / "sentences.csv"))
    assert error.value.path == "--data" and "sentences.csv" in error.value.message


def test_models_it_cannot_export_are_refused_by_name(tmp_path: Path) -> None:
    masked = config_folder(tmp_path / "mlm", architectures=["BertForMaskedLM"], model_type="bert")
    vision = config_folder(tmp_path / "vit", architectures=["ViTModel"], model_type="vit")
    for folder, name in ((masked, "BertForMaskedLM"), (vision, "'vit' ViTModel")):
        with pytest.raises(ConfigError, match=f"exports text encoders .* not a '?.*{name}") as error:
            NpuRecipe().workflow(request(folder))
        assert error.value.path == "MODEL" and ".onnx file" in error.value.hint


def test_a_hub_id_is_refused_with_how_to_get_the_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ConfigError, match="'acme/encoder' is a hub id") as error:
        NpuRecipe().workflow(request("acme/encoder"))
    assert "--local-dir" in error.value.hint


def test_an_image_model_with_dynamic_height_says_to_export_it_fixed(tmp_path: Path) -> None:
    from onnx import TensorProto, helper

    folder = tmp_path / "dynamic-image"
    folder.mkdir()
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, "height", 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, "height", 16])],
    )  # fmt: skip
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(folder / "model.onnx"))
    with pytest.raises(ConfigError, match="input 'x' axis 2 \\('height'\\) is dynamic") as error:
        NpuRecipe().workflow(request(folder / "model.onnx"))
    assert error.value.path == "MODEL"


# -- through the commands, on the HTP simulator -----------------------------------------------


def test_olive_optimize_for_the_npu_runs_an_encoder_wholly_on_the_htp(tiny_bert_dir: Path, tmp_path: Path) -> None:
    """`olive optimize FOLDER --device npu`: exported through the arithmetic mask, 16-bit QDQ,
    compiled; all on the NPU, the same embeddings as the PyTorch model measured on the CPU."""
    done = run_olive("optimize", tiny_bert_dir, "--device", "npu", "-o", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert f"recipe '{RECIPE}': similarity measured on the first 8 samples" in done.stderr
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert f"(recipe '{RECIPE}' from olive-qnn" in record["workflow"]["description"]
    (candidate,) = record["candidates"]
    values = candidate["metrics"]["values"]
    assert candidate["error"] is None and candidate["metrics"]["all_goals_met"]
    assert values["npu-coverage"] == 1.0 and values["similarity-cosine_mean"] > 0.99
    assert candidate["metrics"]["accelerator"].startswith("npu-QNNExecutionProvider")
    nodes = onnx.load(str(tmp_path / "out" / "model" / "model.onnx"), load_external_data=False).graph.node
    assert [node.op_type for node in nodes] == ["EPContext"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["optimize", "{model}", "--device", "npu", "--precision", "fp32"], "--precision: QNN's HTP runs quantized (QDQ) models"),
        (["quantize", "{model}", "--device", "npu", "--precision", "int4"], "--precision: QnnQuantization makes 8- and 16-bit QDQ models"),
        (["convert", "{model}", "--device", "npu"], "--device: QNN's HTP runs quantized models, so olive convert makes nothing for the NPU"),
    ],
)
def test_what_the_npu_cannot_run_exits_2_writing_nothing(tiny_bert_dir: Path, tmp_path: Path, arguments: list[str], message: str) -> None:
    done = run_olive(*(a.format(model=tiny_bert_dir) for a in arguments), "-o", "out", cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
