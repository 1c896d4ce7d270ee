"""Tiny models built from configs with random weights, and a small labeled data set; no hub access.

Models are made once per session; tests that change one copy it first. Handles are made through
olive-torch's model types, as a workflow would make them.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.models import ModelHandler
from olive_core.passes import PassContext
from olive_torch.testing import hf_handle, save_tiny_bert
from olive_torch_quant.testing import MLP_SOURCE, VOCAB, context, pytorch_handle, sentences

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    # The machines these run on are small and shared: one thread is faster for tiny models.
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BertForSequenceClassification (2 labels) with a word-level tokenizer; intermediate
    size 64, so that group sizes of 32 divide every layer's input."""
    folder = tmp_path_factory.mktemp("tiny-classifier")
    return save_tiny_bert(folder, "BertForSequenceClassification", vocab=VOCAB, num_labels=2, intermediate_size=64)


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama with grouped-query attention: 4 heads of size 8 sharing 2 key/value heads."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    folder = tmp_path_factory.mktemp("tiny-llama")
    config = LlamaConfig(
        vocab_size=64,
        hidden_size=32,
        intermediate_size=48,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture
def classifier(tiny_classifier_dir: Path) -> ModelHandler:
    return hf_handle(tiny_classifier_dir, "text-classification")


@pytest.fixture(scope="session")
def mlp_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 32 -> 64 -> 2 MLP: its loader file and its weights as safetensors."""
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("tiny-mlp")
    loader = folder / "mlp.py"
    loader.write_text(textwrap.dedent(MLP_SOURCE))
    namespace: dict[str, Any] = {}
    exec(compile(loader.read_text(), str(loader), "exec"), namespace)
    weights = folder / "mlp.safetensors"
    save_file({k: v.contiguous() for k, v in namespace["build_mlp"]().state_dict().items()}, str(weights))
    return weights, loader


@pytest.fixture
def mlp(mlp_files: tuple[Path, Path]) -> ModelHandler:
    return pytorch_handle(*mlp_files)


@pytest.fixture(scope="session")
def review_batches(tiny_classifier_dir: Path) -> list[dict[str, np.ndarray]]:
    """64 tokenized reviews in batches of 16, each with its label in 'labels'."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_classifier_dir)
    rows = sentences(64)
    batches = []
    for start in range(0, len(rows), 16):
        chunk = rows[start : start + 16]
        encoded = tokenizer([text for text, _ in chunk], padding="max_length", max_length=8, return_tensors="np")
        batch = {key: np.asarray(value, dtype=np.int64) for key, value in encoded.items()}
        batch["labels"] = np.asarray([label for _, label in chunk], dtype=np.int64)
        batches.append(batch)
    return batches


@pytest.fixture(scope="session")
def mlp_batches() -> list[dict[str, np.ndarray]]:
    """Points labeled by the sign of their first feature."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(64, 32)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.int64)
    return [{"features": features[i : i + 16], "labels": labels[i : i + 16]} for i in range(0, 64, 16)]


@pytest.fixture
def run_pass(tmp_path: Path) -> Callable[..., tuple[ModelHandler, PassContext]]:
    """Run a pass by class on a model, the way the engine does: check_input, then run."""
    counter = iter(range(1000))

    def run(
        pass_class: type, model: ModelHandler, config: dict[str, Any] | None = None, ctx: PassContext | None = None
    ) -> tuple[ModelHandler, PassContext]:
        ctx = ctx or context()
        the_pass = pass_class()
        parsed = pass_class.Config(**(config or {}))
        the_pass.check_input(model, parsed, ctx)
        output_dir = tmp_path / f"step-{next(counter)}"
        output_dir.mkdir()
        return the_pass.run(model, parsed, output_dir, ctx), ctx

    return run


# -- the lora-classifier example ---------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "lora-classifier"


@pytest.fixture(scope="session")
def prepared_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the example with its data and base model built (once: the runs share its cache)."""
    import shutil
    import subprocess
    import sys

    folder = tmp_path_factory.mktemp("example") / "lora-classifier"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("output*", ".cache", "build", "__pycache__"))
    done = subprocess.run([sys.executable, str(folder / "prepare.py")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return folder

