"""diffusion_prompts: prompts to token ids (the pipeline's tokenizer and length) and one seed each."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from olive_core.errors import DataError
from olive_core.evaluation.data import DataContext
from olive_core.models import ModelHandler

from olive_diffusion.data import DiffusionPrompts, DiffusionPromptsConfig
from olive_diffusion.testing import TEXT_LENGTH


def test_prompts_become_fixed_length_ids_and_seeds(base_model: ModelHandler, onnx_model: ModelHandler) -> None:
    samples = [{"text": "a red fox"}, {"text": "a cat", "seed": 99}, {"text": "x " * 40}]
    for model in (base_model, onnx_model):
        prepared = DiffusionPrompts()(samples, DiffusionPromptsConfig(seed=7), DataContext(model=model, name="prompts"))
        assert [sample["seed"] for sample in prepared] == [7, 99, 9]
        assert all(
            sample["input_ids"].shape == (TEXT_LENGTH,) and sample["input_ids"].dtype == np.int64 for sample in prepared
        )
        assert set(prepared[0]) == {"input_ids", "seed"}
    assert prepared[0]["input_ids"][0] == 0 and prepared[0]["input_ids"][-1] == 1  # start token, then padding


def test_a_missing_prompt_or_a_non_pipeline_model_is_named(base_model: ModelHandler, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no text field 'prompt'"):
        DiffusionPrompts()(
            [{"text": "a"}], DiffusionPromptsConfig(text_field="prompt"), DataContext(model=base_model, name="p")
        )
    onnx = ModelHandler(type="onnx", path=str(tmp_path / "model.onnx"))
    with pytest.raises(DataError, match="'onnx'"):
        DiffusionPrompts()([{"text": "a"}], DiffusionPromptsConfig(), DataContext(model=onnx, name="p"))
