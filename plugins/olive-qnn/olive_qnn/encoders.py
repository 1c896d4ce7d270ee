"""A Hugging Face text encoder whose attention mask QNN can quantize: the model the NPU recipe exports.

transformers turns the 0/1 attention mask into an additive mask with ``torch.where(mask, 0,
finfo.min)``. Quantized, a Where between 0 and -3.4e38 gets one scale for that whole range and the
QDQ graph no longer computes attention on QNN's HTP (measured on MiniLM: it breaks). Built
arithmetically, ``(mask - 1) * 100`` gives the same softmax (e^-100 is 0 in float32 next to the
real tokens' scores) within a range 8- and 16-bit types hold; the encoder adds a 4-D mask as
given, so the outputs equal the stock model's on real tokens. examples/qnn-minilm does the same
for MiniLM alone; this loader serves the encoder families in
:data:`olive_qnn.recipe.ENCODER_MODEL_TYPES` (each checked in the tests to give the stock model's
outputs on real tokens).

The recipe names it as ``model_loader: "olive_qnn.encoders:arithmetic_mask_encoder"`` with
``trusted_modules: ["olive_qnn"]``; olive calls it with the model folder.
"""

from __future__ import annotations

from typing import Any

import torch

#: added to the scores of padding tokens: enough to zero them in the softmax, small enough to
#: quantize (measured on MiniLM: 100 keeps every node on QNN and the cosine at 0.9998)
MASK_SCALE = 100.0
#: the Auto class of each task the NPU recipe exports
AUTO_CLASSES = {"feature-extraction": "AutoModel", "text-classification": "AutoModelForSequenceClassification"}


class ArithmeticMaskEncoder(torch.nn.Module):
    """encoder(input_ids, attention_mask[, token_type_ids]) -> its first output, the mask made arithmetically."""

    def __init__(self, encoder: torch.nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> torch.Tensor:
        extended = (attention_mask[:, None, None, :].to(torch.float32) - 1.0) * MASK_SCALE
        extra: dict[str, Any] = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        return self.encoder(input_ids=input_ids, attention_mask=extended, **extra)[0]


def arithmetic_mask_encoder(model_path: str, task: str = "feature-extraction") -> torch.nn.Module:
    """The folder's encoder (with eager attention, what the TorchScript exporter traces) behind the arithmetic mask."""
    import transformers

    if task not in AUTO_CLASSES:
        raise ValueError(f"task '{task}' is not one of {', '.join(AUTO_CLASSES)}")
    auto = getattr(transformers, AUTO_CLASSES[task])
    return ArithmeticMaskEncoder(auto.from_pretrained(model_path, attn_implementation="eager")).eval()
