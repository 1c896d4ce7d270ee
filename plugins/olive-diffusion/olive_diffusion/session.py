"""What a pipeline session is: token ids and seeds in, images out, with the time of each step.

Both runtimes (PyTorch diffusers, ONNX Runtime) implement :class:`PipelineSession`. ``run`` is
the plain :class:`olive_core.models.InferenceSession` call, so core metrics (latency, similarity)
work on pipelines; ``generate`` also returns the timings that the pipeline metrics report.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from olive_core.errors import DataError

if TYPE_CHECKING:
    import numpy as np

INPUT_NAMES = ["input_ids", "seed"]
OUTPUT_NAMES = ["images"]


@dataclass
class Generation:
    """Images of one call (float32 NHWC in [0, 1]) and where its time went."""

    images: np.ndarray
    seconds: float
    step_seconds: list[float] = field(default_factory=list)


@runtime_checkable
class PipelineSession(Protocol):
    input_names: list[str]
    output_names: list[str]

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]: ...

    def generate(self, inputs: dict[str, np.ndarray]) -> Generation: ...


def prompt_batch(inputs: dict[str, np.ndarray], text_length: int) -> tuple[np.ndarray, list[int]]:
    """The batch's token ids [batch, text_length] and one seed per image, checked."""
    import numpy as np

    missing = [name for name in INPUT_NAMES if name not in inputs]
    if missing:
        raise DataError(
            f"a pipeline takes {' and '.join(INPUT_NAMES)}; the batch has no {', '.join(missing)}",
            hint="prepare prompts with the 'diffusion_prompts' pre-processing step",
        )
    ids = np.asarray(inputs["input_ids"])
    seeds = np.asarray(inputs["seed"]).reshape(-1)
    if ids.ndim != 2 or ids.shape[1] != text_length or ids.dtype.kind not in "iu":
        raise DataError(
            f"input_ids must be integer token ids [batch, {text_length}], given {ids.dtype}{list(ids.shape)}",
            hint="tokenize with the pipeline's tokenizer, padded to its length ('diffusion_prompts' does)",
        )
    if len(seeds) != ids.shape[0]:
        raise DataError(f"{ids.shape[0]} prompts but {len(seeds)} seeds: give one seed per prompt")
    return ids.astype(np.int64), [int(seed) for seed in seeds]


def generators(seeds: list[int]) -> list[object]:
    """One CPU torch generator per image: image i depends on (prompt i, seed i) only, whatever the batch."""
    import torch

    return [torch.Generator("cpu").manual_seed(seed) for seed in seeds]
