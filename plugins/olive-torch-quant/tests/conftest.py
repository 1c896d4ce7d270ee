"""Tiny models built from configs with random weights, and a small labeled data set; no hub access.

Models are made once per session; tests that change one copy it first. Handles are made through
olive-torch's model types, as a workflow would make them.
"""

from __future__ import annotations

import os
import random
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from olive_core.accelerators import AcceleratorSpec
from olive_core.models import IoConfig, ModelHandler
from olive_core.passes import PassContext

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

CPU = AcceleratorSpec("cpu", "CPUExecutionProvider")
WORDS = ["the", "movie", "food", "was", "is", "very", "really", "good", "great", "bad", "awful", "not"]
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
#: hidden 32 and intermediate 64: group sizes 32 divide every layer's input
TINY_BERT = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}

MLP_SOURCE = """
import torch


def build_mlp():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
"""
MLP_IO = IoConfig(
    input_names=["features"],
    input_shapes=[[2, 32]],
    input_types=["float32"],
    output_names=["logits"],
    dynamic_axes={"features": {0: "batch_size"}, "logits": {0: "batch_size"}},
)


@pytest.fixture(autouse=True, scope="session")
def _one_thread() -> None:
    # The machines these run on are small and shared: one thread is faster for tiny models.
    import torch

    torch.set_num_threads(1)


def hf_handle(folder: Path, task: str = "text-classification") -> ModelHandler:
    """A handle made the way `olive run` makes one from input_model."""
    from olive_torch.hf_model import HfModelType

    handle = HfModelType().create_handle("input_model", HfModelType.Config(model_path=str(folder), task=task), folder)
    return handle.model_copy(update={"id": HfModelType().content_id(handle)})


def pytorch_handle(weights: Path, loader: Path) -> ModelHandler:
    from olive_torch.pytorch_model import PyTorchModelType

    config = PyTorchModelType.Config(model_path=str(weights), model_loader=f"{loader}:build_mlp", io_config=MLP_IO)
    return PyTorchModelType().create_handle("input_model", config, weights.parent)


def context(data: dict[str, list[dict[str, np.ndarray]]] | None = None, device: str = "cpu") -> PassContext:
    """A pass context whose ``data(name)`` returns the given batches, as the engine's does."""
    accelerator = CPU if device == "cpu" else AcceleratorSpec(device, "CUDAExecutionProvider")
    return PassContext(
        accelerator=accelerator, step="test", data=(lambda name: data[name]) if data is not None else None
    )


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer BertForSequenceClassification (2 labels) with a word-level tokenizer."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder = tmp_path_factory.mktemp("tiny-classifier")
    torch.manual_seed(0)
    BertForSequenceClassification(BertConfig(vocab_size=len(VOCAB), num_labels=2, **TINY_BERT)).save_pretrained(folder)
    BertTokenizer(vocab={word: index for index, word in enumerate(VOCAB)}).save_pretrained(folder)
    return folder


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
    return hf_handle(tiny_classifier_dir)


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


def sentences(count: int, seed: int = 0) -> list[tuple[str, int]]:
    """Short reviews labeled 1 when the adjective is good or great, 0 when bad or awful."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        positive = rng.random() < 0.5
        adjective = rng.choice(["good", "great"] if positive else ["bad", "awful"])
        words = ["the", rng.choice(["movie", "food"]), rng.choice(["was", "is"]), rng.choice(["very", "really"])]
        rows.append((" ".join([*words, adjective]), int(positive)))
    return rows


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


def load(model: ModelHandler) -> Any:
    from olive_torch.loading import load_torch_model

    return load_torch_model(model)


def outputs(model: ModelHandler, seed: int = 0) -> Any:
    """The model's first output on seeded dummy inputs, as olive-torch loads and calls it."""
    import torch

    from olive_torch.io import dummy_inputs
    from olive_torch.wrapping import wrap_for_io

    with torch.inference_mode():
        return wrap_for_io(load(model), model)(*dummy_inputs(model, seed=seed).values())[0]


# -- the lora-classifier example ---------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "lora-classifier"


def olive(*args: str, cwd: Path) -> Any:
    """``olive ...`` in a subprocess, as a user runs it, with this interpreter's olive."""
    import shutil
    import subprocess
    import sys

    executable = shutil.which("olive", path=str(Path(sys.executable).parent)) or "olive"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OLIVE_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    return subprocess.run([executable, *args], capture_output=True, text=True, env=env, cwd=cwd)


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


def example_steps(folder: Path) -> Any:
    """The example's steps.py, which reads the accuracy after each step from run.json."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("lora_classifier_steps", folder / "steps.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module
