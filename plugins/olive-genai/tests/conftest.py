"""Tiny decoder language models built in the tests from configs (random weights, no downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.models.handler import ModelHandler
from olive_core.passes.base import PassContext

CPU = AcceleratorSpec("cpu", "CPUExecutionProvider")
#: a word-level vocabulary: special tokens, then w0 ... w251
WORDS = ["<unk>", "<s>", "</s>", "<pad>"] + [f"w{i}" for i in range(252)]
TINY_LLAMA = dict(
    vocab_size=len(WORDS), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, max_position_embeddings=128, bos_token_id=1, eos_token_id=2, pad_token_id=3,
)  # fmt: skip


@pytest.fixture(autouse=True, scope="session")
def _quiet_and_offline() -> None:
    import torch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)  # tiny models on small shared machines: one thread is fastest


def save_tokenizer(folder: Path) -> None:
    """A word-level tokenizer over WORDS, saved as transformers saves any fast tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    fast.save_pretrained(folder)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama (hidden 64, grouped-query attention) with its tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(**TINY_LLAMA)).save_pretrained(folder)
    save_tokenizer(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer GPT-2: an architecture the onnxruntime-genai builder lacks."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    torch.manual_seed(0)
    config = GPT2Config(vocab_size=len(WORDS), n_embd=64, n_layer=2, n_head=4, n_positions=128, bos_token_id=1, eos_token_id=2)
    GPT2LMHeadModel(config).save_pretrained(folder)
    save_tokenizer(folder)
    return folder


def hf_handle(folder: Path, task: str = "text-generation") -> ModelHandler:
    """A handle made the way `olive run` makes one from input_model."""
    from olive_torch.hf_model import HfModelType

    model_type = HfModelType()
    handle = model_type.create_handle("input_model", model_type.Config(model_path=str(folder), task=task), folder)
    return handle.model_copy(update={"id": model_type.content_id(handle)})


def context(data: dict | None = None) -> PassContext:
    return PassContext(accelerator=CPU, step="test", data=(lambda name: data[name]) if data is not None else None)


def run_pass(
    name: str, model: ModelHandler, output_dir: Path, batches: dict | None = None, **config
) -> tuple[ModelHandler, PassContext]:
    """Run a registered pass as the engine does (check_input, then run into an empty folder);
    ``batches`` maps data config names to their batches (what ``context.data(name)`` returns)."""
    from olive_core.plugins import create_plugin_manager

    cls = create_plugin_manager().registry.load("pass", name)
    output_dir.mkdir(parents=True, exist_ok=True)
    run_context = context(batches)
    the_pass, parsed = cls(), cls.Config(**config)
    the_pass.check_input(model, parsed, run_context)
    return the_pass.run(model, parsed, output_dir, run_context), run_context


@pytest.fixture(scope="session")
def built_fp32(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    """The tiny Llama through GenAIModelBuilder in fp32."""
    return run_pass("GenAIModelBuilder", hf_handle(tiny_llama_dir), tmp_path_factory.mktemp("built-fp32"), precision="fp32")[0]


@pytest.fixture(scope="session")
def built_int4(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    """The tiny Llama through GenAIModelBuilder with INT4 RTN weights (block 32)."""
    return run_pass("GenAIModelBuilder", hf_handle(tiny_llama_dir), tmp_path_factory.mktemp("built-int4"), precision="int4")[0]
