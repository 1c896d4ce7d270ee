"""StructuredPruning: remove whole feed-forward channels or attention heads, shrinking the layers."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field

from olive_core.errors import IncompatibleModelError, PassError
from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable

from olive_torch_quant.torch_models import check_rewritable

if TYPE_CHECKING:
    import torch

PASS_NAME = "StructuredPruning"


class StructuredPruningConfig(PassConfig):
    target: Literal["ffn_channels", "attention_heads"] = Field(
        default="ffn_channels",
        description="'ffn_channels': the hidden channels of every feed-forward block (config "
        "intermediate_size); 'attention_heads': whole key/value head groups of every attention block "
        "(models whose config sets head_dim, such as Llama, Mistral and Qwen)",
    )
    ratio: Annotated[float, Searchable(choices=(0.25, 0.5))] = Field(
        default=0.25, gt=0.0, lt=1.0, description="fraction of channels (or head groups) removed from every block"
    )
    round_to: int = Field(
        default=1, ge=1, le=4096, description="keep a multiple of this many feed-forward channels (e.g. 8, for kernels)"
    )


class StructuredPruning(Pass):
    """Remove the lowest-norm feed-forward channels or attention heads of an `hf` model; layers shrink.

    Every layer keeps the same number, written into config.json (intermediate_size, or
    num_attention_heads / num_key_value_heads), so from_pretrained builds the smaller model. The
    pruned model is reloaded and run once as a check. Reports the sizes and parameter counts
    before and after. `pytorch` models are refused: their model_loader builds the original shapes.
    """

    Config = StructuredPruningConfig
    version = "1"
    input_types = ("hf",)
    output_type = "hf"

    def check_input(self, model: ModelHandler, config: StructuredPruningConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        check_rewritable(PASS_NAME, model)
        from olive_torch.api import read_hf_config

        hf_config = read_hf_config(model)
        kind = hf_config.get("model_type", "this")
        if config.target == "ffn_channels":
            inter, hidden = hf_config.get("intermediate_size"), hf_config.get("hidden_size")
            if not inter:
                raise IncompatibleModelError(
                    f"{PASS_NAME} finds feed-forward blocks through config.json's intermediate_size, "
                    f"which the {kind} config does not have"
                )
            if inter == hidden:
                raise IncompatibleModelError(
                    f"{PASS_NAME} cannot tell feed-forward from attention layers when intermediate_size "
                    f"equals hidden_size ({inter})"
                )
        elif not hf_config.get("head_dim"):
            raise IncompatibleModelError(
                f"{PASS_NAME} cannot remove attention heads from a {kind} model: its config derives the head "
                "size from hidden_size / num_attention_heads, so a model with fewer heads cannot be described "
                "(transformers 5 dropped prune_heads)",
                hint="prune target 'ffn_channels' instead",
            )

    def run(
        self, model: ModelHandler, config: StructuredPruningConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        from olive_torch_quant.torch_models import load_module, parameter_count, save_module

        module = load_module(model)
        before = parameter_count(module)
        if config.target == "ffn_channels":
            facts = _prune_ffn(module, config)
        else:
            facts = _prune_heads(module, config)
        after = parameter_count(module)
        output = save_module(module, model, output_dir)
        _check_runs(output)
        context.report.update(
            {
                "target": config.target,
                "ratio": config.ratio,
                **facts,
                "parameters_before": before,
                "parameters_after": after,
                "parameter_reduction": round(1 - after / before, 6),
            }
        )
        return output


# -- feed-forward channels -----------------------------------------------------------------------


def _prune_ffn(module: torch.nn.Module, config: StructuredPruningConfig) -> dict[str, Any]:
    import torch

    inter = int(module.config.intermediate_size)
    keep = max(config.round_to, int(inter * (1 - config.ratio)) // config.round_to * config.round_to)
    blocks = _ffn_blocks(module, inter)
    with torch.no_grad():
        for ups, downs in blocks.values():
            scores = sum(layer.weight.pow(2).sum(dim=1) for _, layer in ups) + sum(
                layer.weight.pow(2).sum(dim=0) for _, layer in downs
            )
            kept = scores.topk(keep).indices.sort().values
            for name, layer in ups:
                _replace(module, name, _slice_linear(layer, rows=kept))
            for name, layer in downs:
                _replace(module, name, _slice_linear(layer, columns=kept))
    module.config.intermediate_size = keep
    return {"blocks": len(blocks), "intermediate_size_before": inter, "intermediate_size_after": keep}


def _ffn_blocks(module: torch.nn.Module, inter: int) -> dict[str, tuple[list[Any], list[Any]]]:
    """Per numbered layer: the linears into the intermediate size (up, gate) and out of it (down)."""
    import torch

    blocks: dict[str, tuple[list[Any], list[Any]]] = {}
    for name, layer in module.named_modules():
        if not isinstance(layer, torch.nn.Linear):
            continue
        key = _block_key(name)
        if key is None:
            continue
        if layer.out_features == inter:
            blocks.setdefault(key, ([], []))[0].append((name, layer))
        elif layer.in_features == inter:
            blocks.setdefault(key, ([], []))[1].append((name, layer))
    incomplete = [key for key, (ups, downs) in blocks.items() if not ups or not downs]
    if not blocks or incomplete:
        raise IncompatibleModelError(
            f"{PASS_NAME} found no feed-forward block of nn.Linear layers into and out of intermediate_size "
            f"{inter}" + (f" in {', '.join(incomplete[:3])}" if incomplete else "")
        )
    return blocks


def _block_key(name: str) -> str | None:
    """``bert.encoder.layer.3`` for any module inside layer 3: the path up to the first index."""
    parts = name.split(".")
    for index, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[: index + 1])
    return None


# -- attention heads -----------------------------------------------------------------------------


def _prune_heads(module: torch.nn.Module, config: StructuredPruningConfig) -> dict[str, Any]:
    import torch

    hf_config = module.config
    heads, head_dim = int(hf_config.num_attention_heads), int(hf_config.head_dim)
    kv_heads = int(getattr(hf_config, "num_key_value_heads", None) or heads)
    per_group = heads // kv_heads
    keep = max(1, round(kv_heads * (1 - config.ratio)))
    attentions = [
        (name, layer)
        for name, layer in module.named_modules()
        if all(
            isinstance(getattr(layer, part, None), torch.nn.Linear) for part in ("q_proj", "k_proj", "v_proj", "o_proj")
        )
    ]
    if not attentions:
        raise IncompatibleModelError(
            f"{PASS_NAME} found no attention block with q_proj, k_proj, v_proj and o_proj layers"
        )
    with torch.no_grad():
        for _, attention in attentions:
            q_rows = attention.q_proj.weight.view(kv_heads, per_group * head_dim, -1)
            kv_rows = [getattr(attention, part).weight.view(kv_heads, head_dim, -1) for part in ("k_proj", "v_proj")]
            o_columns = attention.o_proj.weight.view(-1, kv_heads, per_group * head_dim)
            scores = (
                q_rows.pow(2).sum(dim=(1, 2))
                + sum(rows.pow(2).sum(dim=(1, 2)) for rows in kv_rows)
                + o_columns.pow(2).sum(dim=(0, 2))
            )
            groups = scores.topk(keep).indices.sort().values
            q_index = _expand(groups, per_group * head_dim)
            kv_index = _expand(groups, head_dim)
            attention.q_proj = _slice_linear(attention.q_proj, rows=q_index)
            attention.k_proj = _slice_linear(attention.k_proj, rows=kv_index)
            attention.v_proj = _slice_linear(attention.v_proj, rows=kv_index)
            attention.o_proj = _slice_linear(attention.o_proj, columns=q_index)
    hf_config.num_attention_heads = keep * per_group
    hf_config.num_key_value_heads = keep
    hf_config.head_dim = head_dim  # explicit: no longer hidden_size / num_attention_heads
    return {
        "blocks": len(attentions),
        "attention_heads_before": heads,
        "attention_heads_after": keep * per_group,
        "key_value_heads_before": kv_heads,
        "key_value_heads_after": keep,
    }


def _expand(groups: torch.Tensor, size: int) -> torch.Tensor:
    """Row indices of whole groups of ``size`` rows."""
    import torch

    return (groups[:, None] * size + torch.arange(size)).flatten()


# -- shared --------------------------------------------------------------------------------------


def _slice_linear(
    layer: torch.nn.Linear, rows: torch.Tensor | None = None, columns: torch.Tensor | None = None
) -> torch.nn.Linear:
    """A new, smaller nn.Linear holding the chosen output rows or input columns of ``layer``."""
    import torch

    weight = layer.weight
    weight = weight[rows] if rows is not None else weight
    weight = weight[:, columns] if columns is not None else weight
    bias = layer.bias
    if bias is not None and rows is not None:
        bias = bias[rows]
    smaller = torch.nn.Linear(weight.shape[1], weight.shape[0], bias=bias is not None, dtype=weight.dtype)
    smaller.weight.copy_(weight)
    if bias is not None:
        smaller.bias.copy_(bias)
    return smaller


def _replace(module: torch.nn.Module, name: str, new: torch.nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    setattr(module.get_submodule(parent_name) if parent_name else module, child, new)


def _check_runs(output: ModelHandler) -> None:
    """Reload the saved model and run it once: a wrong shape must fail here, not in a later step."""
    import torch

    from olive_torch.api import dummy_inputs, wrap_for_io

    from olive_torch_quant.torch_models import load_module

    try:
        reloaded = wrap_for_io(load_module(output), output)
        with torch.inference_mode():
            reloaded(*dummy_inputs(output).values())
    except Exception as exc:
        raise PassError(PASS_NAME, f"the pruned model does not load back and run: {type(exc).__name__}: {exc}") from exc
