"""What other plugins' passes write and these model types load: torchao-quantized state dicts and
LoRA adapters. torchao and peft come with olive-torch-quant; without them these tests skip."""

from __future__ import annotations

from pathlib import Path

import pytest

from olive_core.errors import ModelLoadError
from olive_torch.loading import load_torch_model


def _quantize(torch_files: Path):
    pytest.importorskip("torchao")
    import torch
    from torchao.quantization import Int8WeightOnlyConfig, quantize_

    from olive_torch.loading import import_loader

    net = import_loader(f"{torch_files / 'nets.py'}:build")().eval()
    quantize_(net, Int8WeightOnlyConfig())
    return net, torch


def test_a_torchao_state_dict_loads_with_weights_only_and_replaces_the_float_weights(make_torch_handle, torch_files, tmp_path) -> None:
    net, torch = _quantize(torch_files)
    torch.save(net.state_dict(), tmp_path / "quantized.pt")
    handle = make_torch_handle(model_path=str(tmp_path / "quantized.pt"), model_loader="nets.py:build")
    handle = handle.derive(attributes={"quantization": {"library": "torchao", "scheme": "int8_weight_only"}})
    loaded = load_torch_model(handle)
    assert type(loaded.lin.weight).__name__ == "Int8Tensor"
    x = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.equal(loaded(x), net(x))


def test_a_lora_adapter_beside_the_weights_is_applied(make_torch_handle, torch_files, tmp_path) -> None:
    pytest.importorskip("peft")
    import shutil

    import torch
    from peft import LoraConfig, get_peft_model

    from olive_torch.loading import import_loader

    base = import_loader(f"{torch_files / 'nets.py'}:build")().eval()
    adapted = get_peft_model(base, LoraConfig(target_modules=["lin"], init_lora_weights=False))
    adapted.save_pretrained(str(tmp_path / "adapter"))
    shutil.copy(torch_files / "state.safetensors", tmp_path / "state.safetensors")
    handle = make_torch_handle(model_path=str(tmp_path / "state.safetensors"), model_loader="nets.py:build")
    plain = load_torch_model(handle)
    loaded = load_torch_model(handle.derive(attributes={"adapter": "adapter"}))
    assert type(loaded).__name__ == "TinyNet"  # the same class, with LoRA layers inside
    x = torch.randn(3, 4)
    with torch.no_grad():
        assert torch.allclose(loaded(x), adapted(x)) and not torch.allclose(loaded(x), plain(x))


def test_a_missing_adapter_folder_is_a_load_error(make_torch_handle) -> None:
    pytest.importorskip("peft")
    handle = make_torch_handle(model_path="state.safetensors", model_loader="nets.py:build")
    with pytest.raises(ModelLoadError, match="peft LoRA adapter"):
        load_torch_model(handle.derive(attributes={"adapter": "no-such-adapter"}))
