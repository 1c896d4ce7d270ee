"""The language-model recipe: what `olive optimize/quantize/convert` run for a causal LM.

The workflows it writes are checked as a user would get them (validated by olive's own loader
with every installed plugin); `olive optimize` runs one end to end on the tiny random Llama.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from olive_core.engine.api import load_workflow
from olive_core.errors import ConfigError
from olive_core.plugins import create_plugin_manager
from olive_core.recipes import Request, choose_recipe, describe_model
from olive_core.testing.workflows import run_olive
from olive_genai.recipe import SAMPLE_TEXT, LanguageModelRecipe, is_causal_lm, perplexity_rise_percent
from olive_genai.testing import TINY_LLAMA

RECIPE = "genai-language-models"


@pytest.fixture(scope="module")
def manager():
    return create_plugin_manager()


def config_folder(folder: Path, **config: Any) -> Path:
    """A Hugging Face folder holding only config.json: enough to describe and validate it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def request(model: Path | str, task: str = "optimize", **options: Any) -> Request:
    return Request(task=task, model=describe_model(str(model)), **options)


def written(manager, req: Request) -> dict[str, Any]:
    """The workflow the chosen recipe writes for ``req``, validated as `--save-workflow` does."""
    name, recipe = choose_recipe(req, manager.registry)
    assert name == RECIPE
    workflow = recipe.workflow(req)
    load_workflow(workflow, manager)
    return workflow


def steps(workflow: dict[str, Any]) -> dict[str, Any]:
    return {name: (step["type"], step["config"]) for name, step in workflow["passes"].items()}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"architectures": ["LlamaForCausalLM"]}, True),
        ({"architectures": ["GPT2LMHeadModel"]}, True),
        ({"architectures": ["ChatGLMModel"]}, True),  # the builder knows it by this name
        ({"architectures": ["BertModel"]}, False),
        ({"architectures": ["BertForSequenceClassification"]}, False),
        ({"architectures": ["T5WithLMHeadModel"], "is_encoder_decoder": True}, False),
        ({"model_type": "llama"}, False),  # no architectures: not known to be a causal LM
        ({}, False),
    ],
)
def test_causal_lms_are_told_by_their_config_json(config: dict[str, Any], expected: bool) -> None:
    assert is_causal_lm(config) is expected


def test_it_writes_a_causal_lms_workflow_and_leaves_encoders_to_other_recipes(manager, tiny_llama_dir: Path, tmp_path: Path) -> None:
    assert choose_recipe(request(tiny_llama_dir), manager.registry)[0] == RECIPE
    encoder = request(config_folder(tmp_path / "bert", architectures=["BertModel"], model_type="bert"))
    assert not LanguageModelRecipe().accepts(encoder)
    # a generic recipe may also accept a causal LM; this one's priority wins
    others = [c.load()() for c in manager.registry.components("recipe") if c.name != RECIPE]
    assert all(LanguageModelRecipe.priority > other.priority for other in others if other.accepts(request(tiny_llama_dir)))


def test_optimize_builds_int4_and_measures_on_the_built_in_sample_when_given_no_data(manager, tiny_llama_dir: Path) -> None:
    workflow = written(manager, request(tiny_llama_dir))
    assert workflow["input_model"] == {"type": "hf", "config": {"model_path": str(tiny_llama_dir), "task": "text-generation"}}
    assert steps(workflow) == {"build": ("GenAIModelBuilder", {"precision": "int4", "block_size": 32, "algorithm": "rtn"})}
    assert {m["name"]: m["type"] for m in workflow["metrics"]} == {
        "perplexity": "perplexity", "agreement": "token_agreement", "speed": "generation_latency", "size": "size",
    }  # fmt: skip
    assert workflow["metrics"][0]["goals"] == {"perplexity": {"max_degradation_percent": 3.0}}
    assert [o["metric"] for o in workflow["search"]["objectives"]] == ["speed-decode_tokens_per_s_p50", "perplexity-perplexity"]
    # said, not hidden: the text measured on is olive-genai's own sample, and why --data matters
    assert all(d["load"] == {"type": "text_lines", "config": {"path": str(SAMPLE_TEXT)}} for d in workflow["data"].values())
    assert "no --data" in workflow["description"] and str(SAMPLE_TEXT) in workflow["description"]
    assert len(SAMPLE_TEXT.read_text().split()) > 1000


def test_blocks_and_prompts_fit_the_models_context(manager, tiny_llama_dir: Path, tmp_path: Path) -> None:
    context = TINY_LLAMA["max_position_embeddings"]
    workflow = written(manager, request(tiny_llama_dir))
    block = workflow["data"]["heldout"]["preprocess"][0]["config"]["block_size"]
    prompt = workflow["data"]["prompts"]["preprocess"][0]["config"]["length"]
    agreement, speed = workflow["metrics"][1]["config"], workflow["metrics"][2]["config"]
    assert block <= context and prompt + agreement["new_tokens"] <= context
    assert speed["prompt_tokens"] + speed["new_tokens"] <= context
    long = config_folder(tmp_path / "long", architectures=["LlamaForCausalLM"], max_position_embeddings=32768)
    assert written(manager, request(long))["data"]["heldout"]["preprocess"][0]["config"]["block_size"] == 256


