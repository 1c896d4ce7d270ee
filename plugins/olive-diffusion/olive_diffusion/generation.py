"""How a pipeline generates images: steps, guidance, size. Part of a pipeline model's identity."""

from __future__ import annotations

from pydantic import BaseModel, Field

from olive_core.bounds import STRICT_CONFIG
from olive_core.errors import ConfigError

from olive_diffusion.shapes import PipelineShapes


class GenerationConfig(BaseModel):
    """Settings of every generation a pipeline session runs (evaluation, checks)."""

    model_config = STRICT_CONFIG

    num_inference_steps: int = Field(default=25, ge=1, le=1000, description="denoising steps per image")
    guidance_scale: float = Field(
        default=7.5, ge=0, le=100, description="classifier-free guidance; above 1 the UNet runs on a doubled batch"
    )
    height: int | None = Field(
        default=None, ge=8, le=8192, description="image height in pixels; default: the UNet's sample size times the VAE's scale"
    )
    width: int | None = Field(default=None, ge=8, le=8192, description="image width in pixels; default as height")
    eta: float = Field(default=0.0, ge=0, le=1, description="DDIM's eta (other schedulers ignore it)")

    @property
    def uses_guidance(self) -> bool:
        return self.guidance_scale > 1.0

    def image_size(self, shapes: PipelineShapes, field: str = "generation") -> tuple[int, int]:
        """(height, width), checked against what the VAE and the UNet can take."""
        height = self.height or shapes.image_size
        width = self.width or shapes.image_size
        multiple = shapes.size_multiple
        for name, value in (("height", height), ("width", width)):
            if value % multiple:
                raise ConfigError(
                    f"{name} {value} is not a multiple of {multiple} (the VAE's scale times the UNet's downsampling)",
                    path=f"{field}.{name}",
                    hint=f"use a multiple of {multiple}, e.g. {max(multiple, value // multiple * multiple)}",
                )
        return height, width
