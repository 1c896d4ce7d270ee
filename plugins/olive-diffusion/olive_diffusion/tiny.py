"""A tiny Stable Diffusion pipeline and LoRA adapter built from configs, for tests and examples.

Nothing is downloaded: the UNet, VAE and CLIP text encoder are randomly initialized from small
configs (seeded), and the CLIP tokenizer is written from a hand-made vocabulary. The pipeline is
a real diffusers folder (save_pretrained), so everything that works on it works on real ones.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Literal

#: the tiny tokenizer's vocabulary: special tokens, then every lowercase letter alone and word-final
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def build_tiny_pipeline(folder: Path, seed: int = 0, text_length: int = 16) -> Path:
    """Write a ~1.5 M-parameter StableDiffusionPipeline (64x64 images, 4 latent channels) to ``folder``."""
    import torch
    from diffusers import AutoencoderKL, DDIMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    folder = Path(folder)
    torch.manual_seed(seed)
    unet = UNet2DConditionModel(
        block_out_channels=(32, 64),
        layers_per_block=2,
        sample_size=32,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        attention_head_dim=4,
    )
    vae = AutoencoderKL(
        block_out_channels=[32, 64],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
    )
    text_encoder = CLIPTextModel(
        CLIPTextConfig(
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
            hidden_size=32,
            intermediate_size=37,
            num_attention_heads=4,
            num_hidden_layers=5,
            vocab_size=1000,
            max_position_embeddings=text_length,
        )
    )
    with tempfile.TemporaryDirectory(prefix="olive-tiny-tokenizer-") as vocabulary:
        tokenizer = CLIPTokenizer(*_write_vocabulary(Path(vocabulary)), model_max_length=text_length)
    scheduler = DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    pipeline = StableDiffusionPipeline(
        unet=unet,
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(str(folder), safe_serialization=True)
    return folder


def _write_vocabulary(folder: Path) -> tuple[str, str]:
    """vocab.json and a merges.txt with no merges: every word is spelled out in letters."""
    folder.mkdir(parents=True, exist_ok=True)
    vocabulary = {"<|startoftext|>": 0, "<|endoftext|>": 1, "!": 2}
    for letter in _LETTERS:
        vocabulary[letter] = len(vocabulary)
        vocabulary[letter + "</w>"] = len(vocabulary)
    (folder / "vocab.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return str(folder / "vocab.json"), str(folder / "merges.txt")


def build_tiny_lora(
    pipeline_folder: Path,
    target: Path,
    adapter_format: Literal["diffusers", "peft"] = "diffusers",
    rank: int = 4,
    seed: int = 1,
    text_encoder: bool = True,
) -> Path:
    """A random (non-zero) LoRA adapter for the tiny pipeline, saved as safetensors; returns its path.

    ``diffusers``: one pytorch_lora_weights.safetensors with unet. (and text_encoder.) keys, as
    ``save_lora_weights`` writes it. ``peft``: an adapter folder of the UNet, as peft's
    ``save_pretrained`` writes it (adapter_config.json + adapter_model.safetensors).
    """
    import torch
    from diffusers import StableDiffusionPipeline, UNet2DConditionModel
    from peft import LoraConfig, LoraModel
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import save_file
    from transformers import CLIPTextModel

    target = Path(target)
    torch.manual_seed(seed)
    unet_config = LoraConfig(
        r=rank, lora_alpha=rank, target_modules=["to_q", "to_k", "to_v", "to_out.0"], init_lora_weights=False
    )
    unet = UNet2DConditionModel.from_pretrained(str(Path(pipeline_folder) / "unet"))
    LoraModel(unet, unet_config, "default")
    unet_layers = get_peft_model_state_dict(unet)
    if adapter_format == "peft":
        target.mkdir(parents=True, exist_ok=True)
        unet_config.save_pretrained(str(target))
        save_file(
            {f"base_model.model.{key}": value.contiguous() for key, value in unet_layers.items()},
            str(target / "adapter_model.safetensors"),
        )
        return target
    layers = {"unet_lora_layers": unet_layers, "unet_lora_adapter_metadata": unet_config.to_dict()}
    if text_encoder:
        text_config = LoraConfig(
            r=rank,
            lora_alpha=2 * rank,
            target_modules=["q_proj", "k_proj", "v_proj", "out_proj"],
            init_lora_weights=False,
        )
        encoder = CLIPTextModel.from_pretrained(str(Path(pipeline_folder) / "text_encoder"))
        LoraModel(encoder, text_config, "default")
        layers |= {
            "text_encoder_lora_layers": get_peft_model_state_dict(encoder),
            "text_encoder_lora_adapter_metadata": text_config.to_dict(),
        }
    target.mkdir(parents=True, exist_ok=True)
    StableDiffusionPipeline.save_lora_weights(str(target), **layers)
    return target / "pytorch_lora_weights.safetensors"