def test_data_given_is_what_it_measures_on(manager, tiny_llama_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.jsonl").write_text('{"text": "w1 w2 w3"}\n')
    workflow = written(manager, request(tiny_llama_dir, data=tmp_path / "mine.jsonl"))
    assert {d["load"]["type"] for d in workflow["data"].values()} == {"jsonl"}
    assert "description" not in workflow


@pytest.mark.parametrize(
    ("task", "options", "chain"),
    [
        ("optimize", {"precision": "fp32"}, {"build": ("GenAIModelBuilder", {"precision": "fp32"})}),
        ("optimize", {"precision": "int8"}, {"build": ("GenAIModelBuilder", {"precision": "int8", "block_size": 32, "algorithm": "rtn"})}),
        ("convert", {}, {"build": ("GenAIModelBuilder", {"precision": "fp32"})}),
        ("quantize", {"precision": "int4", "method": "k_quant"}, {"build": ("GenAIModelBuilder", {"precision": "int4", "block_size": 32, "algorithm": "k_quant"})}),
        ("quantize", {"precision": "int8", "method": "rtn"}, {"build": ("GenAIModelBuilder", {"precision": "int8", "block_size": 32, "algorithm": "rtn"})}),
        (
            "quantize",
            {"precision": "int4", "method": "hqq"},
            {"build": ("GenAIModelBuilder", {"precision": "fp32"}), "quantize": ("GenAIWeightOnlyQuantization", {"algorithm": "hqq", "block_size": 32})},
        ),
    ],
)
def test_precision_and_method_pick_the_chain(manager, tiny_llama_dir: Path, task: str, options: dict[str, Any], chain: dict[str, Any]) -> None:
    assert steps(written(manager, request(tiny_llama_dir, task, **options))) == chain


def test_gptq_calibrates_on_the_data_given_and_says_it_is_measured_on_it_too(manager, tiny_llama_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text("w1 w2 w3\n")
    workflow = written(manager, request(tiny_llama_dir, "quantize", precision="int4", method="gptq", data=tmp_path / "text.txt"))
    assert steps(workflow)["quantize"] == ("GenAIWeightOnlyQuantization", {"algorithm": "gptq", "block_size": 32, "data": "calibration"})
    assert workflow["data"]["calibration"]["load"]["config"]["path"] == str(tmp_path / "text.txt")
    assert "GPTQ calibrates on the first blocks of the same text it is measured on" in workflow["description"]


def test_search_tries_int4_block_sizes_and_algorithms_under_a_perplexity_goal(manager, tmp_path: Path) -> None:
    model = config_folder(tmp_path / "llm", architectures=["LlamaForCausalLM"], hidden_size=2048)
    workflow = written(manager, request(model, search=True))
    _, configs = steps(workflow)["build"]
    assert sorted((c["block_size"], c["algorithm"]) for c in configs) == [(32, "k_quant"), (32, "rtn"), (128, "k_quant"), (128, "rtn")]
    assert all(c["precision"] == "int4" for c in configs)
    loose = written(manager, request(model, search=True, min_similarity=0.95))
    assert loose["metrics"][0]["goals"]["perplexity"]["max_degradation_percent"] == pytest.approx(15.0)


def test_search_leaves_out_blocks_longer_than_the_weights_rows(manager, tiny_llama_dir: Path) -> None:
    """The tiny Llama's hidden size is 64: k_quant cannot fill 128-wide blocks (measured: the builder fails)."""
    _, configs = steps(written(manager, request(tiny_llama_dir, search=True)))["build"]
    assert sorted((c["block_size"], c["algorithm"]) for c in configs) == [(32, "k_quant"), (32, "rtn")]


def test_the_perplexity_rule_follows_min_similarity() -> None:
    assert perplexity_rise_percent(0.99) == pytest.approx(3.0)
    assert perplexity_rise_percent(0.999) == pytest.approx(0.3)
    assert perplexity_rise_percent(1.0) == 0.0


def test_architectures_the_builder_lacks_are_exported_with_their_cache_then_quantized(manager, tiny_gpt2_dir: Path) -> None:
    assert steps(written(manager, request(tiny_gpt2_dir))) == {
        "export": ("GenAIKVCacheExport", {}),
        "quantize": ("GenAIWeightOnlyQuantization", {"algorithm": "rtn", "block_size": 32}),
    }
    assert steps(written(manager, request(tiny_gpt2_dir, precision="fp32"))) == {"export": ("GenAIKVCacheExport", {})}
    _, searched = steps(written(manager, request(tiny_gpt2_dir, search=True)))["quantize"]
    assert sorted((c["block_size"], c["algorithm"]) for c in searched) == [(32, "k_quant"), (32, "rtn")]


def test_a_hub_id_is_written_as_one(manager, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    snapshot = tmp_path / "models--acme--tiny-llm" / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (tmp_path / "models--acme--tiny-llm" / "refs").mkdir()
    (tmp_path / "models--acme--tiny-llm" / "refs" / "main").write_text("0123abcd")
    (snapshot / "config.json").write_text(json.dumps({"architectures": ["Qwen2ForCausalLM"], "max_position_embeddings": 4096}))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    req = request("acme/tiny-llm")
    name, recipe = choose_recipe(req, manager.registry)
    assert name == RECIPE and recipe.workflow(req)["input_model"]["config"]["model_path"] == "acme/tiny-llm"


@pytest.mark.parametrize(
    ("task", "options", "field", "message"),
    [
        ("optimize", {"device": "gpu"}, "--device", "olive-genai makes language models for the CPU; 'gpu' is not supported"),
        ("optimize", {"device": "npu"}, "--device", "'npu' is not supported for a LlamaForCausalLM model"),
        ("optimize", {"precision": "fp16"}, "--precision", "in fp32, int8 or int4; fp16 is not one of them"),
        ("quantize", {"precision": "fp32"}, "--precision", "quantize makes int8 or int4 weights, not fp32"),
        ("convert", {"precision": "int4"}, "--precision", "convert keeps the language model's weights in fp32, not int4"),
        ("quantize", {"precision": "int8", "method": "hqq"}, "--method", "hqq makes 4-bit weights, not int8"),
        ("quantize", {"precision": "int4", "method": "gptq"}, "--data", "gptq calibrates on text, and no --data was given"),
    ],
)
def test_what_it_cannot_make_is_one_error_naming_the_option(
    manager, tiny_llama_dir: Path, task: str, options: dict[str, Any], field: str, message: str
) -> None:
    req = request(tiny_llama_dir, task, **options)
    name, recipe = choose_recipe(req, manager.registry)
    assert name == RECIPE  # refused by name here, never exported without its cache by a generic recipe
    with pytest.raises(ConfigError, match=message) as error:
        recipe.workflow(req)
    assert error.value.path == field


def test_int8_for_an_architecture_the_builder_lacks_is_refused(manager, tiny_gpt2_dir: Path) -> None:
    with pytest.raises(ConfigError, match="does not support GPT2LMHeadModel.* int4 weights only") as error:
        LanguageModelRecipe().workflow(request(tiny_gpt2_dir, precision="int8"))
    assert error.value.path == "--precision"


# -- through the commands --------------------------------------------------------------------


def test_olive_optimize_builds_an_int4_language_model_and_says_what_it_measured_on(tiny_llama_dir: Path, tmp_path: Path) -> None:
    """`olive optimize MODEL`, nothing else, as a new user runs it: olive-genai's recipe, not a
    generic export; the built-in sample said on the console and recorded; every metric; the goal judged."""
    done = run_olive("optimize", tiny_llama_dir, "-o", "out", "--cache-dir", "cache", cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert f"recipe '{RECIPE}': no --data:" in done.stderr
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert f"(recipe '{RECIPE}' from olive-genai" in record["workflow"]["description"]
    assert record["workflow"]["passes"]["build"]["config"]["precision"] == "int4"
    (candidate,) = record["candidates"]
    source, int4 = record["input_model"]["metrics"]["values"], candidate["metrics"]["values"]
    assert candidate["error"] is None and int4["size-mb"] < 0.5 * source["size-mb"]
    assert int4["speed-decode_tokens_per_s_p50"] > 0 and 0 <= int4["agreement-agreement"] <= 1
    met = int4["perplexity-perplexity"] <= source["perplexity-perplexity"] * 1.03
    assert candidate["metrics"]["all_goals_met"] is met
    assert (tmp_path / "out" / "model" / "genai_config.json").is_file()


def test_olive_quantize_saves_the_workflow_it_would_run(tiny_llama_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "text.txt").write_text("w1 w2 w3 w4\n")
    done = run_olive(
        "quantize", tiny_llama_dir, "--precision", "int4", "--method", "gptq", "--data", "text.txt",
        "--save-workflow", "gptq.json", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    workflow = json.loads((tmp_path / "gptq.json").read_text())
    assert workflow["passes"]["quantize"]["config"]["algorithm"] == "gptq"
    assert "GPTQ calibrates on the first blocks of the same text" in workflow["description"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["optimize", "{model}", "--device", "gpu"], "--device: olive-genai makes language models for the CPU"),
        (["optimize", "{model}", "--precision", "fp16"], "--precision: olive-genai builds language models for the CPU in fp32, int8 or int4"),
        (["quantize", "{model}", "--precision", "int4", "--method", "gptq"], "--data: gptq calibrates on text, and no --data was given"),
        (["quantize", "{model}", "--precision", "int4", "--method", "awq"], "no installed recipe can quantize"),
    ],
)
def test_what_the_commands_cannot_make_of_a_language_model_exits_2_writing_nothing(tiny_llama_dir: Path, tmp_path: Path, arguments: list[str], message: str) -> None:
    done = run_olive(*(a.format(model=tiny_llama_dir) for a in arguments), "-o", "out", cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    assert message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
