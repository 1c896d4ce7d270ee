"""Sizes of a pipeline read from its components' own configs, and the io configs they give.

Nothing here is a hard-coded size: the text length comes from the tokenizer (or the text
encoder's positions), latent channels and sample size from the UNet, the image scale from the
VAE's blocks, and the UNet's example batch doubles when classifier-free guidance is on.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from olive_core.errors import ModelLoadError
from olive_core.models.io_config import IoConfig

from olive_diffusion.components import ComponentName
from olive_diffusion.configs import read_component_config, read_json

BATCH = "batch"
LATENT_AXES = {0: BATCH, 2: "latent_height", 3: "latent_width"}
IMAGE_AXES = {0: BATCH, 2: "height", 3: "width"}

#: tokenizers without a limit write a huge model_max_length; the text encoder's positions bound it
_UNBOUNDED = 1_000_000


@dataclass(frozen=True)
class PipelineShapes:
    """The sizes that shape every component's inputs and outputs."""

    text_length: int
    vocab_size: int
    text_hidden_size: int
    latent_channels: int
    latent_size: int
    unet_downsample: int
    vae_scale_factor: int
    image_channels: int
    vae_scaling_factor: float

    @property
    def image_size(self) -> int:
        return self.latent_size * self.vae_scale_factor

    @property
    def size_multiple(self) -> int:
        """Image sides must be multiples of this: the VAE's scale times the UNet's downsampling."""
        return self.vae_scale_factor * self.unet_downsample

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PipelineShapes:
        return cls(**data)


def read_pipeline_shapes(folder: Path) -> PipelineShapes:
    """Shapes from a diffusers folder's unet, vae, text_encoder and tokenizer configs."""
    unet = read_component_config(folder, "unet")
    vae = read_component_config(folder, "vae")
    text = read_component_config(folder, "text_encoder")
    tokenizer_file = folder / "tokenizer" / "tokenizer_config.json"
    tokenizer = read_json(tokenizer_file) if tokenizer_file.is_file() else {}

    positions = int(text.get("max_position_embeddings", 77))
    limit = int(tokenizer.get("model_max_length") or _UNBOUNDED)
    sample_size = unet.get("sample_size", 64)
    if isinstance(sample_size, (list, tuple)):
        if len(set(sample_size)) != 1:
            raise ModelLoadError(f"'{folder / 'unet'}': non-square sample_size {sample_size} is not supported")
        sample_size = sample_size[0]
    shapes = PipelineShapes(
        text_length=min(limit, positions),
        vocab_size=int(text["vocab_size"]),
        text_hidden_size=int(text["hidden_size"]),
        latent_channels=int(unet.get("in_channels", 4)),
        latent_size=int(sample_size),
        unet_downsample=2 ** (len(unet.get("block_out_channels", (320, 640, 1280, 1280))) - 1),
        vae_scale_factor=2 ** (len(vae.get("block_out_channels", (128, 256, 512, 512))) - 1),
        image_channels=int(vae.get("in_channels", 3)),
        vae_scaling_factor=float(vae.get("scaling_factor", 0.18215)),
    )
    _check_consistent(folder, shapes, unet, vae)
    return shapes


def _check_consistent(folder: Path, shapes: PipelineShapes, unet: dict[str, Any], vae: dict[str, Any]) -> None:
    cross = unet.get("cross_attention_dim")
    if isinstance(cross, (list, tuple)):
        cross = cross[0]
    if cross is not None and int(cross) != shapes.text_hidden_size:
        raise ModelLoadError(
            f"'{folder}': the UNet attends to {cross}-wide text states but the text encoder makes {shapes.text_hidden_size}",
            hint="the unet and text_encoder folders come from different pipelines",
        )
    if shapes.latent_channels != int(vae.get("latent_channels", 4)):
        raise ModelLoadError(
            f"'{folder}': the UNet takes {shapes.latent_channels} latent channels but the VAE makes "
            f"{vae.get('latent_channels')} (an inpainting or depth pipeline?)",
            hint="olive-diffusion runs text-to-image pipelines whose UNet takes the VAE's latents",
        )


def component_io_config(
    component: ComponentName,
    shapes: PipelineShapes,
    guidance: bool = True,
    image_size: tuple[int, int] | None = None,
    dynamic_image_size: bool = True,
) -> IoConfig:
    """The io config of one component; the UNet's example batch is doubled under guidance.

    ``image_size`` (height, width) sets the example sizes (default: the UNet's sample size times
    the VAE's scale). Without ``dynamic_image_size`` the spatial axes are fixed to it: symbolic
    shape inference (ONNX Runtime's fusions) is then much faster, and the graph runs at that size only.
    """
    height, width = image_size or (shapes.image_size, shapes.image_size)
    factor = shapes.vae_scale_factor
    latent = [shapes.latent_channels, height // factor, width // factor]
    image = [shapes.image_channels, height, width]
    latent_axes = dict(LATENT_AXES) if dynamic_image_size else {0: BATCH}
    image_axes = dict(IMAGE_AXES) if dynamic_image_size else {0: BATCH}
    if component == "text_encoder":
        return IoConfig(
            input_names=["input_ids"],
            input_shapes=[[1, shapes.text_length]],
            input_types=["int64"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": {0: BATCH}, "last_hidden_state": {0: BATCH}},
        )
    if component == "unet":
        batch = 2 if guidance else 1
        return IoConfig(
            input_names=["sample", "timestep", "encoder_hidden_states"],
            input_shapes=[[batch, *latent], [batch], [batch, shapes.text_length, shapes.text_hidden_size]],
            input_types=["float32", "float32", "float32"],
            output_names=["out_sample"],
            dynamic_axes={
                "sample": dict(latent_axes),
                "timestep": {0: BATCH},
                "encoder_hidden_states": {0: BATCH},
                "out_sample": dict(latent_axes),
            },
        )
    if component == "vae_encoder":
        return IoConfig(
            input_names=["sample"],
            input_shapes=[[1, *image]],
            input_types=["float32"],
            output_names=["latent_mean"],
            dynamic_axes={"sample": dict(image_axes), "latent_mean": dict(latent_axes)},
        )
    if component == "vae_decoder":
        return IoConfig(
            input_names=["latent_sample"],
            input_shapes=[[1, *latent]],
            input_types=["float32"],
            output_names=["sample"],
            dynamic_axes={"latent_sample": dict(latent_axes), "sample": dict(image_axes)},
        )
    raise ValueError(f"unknown component '{component}'")


def fixed_image_size(component: str, io_config: IoConfig, shapes: PipelineShapes) -> tuple[int, int] | None:
    """The (height, width) a component's graph is fixed to, or None when its spatial axes are dynamic."""
    if component == "text_encoder" or not io_config.input_shapes:
        return None
    name = io_config.input_names[0]
    axes = (io_config.dynamic_axes or {}).get(name, {})
    if 2 in axes:
        return None
    _, _, height, width = io_config.input_shapes[0]
    scale = 1 if component == "vae_encoder" else shapes.vae_scale_factor
    return height * scale, width * scale


def pipeline_io_config(shapes: PipelineShapes) -> IoConfig:
    """What a pipeline session takes and gives: prompt token ids and a seed per image, images out.

    Images are float32 in [0, 1], NHWC, as diffusers returns them with ``output_type="np"``.
    """
    return IoConfig(
        input_names=["input_ids", "seed"],
        input_shapes=[[1, shapes.text_length], [1]],
        input_types=["int64", "int64"],
        output_names=["images"],
        dynamic_axes={"input_ids": {0: BATCH}, "seed": {0: BATCH}, "images": {0: BATCH}},
    )
