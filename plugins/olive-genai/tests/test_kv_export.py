"""GenAIKVCacheExport: causal LMs the builder lacks, exported with their cache and run by ONNX Runtime GenAI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.errors import IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU, run_pass
from olive_torch.testing import hf_handle


class TestGenAIKVCacheExport(PassContract):
    pass_name = "GenAIKVCacheExport"

    @pytest.fixture
    def input_model(self, tiny_gpt2_dir: Path) -> ModelHandler:
        return hf_handle(tiny_gpt2_dir, "text-generation")

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        import json

        folder = Path(output_model.path)
        genai_config = json.loads((folder / "genai_config.json").read_text())
        assert genai_config["model"]["type"] == "decoder" and genai_config["model"]["decoder"]["num_hidden_layers"] == 2
        assert (folder / "tokenizer.json").is_file()


@pytest.fixture(scope="module")
def exported_gpt2(tiny_gpt2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    return run_pass("GenAIKVCacheExport", hf_handle(tiny_gpt2_dir, "text-generation"), tmp_path_factory.mktemp("gpt2-kv"))[0]


def test_the_export_generates_what_pytorch_generates(exported_gpt2: ModelHandler, tiny_gpt2_dir: Path) -> None:
    from transformers import AutoModelForCausalLM

    from olive_genai.language_model import TorchLanguageModel
    from olive_genai.model import GenAIModelType

    session = GenAIModelType().create_session(exported_gpt2, CPU, {})
    reference = TorchLanguageModel(AutoModelForCausalLM.from_pretrained(tiny_gpt2_dir).eval())
    prompts = np.array([[1, 9, 8, 7], [1, 20, 30, 40]])  # a batch: dynamic batch and past length
    ours, theirs = session.generate(prompts, 6, keep_logits=True), reference.generate(prompts, 6, keep_logits=True)
    assert ours.tokens.tolist() == theirs.tokens.tolist()
    assert np.abs(ours.step_logits - theirs.step_logits).max() < 1e-4
    assert np.abs(session.logits(prompts) - reference.logits(prompts)).max() < 1e-4


def test_an_exported_model_quantizes_like_a_built_one(exported_gpt2: ModelHandler, tmp_path: Path) -> None:
    quantized, context = run_pass("GenAIWeightOnlyQuantization", exported_gpt2, tmp_path / "q", {"algorithm": "rtn"})
    assert context.report["MatMulNBits"] > 0
    from olive_genai.model import GenAIModelType

    tokens = GenAIModelType().create_session(quantized, CPU, {}).generate(np.array([[1, 5, 6]]), 4).tokens
    assert tokens.shape == (1, 4)


def test_a_model_without_a_key_value_cache_is_refused(tmp_path: Path) -> None:
    """A state-space model keeps no key/value tensors: neither path can make it a genai model."""
    import torch
    from transformers import MambaConfig, MambaForCausalLM

    from olive_genai.testing import save_tokenizer

    folder = tmp_path / "mamba"
    torch.manual_seed(0)
    MambaForCausalLM(MambaConfig(vocab_size=256, hidden_size=32, num_hidden_layers=1, state_size=4)).save_pretrained(folder)
    save_tokenizer(folder)
    with pytest.raises(IncompatibleModelError, match="neither GenAIModelBuilder nor GenAIKVCacheExport") as error:
        run_pass("GenAIKVCacheExport", hf_handle(folder, "text-generation"), tmp_path / "out")
    assert "MambaForCausalLM" in str(error.value)
