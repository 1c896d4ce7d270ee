"""The components of a Stable-Diffusion-style pipeline and where each one lives on disk."""

from __future__ import annotations

from typing import Literal

ComponentName = Literal["text_encoder", "unet", "vae_encoder", "vae_decoder"]

#: every component, in the order a pipeline uses them (vae_encoder serves image-to-image only)
COMPONENTS: tuple[ComponentName, ...] = ("text_encoder", "unet", "vae_encoder", "vae_decoder")

#: the diffusers sub-folder each component is loaded from; both VAE halves come from one AutoencoderKL
SOURCE_FOLDERS: dict[str, str] = {
    "text_encoder": "text_encoder",
    "unet": "unet",
    "vae_encoder": "vae",
    "vae_decoder": "vae",
}

#: folders of a diffusers pipeline an ONNX pipeline needs as they are: the same scheduler, the same tokenizer
SUPPORT_FOLDERS: tuple[str, ...] = ("scheduler", "tokenizer")

#: components a LoRA adapter can change (the diffusers names of their state-dict prefixes)
LORA_COMPONENTS: tuple[ComponentName, ...] = ("unet", "text_encoder")
