"""The `diffusion_prompts` pre-processing step: prompts to a pipeline's inputs (token ids and a seed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import Field

from olive_core.bounds import Seed
from olive_core.errors import DataError
from olive_core.evaluation.data import DataComponent, DataComponentConfig, DataContext, Role


class DiffusionPromptsConfig(DataComponentConfig):
    text_field: str = Field(default="text", description="the sample field holding the prompt")
    seed: Seed = Field(default=0, description="sample i gets seed + i, unless the sample has its own 'seed' field")


class DiffusionPrompts(DataComponent):
    """Tokenize prompts with the pipeline's own tokenizer, padded to its text length, and give each a seed.

    The same prompt and seed make the same image in every runtime, which is what image
    similarity compares. Other fields of the samples are dropped.
    """

    role: ClassVar[Role] = "preprocess"
    Config = DiffusionPromptsConfig

    def __call__(self, value: Any, config: DiffusionPromptsConfig, context: DataContext) -> list[dict[str, Any]]:
        import numpy as np

        from olive_diffusion.tokens import load_tokenizer, tokenize

        model = context.model
        if model is None or model.type not in ("diffusers", "onnx_diffusion") or model.io_config is None:
            raise DataError(
                f"data '{context.name}': diffusion_prompts prepares inputs of a diffusion pipeline, "
                f"and the input model is {'missing' if model is None else repr(model.type)}",
                hint="use it with a 'diffusers' or 'onnx_diffusion' input model",
            )
        io = model.io_config
        length = io.input_shapes[io.input_names.index("input_ids")][1]  # type: ignore[index]
        samples = list(value or [])
        texts = []
        for index, sample in enumerate(samples):
            text = sample.get(config.text_field) if isinstance(sample, dict) else None
            if not isinstance(text, str):
                raise DataError(
                    f"data '{context.name}': sample {index} has no text field '{config.text_field}'",
                    hint="set diffusion_prompts' text_field to the field holding the prompt",
                )
            texts.append(text)
        ids = tokenize(load_tokenizer(Path(model.path)), texts, int(length)) if texts else []
        return [
            {"input_ids": ids[index], "seed": np.int64(sample.get("seed", config.seed + index))}
            for index, sample in enumerate(samples)
        ]
