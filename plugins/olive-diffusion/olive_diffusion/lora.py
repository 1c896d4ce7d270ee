"""Attach LoRA adapters to a pipeline's UNet and text encoder with peft, and merge them in.

peft is used directly rather than through diffusers' ``load_lora_weights``: for the text
encoder that path goes through transformers' PEFT integration, which requires a newer peft than
this stack pins. diffusers is still used to read its file format (``lora_state_dict`` converts
the community formats it knows to its own keys).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import ModelLoadError

from olive_diffusion.adapters import PEFT_CONFIG

if TYPE_CHECKING:
    import torch
    from peft import LoraConfig, LoraModel

#: LoraConfig fields a diffusers file's metadata may carry
_CONFIG_FIELDS = (
    "r",
    "lora_alpha",
    "target_modules",
    "rank_pattern",
    "alpha_pattern",
    "use_rslora",
    "use_dora",
    "lora_bias",
    "fan_in_fan_out",
    "bias",
)


def read_adapter(adapter: dict[str, Any]) -> dict[str, tuple[LoraConfig, dict[str, torch.Tensor]]]:
    """Per component: the LoraConfig and peft state dict (keys relative to the component)."""
    if adapter["format"] == "peft":
        return {adapter["component"]: _read_peft(Path(adapter["path"]))}
    return _read_diffusers(Path(adapter["path"]), adapter["name"])


def _read_peft(weights: Path) -> tuple[LoraConfig, dict[str, torch.Tensor]]:
    from peft import LoraConfig
    from safetensors.torch import load_file

    from olive_diffusion.configs import read_json

    kind = read_json(weights.parent / PEFT_CONFIG).get("peft_type")
    if kind != "LORA":
        raise ModelLoadError(f"'{weights.parent / PEFT_CONFIG}' describes a {kind} adapter, not a LoRA one")
    config = LoraConfig.from_pretrained(str(weights.parent))
    state = {key.removeprefix("base_model.model."): value for key, value in load_file(str(weights)).items()}
    return config, state


def _read_diffusers(weights: Path, name: str) -> dict[str, tuple[LoraConfig, dict[str, torch.Tensor]]]:
    from diffusers.loaders import StableDiffusionLoraLoaderMixin

    try:
        state, alphas, metadata = StableDiffusionLoraLoaderMixin.lora_state_dict(
            str(weights), return_lora_metadata=True
        )
    except Exception as exc:
        raise ModelLoadError(
            f"LoRA adapter '{name}' ('{weights}') cannot be read: {type(exc).__name__}: {exc}"
        ) from exc
    found: dict[str, tuple[LoraConfig, dict[str, torch.Tensor]]] = {}
    for prefix in ("unet", "text_encoder"):
        part = {key[len(prefix) + 1 :]: value for key, value in state.items() if key.startswith(prefix + ".")}
        if part:
            found[prefix] = (_config_for(prefix, part, alphas or {}, metadata or {}), part)
    unknown = sorted({key.split(".", 1)[0] for key in state} - {"unet", "text_encoder"})
    if unknown or not found:
        raise ModelLoadError(
            f"LoRA adapter '{name}' ('{weights}') has weights for {', '.join(unknown) or 'no component'}, "
            "not for the unet or text_encoder",
            hint="olive-diffusion merges adapters of Stable-Diffusion-style UNets and CLIP text encoders",
        )
    return found


def _config_for(prefix: str, state: dict[str, Any], alphas: dict[str, Any], metadata: dict[str, Any]) -> LoraConfig:
    """The LoraConfig saved with the file, else one read off the weights (ranks, alphas)."""
    from peft import LoraConfig

    saved = {key[len(prefix) + 1 :]: value for key, value in metadata.items() if key.startswith(prefix + ".")}
    if saved:
        return LoraConfig(**{key: value for key, value in saved.items() if key in _CONFIG_FIELDS})
    ranks = {
        key.removesuffix(".lora_A.weight"): int(value.shape[0])
        for key, value in state.items()
        if key.endswith(".lora_A.weight")
    }
    rank = Counter(ranks.values()).most_common(1)[0][0]
    module_alphas = {
        key[len(prefix) + 1 :].removesuffix(".alpha"): float(value)
        for key, value in alphas.items()
        if key.startswith(prefix + ".")
    }
    alpha = Counter(module_alphas.values()).most_common(1)[0][0] if module_alphas else rank
    return LoraConfig(
        r=rank,
        lora_alpha=alpha,
        target_modules=sorted(ranks),
        rank_pattern={module: r for module, r in ranks.items() if r != rank},
        alpha_pattern={module: a for module, a in module_alphas.items() if a != alpha},
    )


def attach_adapters(modules: dict[str, torch.nn.Module], adapters: list[dict[str, Any]]) -> dict[str, LoraModel]:
    """Inject and load every adapter into ``modules`` (by component), active at its scale."""
    from peft import LoraModel
    from peft.tuners.lora import LoraLayer
    from peft.utils import set_peft_model_state_dict

    tuners: dict[str, LoraModel] = {}
    names: dict[str, list[str]] = {}
    for adapter in adapters:
        for component, (config, state) in read_adapter(adapter).items():
            module = modules.get(component)
            if module is None:
                raise ModelLoadError(
                    f"LoRA adapter '{adapter['name']}' changes the {component}, which the pipeline lacks"
                )
            state = _match_module_names(module, state)
            name = adapter["name"]
            try:
                if component not in tuners:
                    tuners[component] = LoraModel(module, config, name)
                else:
                    tuners[component].peft_config[name] = config
                    tuners[component].inject_adapter(tuners[component].model, name)
                result = set_peft_model_state_dict(module, state, adapter_name=name)
            except (ValueError, RuntimeError, KeyError) as exc:
                raise ModelLoadError(
                    f"LoRA adapter '{name}' does not fit the pipeline's {component}: {type(exc).__name__}: {str(exc)[:300]}",
                    hint="the adapter was trained for another model",
                ) from exc
            unexpected = [key for key in result.unexpected_keys if "lora_" in key]
            if unexpected:
                raise ModelLoadError(
                    f"LoRA adapter '{name}' has weights for {len(unexpected)} module(s) the {component} does not have, "
                    f"e.g. {unexpected[0]}",
                    hint="the adapter was trained for another model",
                )
            names.setdefault(component, []).append(name)
            for layer in module.modules():
                if isinstance(layer, LoraLayer) and name in layer.scaling:
                    layer.set_scale(name, adapter["scale"])
    for component, tuner in tuners.items():
        tuner.set_adapter(names[component], inference_mode=True)
    return tuners


def _match_module_names(module: torch.nn.Module, state: dict[str, Any]) -> dict[str, Any]:
    """transformers 5 dropped CLIPTextModel's ``text_model.`` level, which adapter files still name."""
    if hasattr(module, "text_model"):
        return state
    return {key.removeprefix("text_model."): value for key, value in state.items()}


def merge_adapters(tuners: dict[str, LoraModel]) -> dict[str, torch.nn.Module]:
    """Fold every active adapter into its base weights; the modules are plain again (no peft layers)."""
    return {component: tuner.merge_and_unload(safe_merge=True) for component, tuner in tuners.items()}
