"""TorchAOQuantization: quantize the linear layers of an `hf` or `pytorch` model with torchao."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import Field, model_validator

from olive_core.errors import IncompatibleModelError
from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable

from olive_torch_quant.schemes import SCHEMES, Scheme
from olive_torch_quant.targets import OUTPUT_HEADS
from olive_torch_quant.torch_models import QUANTIZATION, check_rewritable

if TYPE_CHECKING:
    import torch


class TorchAOQuantizationConfig(PassConfig):
    scheme: Annotated[Scheme, Searchable()] = Field(
        default="int8_dynamic",
        description="'int8_dynamic' (INT8 weights, activations quantized per token at run time), "
        "'int8_weight_only', 'int4_weight_only' (packed INT4 on torch's CPU kernel; pytorch models only: "
        "it has no safetensors form) or 'int4_weight_only_unpacked' (INT4 values stored in INT8, for hf models)",
    )
    group_size: Annotated[int | None, Searchable(choices=(32, 64, 128), when=(("scheme", "int4_weight_only"),))] = (
        Field(
            default=None,
            ge=1,
            le=65_536,
            description="input channels sharing one scale; null: per output row for INT8, 32 for INT4. "
            "Layers whose input size it does not divide stay float",
        )
    )
    skip_modules: Annotated[list[str], Searchable(choices=([], list(OUTPUT_HEADS)))] = Field(
        default_factory=list,
        description="modules left in float: full names, name suffixes ('classifier') or globs ('*.attention.*')",
    )

    @model_validator(mode="after")
    def _group_size_applies(self) -> TorchAOQuantizationConfig:
        if self.group_size is not None and not SCHEMES[self.scheme].grouped:
            raise ValueError(f"scheme '{self.scheme}' quantizes weights per row; group_size does not apply to it")
        allowed = SCHEMES[self.scheme].group_sizes
        if self.group_size is not None and allowed and self.group_size not in allowed:
            raise ValueError(
                f"scheme '{self.scheme}' takes group_size {', '.join(map(str, allowed[:-1]))} or {allowed[-1]}"
            )
        return self


class TorchAOQuantization(Pass):
    """Quantize the nn.Linear layers of an `hf` or `pytorch` model with torchao (INT8 or INT4 weights).

    The output is a smaller PyTorch model for the torch runtime. On CPU in eager mode it runs
    slower than FP32 (2 to 40 times in this project's measurements; torchao's CPU speed comes with
    torch.compile, which the torch runtime does not use): do not expect a speed-up. It cannot be exported to ONNX: to quantize for ONNX Runtime, convert the float model
    and use the ONNX quantization passes. Reports the layers quantized and the weight sizes.
    """

    Config = TorchAOQuantizationConfig
    version = "1"
    input_types = ("hf", "pytorch")
    output_type = None  # the output keeps the input's type

    def check_input(self, model: ModelHandler, config: TorchAOQuantizationConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        check_rewritable("TorchAOQuantization", model)
        spec = SCHEMES[config.scheme]
        if model.type == "hf" and not spec.hf_safetensors:
            raise IncompatibleModelError(
                f"scheme '{config.scheme}' ({spec.torchao_config}) has no safetensors form in torchao 0.18, "
                "and hf models are saved as safetensors",
                hint="use scheme 'int4_weight_only_unpacked' for INT4 weights of an hf model",
            )
        if context.accelerator.device not in spec.devices:
            raise IncompatibleModelError(
                f"scheme '{config.scheme}' runs on torch's CPU int4 kernel only, not on '{context.accelerator.device}' "
                "(torchao 0.18's GPU INT4 needs the mslk package)",
                hint="target device 'cpu', or use scheme 'int8_weight_only'",
            )

    def run(
        self, model: ModelHandler, config: TorchAOQuantizationConfig, output_dir: Path, context: PassContext
    ) -> ModelHandler:
        import torch

        from olive_torch.api import dummy_inputs, wrap_for_io

        from olive_torch_quant.schemes import import_torchao, is_quantized_tensor, torchao_config
        from olive_torch_quant.torch_models import load_module, save_module, weight_megabytes

        torchao = import_torchao()
        module = load_module(model)
        targets, skipped = _select_layers(module, config, context)
        inputs = tuple(dummy_inputs(model).values())
        with torch.inference_mode():
            reference = wrap_for_io(module, model)(*inputs)
        size_before = weight_megabytes(module)

        ao_config = torchao_config(config.scheme, config.group_size)
        if model.type == "hf":
            # through transformers' torchao integration, so that save_pretrained writes safetensors
            # and from_pretrained reads them back: the model is reloaded, quantized as it loads
            from transformers import TorchAoConfig

            del module
            quantized = load_module(
                model, quantization_config=TorchAoConfig(ao_config, modules_to_not_convert=skipped or None)
            )
        else:
            from torchao.quantization import quantize_

            wanted = set(targets)
            quantize_(module, ao_config, filter_fn=lambda layer, name: name in wanted)
            quantized = module
        with torch.inference_mode():
            outputs = wrap_for_io(quantized, model)(*inputs)
        quantized_names = {
            name for name, layer in quantized.named_modules() if is_quantized_tensor(getattr(layer, "weight", None))
        }
        not_quantized = [name for name in targets if name not in quantized_names]
        if not_quantized:
            context.warn(f"{len(not_quantized)} layer(s) were left float by torchao: {', '.join(not_quantized[:4])}")
        record = {
            "library": "torchao",
            "torchao_version": torchao.__version__,
            "scheme": config.scheme,
            "torchao_config": SCHEMES[config.scheme].torchao_config,
            "group_size": config.group_size or SCHEMES[config.scheme].default_group_size,
            "skip_modules": list(config.skip_modules),
        }
        context.report.update(
            {
                "scheme": config.scheme,
                "quantized_layers": len(targets) - len(not_quantized),
                "float_layers": len(skipped) + len(not_quantized),
                "float_layer_names": sorted(skipped + not_quantized),
                "weights_mb_before": size_before,
                "weights_mb_after": weight_megabytes(quantized),
                "max_abs_diff_on_dummy_inputs": max(_max_diff(a, b) for a, b in zip(reference, outputs)),
            }
        )
        return save_module(quantized, model, output_dir, {QUANTIZATION: record})


def _select_layers(
    module: torch.nn.Module, config: TorchAOQuantizationConfig, context: PassContext
) -> tuple[list[str], list[str]]:
    """The linear layers to quantize, and those left float (skipped, or of a shape the scheme cannot take)."""
    from olive_torch_quant.schemes import fits
    from olive_torch_quant.targets import linear_layers, skipped_linear_names

    layers = linear_layers(module, config.skip_modules)
    if not layers:
        raise IncompatibleModelError(
            f"the model has no nn.Linear layer left to quantize (skip_modules: {config.skip_modules})",
            hint="skip fewer modules",
        )
    targets = [
        name for name, layer in layers if fits(config.scheme, config.group_size, layer.in_features, layer.out_features)
    ]
    unfit = [name for name, _ in layers if name not in targets]
    if not targets:
        raise IncompatibleModelError(
            f"no layer has a shape scheme '{config.scheme}' takes with group_size {config.group_size}",
            hint="pick a group_size that divides the layers' input sizes, or another scheme",
        )
    if unfit:
        shown = ", ".join(unfit[:4]) + (", ..." if len(unfit) > 4 else "")
        context.warn(f"{len(unfit)} layer(s) stay float: their shape does not fit scheme '{config.scheme}' ({shown})")
    return targets, skipped_linear_names(module, config.skip_modules) + unfit


def _max_diff(reference: Any, output: Any) -> float:
    return float((reference.float() - output.float()).abs().max()) if reference.numel() else 0.0
