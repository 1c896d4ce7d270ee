"""torchao quantization schemes: what each one is, where it runs, and its torchao config.

Measured with torchao 0.18.0 on torch 2.13 (CPU build): the INT8 schemes and INT4 through
``IntxWeightOnlyConfig`` (unpacked) run in eager mode on any CPU; packed INT4 runs on torch's
own CPU kernel (``_weight_int4pack_mm_for_cpu``) through torchao's prototype
``PrototypeInt4WeightOnlyConfig``. torchao's main ``Int4WeightOnlyConfig`` needs the CUDA-only
``mslk`` package and is not offered. None of these is faster than FP32 in eager mode on CPU;
torchao's CPU speed comes with ``torch.compile``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from types import ModuleType

Scheme = Literal["int8_dynamic", "int8_weight_only", "int4_weight_only", "int4_weight_only_unpacked"]


@dataclass(frozen=True)
class SchemeSpec:
    """One scheme: the torchao config behind it and what its weights can be saved as."""

    torchao_config: str
    summary: str
    #: whether group_size applies (None: weights are quantized per output row)
    grouped: bool
    default_group_size: int | None
    #: whether transformers can save it as safetensors (what `hf` outputs must be)
    hf_safetensors: bool
    #: devices whose kernels it runs on
    devices: tuple[str, ...] = ("cpu", "gpu")
    #: the only group sizes its kernel takes (empty: any)
    group_sizes: tuple[int, ...] = ()


SCHEMES: dict[str, SchemeSpec] = {
    "int8_dynamic": SchemeSpec(
        "Int8DynamicActivationInt8WeightConfig",
        "INT8 weights per row, activations quantized per token at run time",
        grouped=False,
        default_group_size=None,
        hf_safetensors=True,
    ),
    "int8_weight_only": SchemeSpec(
        "Int8WeightOnlyConfig",
        "INT8 weights (per row, or per group), activations stay float",
        grouped=True,
        default_group_size=None,
        hf_safetensors=True,
    ),
    "int4_weight_only": SchemeSpec(
        "PrototypeInt4WeightOnlyConfig",
        "INT4 weights packed for torch's CPU int4 matmul kernel, per group",
        grouped=True,
        default_group_size=32,
        hf_safetensors=False,
        devices=("cpu",),
        group_sizes=(32, 64, 128),
    ),
    "int4_weight_only_unpacked": SchemeSpec(
        "IntxWeightOnlyConfig(weight_dtype=int4)",
        "INT4 weight values stored one per byte and dequantized at each matmul, per group",
        grouped=True,
        default_group_size=32,
        hf_safetensors=True,
    ),
}

def import_torchao() -> ModuleType:
    """Import torchao without its warnings about CUDA extension libraries a CPU build lacks."""
    from olive_torch_quant.quiet import install_filters

    install_filters()
    import torchao
    import torchao.quantization  # registers the tensor classes torch.load allows

    return torchao


def torchao_config(scheme: str, group_size: int | None) -> Any:
    """The torchao config object of ``scheme``; ``group_size`` None takes the scheme's default."""
    import torch

    import_torchao()
    from torchao.quantization import (
        Int8DynamicActivationInt8WeightConfig,
        Int8WeightOnlyConfig,
        IntxWeightOnlyConfig,
        PerGroup,
    )

    size = group_size if group_size is not None else SCHEMES[scheme].default_group_size
    if scheme == "int8_dynamic":
        return Int8DynamicActivationInt8WeightConfig()
    if scheme == "int8_weight_only":
        return Int8WeightOnlyConfig(granularity=PerGroup(size)) if size else Int8WeightOnlyConfig()
    if scheme == "int4_weight_only":
        from torchao.prototype.quantization.int4.inference_workflow import PrototypeInt4WeightOnlyConfig

        return PrototypeInt4WeightOnlyConfig(group_size=size)
    if scheme == "int4_weight_only_unpacked":
        return IntxWeightOnlyConfig(weight_dtype=torch.int4, granularity=PerGroup(size))
    raise ValueError(f"unknown scheme {scheme!r}")


def fits(scheme: str, group_size: int | None, in_features: int, out_features: int) -> bool:
    """Whether a linear layer of this shape can take the scheme; others stay float."""
    spec = SCHEMES[scheme]
    size = group_size if group_size is not None else spec.default_group_size
    if spec.grouped and size is not None and in_features % size:
        return False
    # torch's CPU int4 packing works on blocks of 16 output rows
    return not (scheme == "int4_weight_only" and out_features % 16)


def is_quantized_tensor(tensor: Any) -> bool:
    """Whether a weight is one of torchao's quantized tensor subclasses."""
    from torchao.utils import TorchAOBaseTensor

    return isinstance(tensor, TorchAOBaseTensor)
