"""MergeLoRA: fold a LoRA adapter into the base weights, leaving a plain model."""

from __future__ import annotations

import warnings
from pathlib import Path

from pydantic import Field

from olive_core.errors import IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext

from olive_torch_quant.torch_models import ADAPTER, adapter_dir, check_rewritable


class MergeLoRAConfig(PassConfig):
    safe_merge: bool = Field(
        default=True, description="check the merged weights for NaNs before replacing the base weights"
    )


class MergeLoRA(Pass):
    """Merge a model's LoRA adapter into its base weights (peft merge_and_unload), leaving a plain model.

    The output has the original architecture and no adapter, so any pass or exporter takes it.
    Reports the largest output difference from the adapter model on dummy inputs (it should be
    at float rounding level).
    """

    Config = MergeLoRAConfig
    version = "1"
    input_types = ("hf", "pytorch")
    output_type = None  # the output keeps the input's type

    def check_input(self, model: ModelHandler, config: MergeLoRAConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        check_rewritable("MergeLoRA", model, adapter_ok=True)
        if adapter_dir(model) is None:
            raise IncompatibleModelError(
                "MergeLoRA merges a LoRA adapter, but this model carries none",
                hint="put a LoRAFinetuning step before it",
            )

    def run(self, model: ModelHandler, config: MergeLoRAConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        import torch

        from olive_torch.api import dummy_inputs, wrap_for_io

        from olive_torch_quant.torch_models import load_module, save_module

        from peft import PeftModel

        inputs = tuple(dummy_inputs(model).values())
        with torch.inference_mode():
            expected = wrap_for_io(load_module(model), model)(*inputs)  # olive-torch applies the adapter
        folder = adapter_dir(model)
        plain = model.derive(files=[f for f in model.files if Path(f) != folder], attributes={ADAPTER: None})
        with warnings.catch_warnings():
            # peft 0.21 reads a property transformers 5 deprecates: nothing for a user to do
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
            adapted = PeftModel.from_pretrained(load_module(plain), str(folder))
        merged = adapted.merge_and_unload(safe_merge=config.safe_merge)
        with torch.inference_mode():
            actual = wrap_for_io(merged, model)(*inputs)
        difference = max(float((a.float() - b.float()).abs().max()) for a, b in zip(expected, actual))
        context.report.update(
            {"max_abs_diff_on_dummy_inputs": difference, "parameters": sum(p.numel() for p in merged.parameters())}
        )
        return save_module(merged, plain, output_dir)
