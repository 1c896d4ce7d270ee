"""NMSparsity: keep the N largest of every M consecutive weights (2:4 by default)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable

from olive_torch_quant.targets import OUTPUT_HEADS
from olive_torch_quant.torch_models import check_rewritable


class NMSparsityConfig(PassConfig):
    n: int = Field(default=2, ge=1, le=1023, description="weights kept in each group")
    m: int = Field(default=4, ge=2, le=1024, description="consecutive weights along the input axis that form a group")
    skip_modules: Annotated[list[str], Searchable(choices=([], list(OUTPUT_HEADS)))] = Field(
        default_factory=list,
        description="modules left dense: full names, name suffixes ('classifier') or globs ('*.attention.*')",
    )

    @model_validator(mode="after")
    def _n_below_m(self) -> NMSparsityConfig:
        if self.n >= self.m:
            raise ValueError(f"n ({self.n}) must be smaller than m ({self.m})")
        return self


class NMSparsity(Pass):
    """N:M sparsity (2:4 by default): keep the N largest of every M consecutive weights of each nn.Linear.

    2:4 is the pattern sparse tensor cores run. Weights stay dense with their zeros: PyTorch's 2:4
    sparse kernels are CUDA-only, so on CPU this brings no speed-up by itself. Layers whose input
    size M does not divide stay dense (a warning names them). Reports the achieved sparsity and
    the parameter counts.
    """

    Config = NMSparsityConfig
    version = "1"
    input_types = ("hf", "pytorch")
    output_type = None  # the output keeps the input's type

    def check_input(self, model: ModelHandler, config: NMSparsityConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        check_rewritable("NMSparsity", model)

    def run(
        self, model: ModelHandler, config: NMSparsityConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import torch

        from olive_torch_quant.sparsity import sparsity_report
        from olive_torch_quant.targets import linear_layers
        from olive_torch_quant.torch_models import load_module, save_module

        module = load_module(model)
        layers = linear_layers(module, config.skip_modules)
        fitting = [(name, layer) for name, layer in layers if layer.in_features % config.m == 0]
        left = [name for name, layer in layers if layer.in_features % config.m != 0]
        if left:
            context.warn(
                f"{len(left)} layer(s) stay dense: input size not a multiple of {config.m} ({', '.join(left[:4])})"
            )
        with torch.no_grad():
            for _, layer in fitting:
                groups = layer.weight.view(-1, config.m)
                smallest = groups.abs().topk(config.m - config.n, dim=1, largest=False).indices
                groups.scatter_(1, smallest, 0.0)  # a view: writes into the weight
        report = sparsity_report(module, fitting, None)
        context.report.update({"pattern": f"{config.n}:{config.m}", **report})
        return save_module(module, model, output_dir)
