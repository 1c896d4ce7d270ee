"""The entry point olive-core loads: registers passes by import path, imports nothing heavy."""

from __future__ import annotations

from olive_core import hookimpl
from olive_core.registry import Registrar

from olive_torch_quant.quiet import install_filters

olive_plugin_api = "1.0"

install_filters()

PASSES = {
    "TorchAOQuantization": "olive_torch_quant.quantization:TorchAOQuantization",
    "MagnitudePruning": "olive_torch_quant.magnitude_pruning:MagnitudePruning",
    "NMSparsity": "olive_torch_quant.nm_sparsity:NMSparsity",
    "StructuredPruning": "olive_torch_quant.structured_pruning:StructuredPruning",
    "LoRAFinetuning": "olive_torch_quant.lora:LoRAFinetuning",
    "MergeLoRA": "olive_torch_quant.merge:MergeLoRA",
}


@hookimpl
def register_passes(register: Registrar) -> None:
    for name, target in PASSES.items():
        register(name, target)
