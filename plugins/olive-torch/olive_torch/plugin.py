"""The entry point olive-core discovers: registers components by import path, imports nothing heavy."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


@hookimpl
def register_model_types(register: Registrar) -> None:
    register("hf", "olive_torch.hf_model:HfModelType")
    register("pytorch", "olive_torch.pytorch_model:PyTorchModelType")


@hookimpl
def register_data_components(register: Registrar) -> None:
    register("hf_tokenize", "olive_torch.data:HfTokenize")
