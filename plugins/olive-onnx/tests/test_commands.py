"""`olive optimize`, `olive quantize` and `olive convert` with olive-onnx's recipe, on tiny models:
the workflow each writes, a few real runs, and one clear error (exit 2, nothing written) for
every kind of bad input. MiniLM end to end is in test_commands_minilm.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import onnx
import pytest
from click.testing import CliRunner
from onnx import TensorProto

from olive_core.cli.main import cli
from olive_core.recipes import ModelSource, Request, describe_model
from olive_core.testing.workflows import run_olive
from olive_onnx.recipe_data import SAMPLE_SENTENCES
from olive_onnx.recipes import OnnxRecipe
from olive_onnx.testing import matmul_graph

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MLP_LOADER = """
import torch

def build():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
"""


@pytest.fixture(scope="module")
def bert_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BertModel (random weights) with a word-piece tokenizer and the
    sentence-transformers files of a mean-pooled, normalized sentence embedder."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    folder = tmp_path_factory.mktemp("tiny-bert")
    words = sorted({w.strip(".,?!'").lower() for w in SAMPLE_SENTENCES.read_text().split()} - {""})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words][:400]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizerFast(vocab_file=str(folder / "vocab.txt")).save_pretrained(folder)
    config = BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37, max_position_embeddings=128)
    torch.manual_seed(0)
    BertModel(config).save_pretrained(folder)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
    ]
    (folder / "modules.json").write_text(json.dumps(modules))
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 32, "pooling_mode_mean_tokens": True}))
    return folder


@pytest.fixture
def olive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`olive ...` in-process, in an empty working folder."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def saved(olive, *args: Any) -> dict[str, Any]:
    """The workflow a command writes with --save-workflow (and checks it wrote nothing else)."""
    result = olive(*args, "--save-workflow", "workflow.json", "-o", "out")
    assert result.exit_code == 0, result.output
    assert not Path("out").exists()
    return json.loads(Path("workflow.json").read_text())


def chain(workflow: dict[str, Any]) -> list[tuple[str, str]]:
    return [(name, step["type"]) for name, step in workflow["passes"].items()]


# -- the workflows the commands write ---------------------------------------------------------


def test_optimize_writes_the_demo_chain_measured_on_the_built_in_sentences(olive, bert_folder: Path) -> None:
    workflow = saved(olive, "optimize", bert_folder)
    assert chain(workflow) == [("convert", "OnnxConversion"), ("fuse", "OnnxTransformersOptimization"), ("quantize", "OnnxDynamicQuantization")]
    assert workflow["passes"]["convert"]["config"] == {"exporter": "torchscript"}
    assert workflow["passes"]["fuse"]["config"] == {"model_type": "bert"}
    assert workflow["passes"]["quantize"]["config"] == {"per_channel": True}
    assert workflow["input_model"] == {"type": "hf", "config": {"model_path": str(bert_folder), "task": "feature-extraction"}}
    evaluation = workflow["data"]["evaluation"]
    assert evaluation["load"] == {"type": "text_lines", "config": {"path": str(SAMPLE_SENTENCES)}}
    # a sentence embedder is compared by its embeddings, pooled and normalized as its modules say
    assert evaluation["postprocess"] == [{"type": "mean_pool", "config": {"output": "last_hidden_state", "to": "embedding", "normalize": True}}]
    assert [m["name"] for m in workflow["metrics"]] == ["latency", "similarity", "size"]
    assert workflow["metrics"][1]["goals"] == {"cosine_mean": {"threshold": 0.99}}
    assert "64 built-in English sample sentences" in workflow["description"]
    assert workflow["description"].startswith(f"written by `olive optimize {bert_folder} --output-dir out`")


def test_quantize_and_convert_leave_fusion_to_optimize(olive, bert_folder: Path) -> None:
    dynamic = saved(olive, "quantize", bert_folder, "--precision", "int8")
    assert chain(dynamic) == [("convert", "OnnxConversion"), ("quantize", "OnnxDynamicQuantization")]
    Path("workflow.json").unlink()
    static = saved(olive, "quantize", bert_folder, "--precision", "int8", "--method", "static")
    assert static["passes"]["quantize"]["type"] == "OnnxStaticQuantization"
    assert static["passes"]["quantize"]["config"]["data"] == "calibration"
    assert static["passes"]["quantize"]["config"]["op_types_to_quantize"] == ["MatMul"]
    assert static["data"]["calibration"]["max_samples"] == 32
    Path("workflow.json").unlink()
    int4 = saved(olive, "quantize", bert_folder, "--precision", "int4")
    assert chain(int4) == [("convert", "OnnxConversion"), ("quantize", "OnnxInt4WeightOnly")]
    Path("workflow.json").unlink()
    assert chain(saved(olive, "convert", bert_folder)) == [("convert", "OnnxConversion")]
    Path("workflow.json").unlink()
    assert chain(saved(olive, "convert", bert_folder, "--precision", "fp16")) == [("convert", "OnnxConversion"), ("fp16", "OnnxFloat16")]


def test_search_varies_what_the_minilm_search_varies(olive, bert_folder: Path) -> None:
    workflow = saved(olive, "optimize", bert_folder, "--search", "--min-similarity", "0.995")
    assert [name for name in workflow["passes"]] == ["convert", "fuse", "quantize"]
    example = json.loads((Path(__file__).resolve().parents[3] / "examples" / "minilm" / "search.json").read_text())
    assert workflow["passes"]["quantize"] == example["passes"]["quantize"]  # one step: dynamic or static
    assert "nodes_to_exclude" not in json.dumps(workflow)  # sensitivity is measured, no node is named
    assert workflow["search"] == {
        "strategy": "exhaustive",
        "objectives": [{"metric": "latency-p50", "priority": 1}, {"metric": "similarity-cosine_mean", "priority": 2}],
    }
    assert workflow["metrics"][1]["goals"] == {"cosine_mean": {"threshold": 0.995}}
    Path("workflow.json").unlink()
    int4 = saved(olive, "optimize", bert_folder, "--search", "--precision", "int4")
    assert chain(int4) == [("convert", "OnnxConversion"), ("fuse", "OnnxTransformersOptimization"), ("int4", "OnnxInt4WeightOnly")]
    assert int4["search"]["strategy"] == "exhaustive"  # block size and symmetry are the pass's searchable fields


def test_data_files_are_read_as_the_user_wrote_them(olive, bert_folder: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.txt").write_text("first sample\n\nsecond sample\n")
    workflow = saved(olive, "optimize", bert_folder, "--data", "mine.txt")
    assert workflow["data"]["evaluation"]["load"] == {"type": "text_lines", "config": {"path": str(tmp_path / "mine.txt")}}
    assert "measured on the 2 samples of 'mine.txt'" in workflow["description"]
    Path("workflow.json").unlink()
    (tmp_path / "mine.jsonl").write_text('{"sentence": "one", "id": 1}\n{"sentence": "two", "id": 2}\n')
    workflow = saved(olive, "optimize", bert_folder, "--data", "mine.jsonl")
    evaluation = workflow["data"]["evaluation"]
    assert evaluation["load"] == {"type": "jsonl", "config": {"path": str(tmp_path / "mine.jsonl"), "columns": ["sentence"]}}
    assert evaluation["preprocess"][0]["config"]["text_field"] == "sentence"


def test_an_onnx_graph_without_a_tokenizer_is_measured_on_synthetic_inputs(olive, tmp_path: Path) -> None:
    onnx.save_model(matmul_graph(k=6), str(tmp_path / "mlp.onnx"))
    workflow = saved(olive, "optimize", "mlp.onnx")
    assert chain(workflow) == [("quantize", "OnnxDynamicQuantization")]
    assert workflow["data"]["evaluation"]["load"] == {"type": "synthetic", "config": {"num_samples": 64, "shapes": {"x": [6]}}}
    assert "synthetic inputs" in workflow["description"] and "similarity is only as telling as random inputs" in workflow["description"]


def embedding_graph(vocab: int = 30, types: int = 2) -> onnx.ModelProto:
    """input_ids and token_type_ids (through a Cast) index tables of ``vocab`` and ``types`` rows,
    as a BERT exported without its tokenizer does."""
    import numpy as np
    from onnx import helper, numpy_helper

    rng = np.random.default_rng(0)
    tables = [
        numpy_helper.from_array(rng.standard_normal((vocab, 16)).astype("float32"), "words"),
        numpy_helper.from_array(rng.standard_normal((types, 16)).astype("float32"), "types"),
        numpy_helper.from_array((rng.standard_normal((16, 8)) * 0.1).astype("float32"), "W"),
    ]
    nodes = [
        helper.make_node("Gather", ["words", "input_ids"], ["w"]),
        helper.make_node("Cast", ["token_type_ids"], ["t32"], to=TensorProto.INT32),
        helper.make_node("Gather", ["types", "t32"], ["t"]),
        helper.make_node("Add", ["w", "t"], ["e"]),
        helper.make_node("MatMul", ["e", "W"], ["y"]),
    ]
    ids = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"]) for name in ("input_ids", "token_type_ids")]
    graph = helper.make_graph(nodes, "embed", ids, [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "sequence", 8])], initializer=tables)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def test_synthetic_token_ids_stay_inside_the_tables_they_index(olive, tmp_path: Path) -> None:
    """Random ids up to 99 would index past a 30-word vocabulary and BERT's 2 token types."""
    onnx.save_model(embedding_graph(), str(tmp_path / "embed.onnx"))
    workflow = saved(olive, "optimize", "embed.onnx")
    assert workflow["data"]["evaluation"]["load"]["config"]["ranges"] == {"input_ids": [0, 29], "token_type_ids": [0, 1]}
    Path("workflow.json").unlink()
    done = run_olive("optimize", "embed.onnx", "-o", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert all(candidate["error"] is None for candidate in record["candidates"])


def test_data_whose_token_ids_leave_the_models_tables_is_refused(olive, tmp_path: Path) -> None:
    onnx.save_model(embedding_graph(), str(tmp_path / "embed.onnx"))
    (tmp_path / "ids.jsonl").write_text('{"input_ids": [[1, 2]], "token_type_ids": [[0, 0]]}\n{"input_ids": [[1, 2]], "token_type_ids": [[0, 5]]}\n')
    result = olive("optimize", "embed.onnx", "--data", "ids.jsonl", "-o", "out")
    assert result.exit_code == 2
    assert "sample 2, field 'token_type_ids' holds 5, outside the model's table of 2 rows" in result.output
    assert "--data" in result.output and not Path("out").exists()


def test_a_gpu_gets_fp16_and_no_cpu_only_kernels(bert_folder: Path) -> None:
    """(This machine has no GPU provider, so the workflow is only written; the run's error is below.)"""
    recipe, model = OnnxRecipe(), describe_model(str(bert_folder))
    gpu = Request("optimize", model, device="gpu")
    assert recipe.accepts(gpu)
    workflow = recipe.workflow(gpu)
    assert workflow["accelerators"] == [{"device": "gpu"}]
    assert chain(workflow) == [("convert", "OnnxConversion"), ("fuse", "OnnxTransformersOptimization"), ("fp16", "OnnxFloat16")]
    assert not recipe.accepts(Request("optimize", model, device="gpu", precision="int8"))
    assert not recipe.accepts(Request("quantize", model, device="gpu", precision="int4"))


def test_a_hub_id_whose_config_is_not_at_hand_is_converted_and_quantized_without_fusion() -> None:
    workflow = OnnxRecipe().workflow(Request("optimize", ModelSource("acme/encoder", "hf")))
    assert workflow["input_model"] == {"type": "hf", "config": {"model_path": "acme/encoder", "task": "feature-extraction"}}
    assert chain(workflow) == [("convert", "OnnxConversion"), ("quantize", "OnnxDynamicQuantization")]
    assert "unknown architecture" in workflow["description"] and "no fusion" in workflow["description"]


# -- real runs ---------------------------------------------------------------------------------


def test_optimize_runs_end_to_end_and_olive_run_reruns_its_saved_workflow(bert_folder: Path, tmp_path: Path) -> None:
    done = run_olive("optimize", bert_folder, "-o", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "recipe 'onnx': BertModel (feature-extraction)" in done.stderr
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["workflow"]["description"].startswith("written by `olive optimize")
    best = record["candidates"][record["best"][0]["candidate"]]
    values = best["metrics"]["values"]
    assert values["similarity-cosine_mean"] >= 0.99 and values["size-mb"] < record["input_model"]["metrics"]["values"]["size-mb"]
    ops = {node.op_type for node in onnx.load(tmp_path / "out" / "model" / "model.onnx").graph.node}
    assert {"Attention", "MatMulInteger"} <= ops or "QAttention" in ops, ops  # fused, then INT8

    converted = next(m for m in record["models"].values() if m["step"] == "convert")
    convert_model = tmp_path / "cache" / "artifacts" / converted["model_id"][:2] / converted["model_id"] / "model.onnx"

    # the exported folder (tokenizer and sentence-transformers files beside the .onnx) is a text model too
    shutil.copytree(convert_model.parent, tmp_path / "exported")
    exported = run_olive("optimize", "exported", "--save-workflow", "exported.json", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    workflow = json.loads((tmp_path / "exported.json").read_text())
    assert workflow["input_model"] == {"type": "onnx", "config": {"model_path": str(tmp_path / "exported")}}
    assert chain(workflow) == [("fuse", "OnnxTransformersOptimization"), ("quantize", "OnnxDynamicQuantization")]
    assert workflow["data"]["evaluation"]["preprocess"][0]["type"] == "hf_tokenize"
    assert workflow["data"]["evaluation"]["postprocess"][0]["type"] == "mean_pool"

    saved_run = run_olive("optimize", bert_folder, "-o", "again", "--save-workflow", "workflow.json", cwd=tmp_path)
    assert saved_run.returncode == 0 and not (tmp_path / "again").exists(), saved_run.stderr
    rerun = run_olive("run", "workflow.json", "--cache-dir", "cache", cwd=tmp_path)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    again = json.loads((tmp_path / "again" / "run.json").read_text())
    assert again["workflow"] == json.loads((tmp_path / "workflow.json").read_text())
    assert again["best"][0]["model_id"] == record["best"][0]["model_id"]


def test_a_pytorch_module_takes_its_inputs_from_the_data_fields(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import save_file

    (tmp_path / "mlp.py").write_text(MLP_LOADER)
    torch.manual_seed(1)
    module = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    save_file(module.state_dict(), str(tmp_path / "mlp.safetensors"))
    rows = [{"features": [round((i * 7 + j) % 11 / 11, 3) for j in range(6)], "label": i % 3} for i in range(24)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    done = run_olive("optimize", "mlp.safetensors", "--loader", "mlp.py:build", "--data", "rows.jsonl", "-o", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    model = record["workflow"]["input_model"]["config"]
    assert model["io_config"]["input_names"] == ["features"] and model["io_config"]["input_shapes"] == [[1, 6]]
    assert model["model_loader"] == f"{tmp_path / 'mlp.py'}:build"
    best = record["candidates"][record["best"][0]["candidate"]]
    assert [record["models"][m]["pass_type"] for m in best["lineage"]] == ["OnnxConversion", "OnnxDynamicQuantization"]
    assert best["metrics"]["values"]["similarity-cosine_mean"] > 0.99


# -- bad input: one clear error, exit 2, nothing written -----------------------------------------


@pytest.fixture
def bad_inputs(tmp_path: Path, bert_folder: Path) -> Path:
    (tmp_path / "weights.pkl").write_bytes(b"\x80\x04not a model")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.md").write_text("no model here")
    (tmp_path / "vit").mkdir()
    (tmp_path / "vit" / "config.json").write_text(json.dumps({"architectures": ["ViTModel"], "model_type": "vit", "image_size": 224}))
    (tmp_path / "table.csv").write_text("text,label\nhello,1\n")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    (tmp_path / "empty.txt").write_text("\n\n")
    (tmp_path / "broken.jsonl").write_text('{"text": "fine"}\n{"text": unquoted}\n')
    (tmp_path / "ambiguous.jsonl").write_text('{"title": "a", "body": "b"}\n')
    (tmp_path / "mlp.py").write_text(MLP_LOADER)
    onnx.save_model(matmul_graph(k=6), str(tmp_path / "mlp.onnx"))
    onnx.save_model(matmul_graph(TensorProto.INT8, k=6), str(tmp_path / "int8.onnx"))
    return bert_folder


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["optimize", "{tmp}/missing/model"], "MODEL: no file or folder '{tmp}/missing/model'"),
        (["optimize", "weights.pkl"], "MODEL: 'weights.pkl' is not a model olive recognises"),
        (["optimize", "notes"], "MODEL: the folder 'notes' holds neither a config.json"),
        (["optimize", "vit"], "no installed recipe can optimize a 'hf' model (ViTModel) on cpu"),
        (["optimize", "{bert}", "--precision", "int3"], "Invalid value for '--precision': 'int3' is not one of"),
        (["quantize", "{bert}", "--precision", "int4", "--method", "dynamic"], "--method: --method 'dynamic' is not a method of int4 (it takes rtn)"),
        (["quantize", "{bert}", "--precision", "int8", "--method", "awq"], "no installed recipe can quantize a 'hf' model (BertModel) on cpu at int8 with method 'awq'"),
        (["optimize", "{bert}", "--data", "table.csv"], "--data: '{tmp}/table.csv' is not a .txt file (one sample a line) or a .jsonl file"),
        (["optimize", "{bert}", "--data", "latin1.txt"], "--data: '{tmp}/latin1.txt' is not UTF-8 text"),
        (["optimize", "{bert}", "--data", "empty.txt"], "--data: '{tmp}/empty.txt' holds no samples"),
        (["optimize", "{bert}", "--data", "broken.jsonl"], "--data: '{tmp}/broken.jsonl' is not JSON Lines: line 2"),
        (["optimize", "{bert}", "--data", "ambiguous.jsonl"], "cannot tell which field holds the text (fields: title, body)"),
        (["optimize", "mlp.onnx", "--data", "table.csv"], "it takes tensors, which come from a .jsonl file"),
        (["optimize", "{bert}", "--search", "--precision", "fp32"], "--search: --search searches quantization settings; fp32 has none to search"),
        (["convert", "mlp.onnx"], "MODEL: olive convert has nothing to do: 'mlp.onnx' is an ONNX model at fp32 already"),
        (["optimize", "int8.onnx"], "MODEL: 'int8.onnx' is already quantized (2 int8/int4 initializers (W, B)): olive does not lower"),
        (["optimize", "mlp.py", "--loader", "mlp.py:build"], "--data: a PyTorch module does not say what inputs it takes"),
        (["optimize", "mlp.py", "--loader", "gone.py:build"], "--loader: no file 'gone.py'"),
        (["optimize", "{bert}", "--device", "gpu", "--precision", "int8"], "no installed recipe can optimize a 'hf' model (BertModel) on gpu at int8"),
        (["optimize", "{bert}", "--device", "gpu"], "no execution provider of 'gpu' is available here"),
    ],
)
def test_bad_input_is_one_error_with_exit_2_and_nothing_written(olive, bad_inputs: Path, tmp_path: Path, arguments: list[str], message: str) -> None:
    filled = [a.format(bert=bad_inputs, tmp=tmp_path) for a in arguments]
    before = sorted(p.name for p in tmp_path.iterdir())
    result = olive(*filled, "-o", "out")
    assert result.exit_code == 2, result.output
    assert message.format(bert=bad_inputs, tmp=tmp_path) in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no output folder, no partial file
    saved_too = olive(*filled, "--save-workflow", "workflow.json")
    assert saved_too.exit_code == 2 and not (tmp_path / "workflow.json").exists()


def test_olive_help_lists_the_commands_without_loading_the_recipe() -> None:
    code = (
        "import sys\nfrom olive_core.cli.main import cli\ntry:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in ('olive_onnx.cli', 'olive_onnx.recipes', 'numpy', 'onnx', 'torch') if m in sys.modules))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLIVE_")}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    for line in ("optimize  Convert, fuse and quantize MODEL for a device.", "quantize  Quantize MODEL to INT8 or INT4, as ONNX.", "convert   Convert MODEL to ONNX, checked against it."):
        assert line in output
    assert output.strip().splitlines()[-1] == "LOADED ['olive_onnx.cli']"
