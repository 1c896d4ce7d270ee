"""Tiny decoder language models (olive_genai.testing) and the genai models made from them, once per session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from olive_core.models.handler import ModelHandler
from olive_core.testing.steps import run_pass
from olive_genai.testing import TINY_LLAMA, WORDS, save_tokenizer
from olive_torch.testing import hf_handle


@pytest.fixture(autouse=True, scope="session")
def _quiet_and_offline() -> None:
    import torch

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.set_num_threads(1)  # tiny models on small shared machines: one thread is fastest


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


@pytest.fixture(scope="session")
def built_fp32(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    """The tiny Llama through GenAIModelBuilder in fp32."""
    model = hf_handle(tiny_llama_dir, "text-generation")
    return run_pass("GenAIModelBuilder", model, tmp_path_factory.mktemp("built-fp32"), {"precision": "fp32"})[0]


@pytest.fixture(scope="session")
def built_int4(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelHandler:
    """The tiny Llama through GenAIModelBuilder with INT4 RTN weights (block 32)."""
    model = hf_handle(tiny_llama_dir, "text-generation")
    return run_pass("GenAIModelBuilder", model, tmp_path_factory.mktemp("built-int4"), {"precision": "int4"})[0]
