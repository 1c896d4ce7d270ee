"""text_blocks and prompts on the tiny word-level tokenizer: w<i> is token i + 4, </s> is 2, <pad> 3, <s> 1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from olive_core.bounds import unbounded_numbers
from olive_core.errors import DataError
from olive_core.evaluation.batching import make_batches
from olive_core.evaluation.data import DataContext
from olive_core.plugins import create_plugin_manager
from olive_core.testing import DataComponentContract

from olive_genai.data import Prompts, PromptsConfig, TextBlocks, TextBlocksConfig, token_batches
from olive_torch.testing import hf_handle

TEXTS = [{"text": "w1 w2 w3"}, {"text": "w4 w5"}]  # tokens 5 6 7 | 8 9


@pytest.fixture(scope="module")
def context(tiny_llama_dir: Path) -> DataContext:
    return DataContext(model=hf_handle(tiny_llama_dir, "text-generation"), name="corpus")


def blocks(context: DataContext, samples: list = TEXTS, **config: object) -> list[list[int]]:
    return [sample["input_ids"].tolist() for sample in TextBlocks()(samples, TextBlocksConfig(**config), context)]


class TestTextBlocksContract(DataComponentContract):
    component_name = "text_blocks"
    configs = [{"block_size": 2}, {"block_size": 2, "stride": 1, "max_blocks": 2}]

    @pytest.fixture
    def value(self) -> list:
        return TEXTS

    @pytest.fixture
    def context(self, tiny_llama_dir: Path) -> DataContext:
        return DataContext(model=hf_handle(tiny_llama_dir, "text-generation"), name="corpus")


class TestPromptsContract(TestTextBlocksContract):
    component_name = "prompts"
    configs = [{}, {"length": 3, "add_bos": True}]


def test_registered_with_bounded_configs() -> None:
    registry = create_plugin_manager().registry
    assert registry.load("data_component", "text_blocks") is TextBlocks
    assert registry.load("data_component", "prompts") is Prompts
    assert unbounded_numbers(TextBlocksConfig) == [] and unbounded_numbers(PromptsConfig) == []
    assert TextBlocks.role == Prompts.role == "preprocess" and TextBlocks.uses_model and Prompts.uses_model


def test_text_blocks_join_texts_with_eos_and_drop_the_incomplete_block(context: DataContext) -> None:
    assert blocks(context, block_size=2) == [[5, 6], [7, 2], [8, 9]]
    assert blocks(context, block_size=4) == [[5, 6, 7, 2]]
    assert blocks(context, block_size=4, stride=2) == [[5, 6, 7, 2], [7, 2, 8, 9]]
    assert blocks(context, block_size=2, max_blocks=2) == [[5, 6], [7, 2]]
    out = TextBlocks()(TEXTS, TextBlocksConfig(block_size=3), context)
    assert all(sample.keys() == {"input_ids"} and sample["input_ids"].dtype == np.int64 for sample in out)


def test_text_blocks_refuse_too_little_text_and_a_missing_field(context: DataContext) -> None:
    with pytest.raises(DataError, match="makes 6 tokens, fewer than one block of 7") as raised:
        blocks(context, block_size=7)
    assert "block_size" in raised.value.hint
    with pytest.raises(DataError, match="sample 1 has no text field 'text' \\(it has: body\\)"):
        blocks(context, [{"text": "w1"}, {"body": "w2"}], block_size=2)
    with pytest.raises(ValidationError, match="would skip tokens"):
        TextBlocksConfig(block_size=4, stride=5)


def test_a_tokenizer_folder_stands_in_for_the_model(tiny_llama_dir: Path) -> None:
    bare = DataContext(model=None, base_dir=tiny_llama_dir.parent, name="corpus")
    assert blocks(bare, block_size=3, tokenizer=tiny_llama_dir.name) == [[5, 6, 7], [2, 8, 9]]


def test_prompts_keep_each_text_or_pad_and_cut_to_one_length(context: DataContext) -> None:
    def prompts(**config: object) -> list[list[int]]:
        return [sample["input_ids"].tolist() for sample in Prompts()(TEXTS, PromptsConfig(**config), context)]

    assert prompts() == [[5, 6, 7], [8, 9]]
    assert prompts(add_bos=True) == [[1, 5, 6, 7], [1, 8, 9]]
    assert prompts(length=3) == [[5, 6, 7], [3, 8, 9]]  # left padding: the prompt ends where generation starts
    assert prompts(length=2, add_bos=True) == [[1, 5], [1, 8]]
    with pytest.raises(DataError, match="sample 1 makes an empty prompt"):
        Prompts()([{"text": "w1"}, {"text": " "}], PromptsConfig(), context)


def test_prompts_of_different_lengths_batch_only_one_at_a_time(context: DataContext) -> None:
    samples = Prompts()(TEXTS, PromptsConfig(), context)
    with pytest.raises(DataError, match="set batch_size to 1"):
        make_batches(samples, 2, "corpus")
    batches, _ = make_batches(samples, 1, "corpus")
    assert [ids.tolist() for ids in token_batches(batches, "token_agreement")] == [[[5, 6, 7]], [[8, 9]]]


def test_metrics_refuse_data_without_token_ids() -> None:
    with pytest.raises(DataError, match="metric 'perplexity' needs data"):
        token_batches(None, "perplexity")
    with pytest.raises(DataError, match="batch 0 of its data has no 'input_ids' \\(it has: text\\)") as raised:
        token_batches([{"text": np.array(["w1"])}], "perplexity")
    assert "text_blocks" in raised.value.hint
    with pytest.raises(DataError, match="float32\\[1, 2\\], not \\[batch, tokens\\] integers"):
        token_batches([{"input_ids": np.zeros((1, 2), np.float32)}], "perplexity")
