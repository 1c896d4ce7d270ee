"""The PyTorch pipeline: diffusers' own StableDiffusionPipeline, timed step by step.

This is the reference every optimized pipeline is compared with, so it runs diffusers itself
(with the model's LoRA adapters attached, unmerged) rather than a re-implementation.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import ModelLoadError

from olive_diffusion.configs import read_model_index
from olive_diffusion.generation import GenerationConfig
from olive_diffusion.session import INPUT_NAMES, OUTPUT_NAMES, Generation, generators, prompt_batch
from olive_diffusion.shapes import PipelineShapes

if TYPE_CHECKING:
    import numpy as np

    from olive_core.accelerators import AcceleratorSpec


class TorchPipelineSession:
    """A diffusers pipeline on one device; :class:`olive_diffusion.session.PipelineSession`."""

    def __init__(
        self,
        folder: Path,
        adapters: list[dict[str, Any]],
        generation: GenerationConfig,
        shapes: PipelineShapes,
        accelerator: AcceleratorSpec,
        settings: dict[str, Any],
    ) -> None:
        from diffusers import StableDiffusionPipeline

        from olive_diffusion.lora import attach_adapters
        from olive_diffusion.tokens import tokenize
        from olive_torch.api import apply_thread_settings, torch_device, torch_settings

        self.input_names, self.output_names = list(INPUT_NAMES), list(OUTPUT_NAMES)
        self.settings = torch_settings(settings)
        self.device = torch_device(accelerator)
        apply_thread_settings(self.settings)
        self.generation, self.shapes = generation, shapes
        self.height, self.width = generation.image_size(shapes)
        read_model_index(folder)  # refuses libraries diffusers would not load, before it imports any
        try:
            pipe = StableDiffusionPipeline.from_pretrained(
                str(folder), safety_checker=None, requires_safety_checker=False
            )
        except Exception as exc:  # diffusers raises many types for a bad folder
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise ModelLoadError(
                f"'{folder}' cannot be loaded as a StableDiffusionPipeline: {type(exc).__name__}: {first}",
                hint="check that the pipeline folder is complete (save_pretrained writes every part)",
            ) from exc
        pipe.set_progress_bar_config(disable=True)
        if adapters:
            attach_adapters({"unet": pipe.unet, "text_encoder": pipe.text_encoder}, adapters)
        self.pipe = pipe.to(self.device)
        self._tokenize = lambda texts: tokenize(pipe.tokenizer, texts, shapes.text_length)
        self._step_starts: list[float] = []
        # The UNet runs once per step: its first call marks the step's start.
        pipe.unet.register_forward_pre_hook(lambda module, args: self._step_starts.append(time.perf_counter()))

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [self.generate(inputs).images]

    def generate(self, inputs: dict[str, np.ndarray]) -> Generation:
        import numpy as np
        import torch

        from olive_torch.api import apply_thread_settings

        ids, seeds = prompt_batch(inputs, self.shapes.text_length)
        apply_thread_settings(self.settings)
        self._step_starts.clear()
        step_ends: list[float] = []

        def step_end(pipe: Any, step: int, timestep: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            step_ends.append(time.perf_counter())
            return tensors

        started = time.perf_counter()
        with torch.inference_mode():
            encoder = self.pipe.text_encoder
            prompt_embeds = encoder(torch.as_tensor(ids, device=self.device))[0]
            negative = None
            if self.generation.uses_guidance:
                negative = encoder(torch.as_tensor(self._tokenize([""] * len(seeds)), device=self.device))[0]
            output = self.pipe(
                prompt_embeds=prompt_embeds,
                negative_prompt_embeds=negative,
                num_inference_steps=self.generation.num_inference_steps,
                guidance_scale=self.generation.guidance_scale,
                height=self.height,
                width=self.width,
                eta=self.generation.eta,
                generator=generators(seeds),
                output_type="np",
                callback_on_step_end=step_end,
            )
        seconds = time.perf_counter() - started
        steps = [end - start for start, end in zip(self._step_starts, step_ends)]
        return Generation(np.asarray(output.images, dtype=np.float32), seconds, steps)
