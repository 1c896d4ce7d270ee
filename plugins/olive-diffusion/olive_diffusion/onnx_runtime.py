"""The ONNX Runtime pipeline: the optimized components driven by the pipeline's own scheduler.

It repeats what diffusers' StableDiffusionPipeline does (unconditional + prompt embeddings,
seeded latents, the scheduler's scale/step, guidance, VAE decoding, denormalization) with ONNX
Runtime sessions in place of the torch modules, so that for the same prompt and seed its images
can be compared with the PyTorch pipeline's.
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import ModelLoadError

from olive_diffusion.generation import GenerationConfig
from olive_diffusion.manifest import PipelineManifest
from olive_diffusion.session import INPUT_NAMES, OUTPUT_NAMES, Generation, generators, prompt_batch

if TYPE_CHECKING:
    import numpy as np

    from olive_core.accelerators import AcceleratorSpec

#: the components text-to-image generation runs (vae_encoder serves image-to-image only)
GENERATION_COMPONENTS = ("text_encoder", "unet", "vae_decoder")


def scheduler_class(folder: Path) -> type:
    """The diffusers scheduler class the pipeline's scheduler config names; nothing but a scheduler."""
    import diffusers

    from olive_diffusion.configs import scheduler_class_name

    name = scheduler_class_name(folder)
    cls = getattr(diffusers, name, None)
    if not isinstance(cls, type) or not issubclass(cls, diffusers.SchedulerMixin):
        raise ModelLoadError(
            f"'{folder / 'scheduler' / 'scheduler_config.json'}' names '{name}', which is not a diffusers scheduler",
            hint="restore the scheduler folder from the source pipeline",
        )
    return cls


class OnnxPipelineSession:
    """ORT sessions for each component plus the scheduler; :class:`olive_diffusion.session.PipelineSession`."""

    def __init__(
        self,
        folder: Path,
        manifest: PipelineManifest,
        generation: GenerationConfig,
        accelerator: AcceleratorSpec,
        settings: dict[str, Any],
    ) -> None:
        from olive_diffusion.configs import read_json
        from olive_diffusion.tokens import load_tokenizer, tokenize
        from olive_onnx.api import create_session

        self.input_names, self.output_names = list(INPUT_NAMES), list(OUTPUT_NAMES)
        self.manifest, self.generation, self.shapes = manifest, generation, manifest.shapes
        self.height, self.width = generation.image_size(manifest.shapes)
        manifest.check_image_size(self.height, self.width, field="generation")
        self.sessions = {}
        self.input_types: dict[str, dict[str, str]] = {}
        for name in GENERATION_COMPONENTS:
            entry = manifest.component(name, folder)
            # the component's attributes carry what OnnxSessionTuning measured for it
            self.sessions[name] = create_session(entry.handle(folder), accelerator, settings)
            io = entry.io_config
            self.input_types[name] = dict(zip(io.input_names, io.input_types or [])) if io else {}
        self._scheduler_class = scheduler_class(folder)
        self._scheduler_config = read_json(folder / "scheduler" / "scheduler_config.json")
        tokenizer = load_tokenizer(folder)
        self._tokenize = lambda texts: tokenize(tokenizer, texts, manifest.shapes.text_length)

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [self.generate(inputs).images]

    def _run(self, component: str, feed: dict[str, Any]) -> np.ndarray:
        import numpy as np

        types = self.input_types[component]
        cast = {name: np.asarray(value).astype(types.get(name, "float32"), copy=False) for name, value in feed.items()}
        return np.asarray(self.sessions[component].run(cast)[0], dtype=np.float32)

    def generate(self, inputs: dict[str, np.ndarray]) -> Generation:
        import numpy as np
        import torch
        from diffusers.utils.torch_utils import randn_tensor

        ids, seeds = prompt_batch(inputs, self.shapes.text_length)
        guidance, scale = self.generation.uses_guidance, self.generation.guidance_scale
        started = time.perf_counter()
        tokens = np.concatenate([self._tokenize([""] * len(seeds)), ids]) if guidance else ids
        states = self._run("text_encoder", {"input_ids": tokens})

        scheduler = self._scheduler_class.from_config(self._scheduler_config)
        scheduler.set_timesteps(self.generation.num_inference_steps)
        factor = self.shapes.vae_scale_factor
        shape = (len(seeds), self.shapes.latent_channels, self.height // factor, self.width // factor)
        # One generator per image, used for the initial noise and then by stochastic schedulers, as in diffusers
        seeded = generators(seeds)
        latents = randn_tensor(shape, generator=seeded, dtype=torch.float32) * scheduler.init_noise_sigma
        extra = self._step_kwargs(scheduler, seeded)

        steps: list[float] = []
        for timestep in scheduler.timesteps:
            step_started = time.perf_counter()
            model_input = torch.cat([latents] * 2) if guidance else latents
            model_input = scheduler.scale_model_input(model_input, timestep)
            feed = {
                "sample": model_input.numpy(),
                "timestep": np.full(model_input.shape[0], float(timestep), dtype=np.float32),
                "encoder_hidden_states": states,
            }
            noise = torch.from_numpy(self._run("unet", feed))
            if guidance:
                unconditional, conditional = noise.chunk(2)
                noise = unconditional + scale * (conditional - unconditional)
            latents = scheduler.step(noise, timestep, latents, **extra, return_dict=False)[0]
            steps.append(time.perf_counter() - step_started)

        decoded = self._run("vae_decoder", {"latent_sample": (latents / self.shapes.vae_scaling_factor).numpy()})
        images = np.clip(decoded / 2 + 0.5, 0.0, 1.0).transpose(0, 2, 3, 1)
        return Generation(np.ascontiguousarray(images, dtype=np.float32), time.perf_counter() - started, steps)

    def _step_kwargs(self, scheduler: Any, seeded: list[Any]) -> dict[str, Any]:
        """What diffusers' prepare_extra_step_kwargs passes: eta (DDIM) and generators (stochastic schedulers)."""
        accepted = set(inspect.signature(scheduler.step).parameters)
        extra: dict[str, Any] = {}
        if "eta" in accepted:
            extra["eta"] = self.generation.eta
        if "generator" in accepted:
            extra["generator"] = seeded
        return extra
