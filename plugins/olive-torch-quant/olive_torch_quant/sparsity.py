"""What pruning achieved, measured on the weights themselves, for the lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


def sparsity_report(
    module: torch.nn.Module, pruned: list[tuple[str, torch.nn.Linear]], target: float | None
) -> dict[str, Any]:
    """Zeros among the pruned layers' weights and among all parameters, with parameter counts.

    ``target`` is the sparsity asked for (None when the pattern fixes it); ``achieved`` is measured
    over the pruned weights, ``model_sparsity`` over every parameter (embeddings and norms too).
    """
    pruned_total = sum(layer.weight.numel() for _, layer in pruned)
    pruned_zeros = sum(int((layer.weight == 0).sum()) for _, layer in pruned)
    total = sum(parameter.numel() for parameter in module.parameters())
    zeros = sum(int((parameter == 0).sum()) for parameter in module.parameters())
    return {
        "target_sparsity": target,
        "achieved_sparsity": round(pruned_zeros / pruned_total, 6) if pruned_total else 0.0,
        "model_sparsity": round(zeros / total, 6) if total else 0.0,
        "pruned_layers": len(pruned),
        "parameters": total,
        "nonzero_parameters": total - zeros,
    }
