"""MagnitudePruning: zero the smallest weights of the linear layers, to a target sparsity."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable

from olive_torch_quant.targets import OUTPUT_HEADS
from olive_torch_quant.torch_models import check_rewritable


class MagnitudePruningConfig(PassConfig):
    sparsity: Annotated[float, Searchable(choices=(0.3, 0.5, 0.7))] = Field(
        default=0.5, ge=0.0, lt=1.0, description="fraction of the pruned layers' weights set to zero"
    )
    scope: Annotated[Literal["layer", "global"], Searchable()] = Field(
        default="layer",
        description="'layer': every layer loses the same fraction; 'global': one magnitude threshold "
        "across all pruned layers, so layers with small weights lose more",
    )
    skip_modules: Annotated[list[str], Searchable(choices=([], list(OUTPUT_HEADS)))] = Field(
        default_factory=list,
        description="modules left dense: full names, name suffixes ('classifier') or globs ('*.attention.*')",
    )


class MagnitudePruning(Pass):
    """Unstructured magnitude pruning: zero the smallest-magnitude weights of every nn.Linear.

    The layers keep their shapes (the zeros are stored): the model is no smaller or faster by
    itself, but compresses well and feeds sparse kernels. Reports the target and achieved
    sparsity and the parameter counts.
    """

    Config = MagnitudePruningConfig
    version = "1"
    input_types = ("hf", "pytorch")
    output_type = None  # the output keeps the input's type

    def check_input(self, model: ModelHandler, config: MagnitudePruningConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        check_rewritable("MagnitudePruning", model)

    def run(
        self, model: ModelHandler, config: MagnitudePruningConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import torch

        from olive_torch_quant.sparsity import sparsity_report
        from olive_torch_quant.targets import linear_layers
        from olive_torch_quant.torch_models import load_module, save_module

        module = load_module(model)
        layers = linear_layers(module, config.skip_modules)
        if not layers:
            context.warn(f"no nn.Linear layer to prune (skip_modules: {config.skip_modules})")
        with torch.no_grad():
            if config.scope == "global" and layers:
                magnitudes = torch.cat([layer.weight.abs().flatten() for _, layer in layers])
                threshold = _kth_smallest(magnitudes, config.sparsity)
                for _, layer in layers:
                    layer.weight.masked_fill_(layer.weight.abs() <= threshold, 0.0)
            else:
                for _, layer in layers:
                    threshold = _kth_smallest(layer.weight.abs().flatten(), config.sparsity)
                    layer.weight.masked_fill_(layer.weight.abs() <= threshold, 0.0)
        context.report.update(sparsity_report(module, layers, config.sparsity))
        return save_module(module, model, output_dir)


def _kth_smallest(values: object, fraction: float) -> float:
    """The magnitude at or below which ``fraction`` of ``values`` lie (-1 when nothing is pruned)."""
    count = round(fraction * values.numel())  # type: ignore[attr-defined]
    if count <= 0:
        return -1.0
    return float(values.kthvalue(count).values)  # type: ignore[attr-defined]
