"""GenAIModelBuilder: the onnxruntime-genai builder run on tiny models, its output captured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU, run_pass
from olive_torch.testing import hf_handle


class TestGenAIModelBuilder(PassContract):
    pass_name = "GenAIModelBuilder"
    configs = [{"precision": "fp32"}, {"precision": "int4", "block_size": 32, "quantize_lm_head": False}]

    @pytest.fixture
    def input_model(self, tiny_llama_dir: Path) -> ModelHandler:
        return hf_handle(tiny_llama_dir, "text-generation")

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        from olive_onnx.files import read_model_proto
        from olive_onnx.inspect import op_counts

        folder = Path(output_model.path)
        assert {"genai_config.json", "model.onnx", "tokenizer.json"} <= {p.name for p in folder.iterdir()}
        assert not (folder / ".builder").exists()  # the builder's scratch space is gone
        counts = op_counts(read_model_proto(folder / "model.onnx"))
        if config["precision"] == "fp32":
            assert counts["MatMulNBits"] == 0
        else:  # every MatMul but the output projection
            assert counts["MatMulNBits"] > 0 and counts["MatMul"] == 1
        assert output_model.attributes["num_hidden_layers"] == 2 and output_model.attributes["num_key_value_heads"] == 2


def test_the_builders_output_goes_to_the_report_not_the_console(built_fp32: ModelHandler, tiny_llama_dir: Path, tmp_path: Path, capfd) -> None:
    capfd.readouterr()
    _, context = run_pass("GenAIModelBuilder", hf_handle(tiny_llama_dir, "text-generation"), tmp_path / "out", {"precision": "int4"})
    printed = capfd.readouterr()
    assert "Saving" not in printed.out + printed.err
    log = context.report["builder"]["log"]
    assert any("GenAI config" in line for line in log)
    assert not any("Progress:" in line or "%|" in line for line in log)


def test_fp32_genai_model_gives_the_input_models_logits_and_tokens(built_fp32: ModelHandler, tiny_llama_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    from olive_genai.language_model import TorchLanguageModel
    from olive_genai.model import GenAIModelType

    session = GenAIModelType().create_session(built_fp32, CPU, {"intra_op_num_threads": 1})
    torch_model = TorchLanguageModel(AutoModelForCausalLM.from_pretrained(tiny_llama_dir).eval())
    ids = np.array([[1, 9, 8, 7, 6, 5]])
    assert np.abs(session.logits(ids) - torch_model.logits(ids)).max() < 1e-3
    ours, theirs = session.generate(ids, 8, keep_logits=True), torch_model.generate(ids, 8, keep_logits=True)
    assert ours.tokens.tolist() == theirs.tokens.tolist()
    assert np.abs(ours.step_logits - theirs.step_logits).max() < 1e-3
    assert ours.first_token_s > 0 and len(ours.decode_s) == 7


def test_an_architecture_the_builder_lacks_is_refused_pointing_to_the_export(tiny_gpt2_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(IncompatibleModelError, match="cannot build a GPT2LMHeadModel") as error:
        run_pass("GenAIModelBuilder", hf_handle(tiny_gpt2_dir, "text-generation"), tmp_path / "out")
    assert "GenAIKVCacheExport" in error.value.hint
    assert not (tmp_path / "out").exists()  # refused in check_input, before the engine makes a folder


def test_a_model_that_is_not_a_text_generation_model_is_refused(tiny_llama_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(IncompatibleModelError, match="not from a 'feature-extraction' model"):
        run_pass("GenAIModelBuilder", hf_handle(tiny_llama_dir, task="feature-extraction"), tmp_path / "out")


def test_a_failing_build_leaves_nothing_in_the_output_or_the_cache(tiny_llama_dir: Path, tmp_path: Path) -> None:
    """A model folder whose weights are missing: the builder fails, the step fails, nothing is kept."""
    import shutil

    import olive_core

    broken = tmp_path / "broken"
    shutil.copytree(tiny_llama_dir, broken)
    (broken / "model.safetensors").unlink()
    workflow = {
        "input_model": {"type": "hf", "config": {"model_path": str(broken), "task": "text-generation"}},
        "passes": {"build": {"type": "GenAIModelBuilder", "config": {"precision": "fp32"}}},
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
    }
    (tmp_path / "workflow.json").write_text(json.dumps(workflow))
    result = olive_core.run(tmp_path / "workflow.json")
    assert not result.ok
    error = result.candidates[0].error
    assert "onnxruntime-genai builder failed" in error
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["models"][result.candidates[0].lineage[0]]["report"] == {}  # a failed attempt keeps no report
    assert not (tmp_path / "out" / "model").exists()
    assert list((tmp_path / "cache" / "artifacts").glob("*/*")) == []
    assert list((tmp_path / "cache" / "staging").iterdir()) == []


def test_the_builder_runs_only_on_the_cpu_here(built_fp32: ModelHandler) -> None:
    from olive_core.errors import ModelLoadError

    from olive_genai.model import GenAIModelType

    with pytest.raises(ModelLoadError, match="on 'cpu' here, not on 'gpu'"):
        GenAIModelType().create_session(built_fp32, AcceleratorSpec("gpu", "CUDAExecutionProvider"), {})


def test_the_builder_writes_where_the_run_says_though_the_folder_is_relative(tiny_llama_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`olive optimize --cache-dir cache` gives relative step folders, and the builder runs in its scratch folder."""
    from olive_genai.passes.builder import GenAIModelBuilder, builder_command

    monkeypatch.chdir(tmp_path)
    command = builder_command(hf_handle(tiny_llama_dir, "text-generation"), GenAIModelBuilder.Config(precision="fp32"), Path("cache/step"), Path("cache/step/.builder"))
    assert command[command.index("-o") + 1] == str(tmp_path / "cache" / "step")
    assert command[command.index("-c") + 1] == str(tmp_path / "cache" / "step" / ".builder" / "cache")
