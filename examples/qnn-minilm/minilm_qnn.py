"""The example's model loader: all-MiniLM-L6-v2 as a BertModel whose attention mask QNN can quantize.

BertModel turns the 0/1 attention mask into an additive mask with ``torch.where(mask, 0,
finfo.min)``. Quantized, a Where between 0 and -3.4e38 gets one scale for that whole range, and the
QDQ graph no longer computes the attention QNN's HTP should run (measured: it breaks). Built
arithmetically, ``(mask - 1) * 100`` gives the same softmax (e^-100 is 0 in float32 next to the
real tokens' scores) within a range 8- and 16-bit types hold. The wrapper hands BertModel this 4-D
mask, which it adds as given: the outputs equal the stock model's on real tokens.

The workflow names this file as ``model_loader: "minilm_qnn.py:build"``; olive calls ``build``
with the model folder (``model_path``).
"""

from __future__ import annotations

import torch

#: -(mask - 1) * MASK_SCALE is added to the scores of padding tokens: enough to zero them in the
#: softmax, small enough to quantize (measured: 100 keeps every node on QNN and the cosine at 0.9998)
MASK_SCALE = 100.0


class ArithmeticMaskBert(torch.nn.Module):
    """BertModel(input_ids, attention_mask, token_type_ids) -> last_hidden_state, mask made arithmetically."""

    def __init__(self, bert: torch.nn.Module) -> None:
        super().__init__()
        self.bert = bert

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        extended = (attention_mask[:, None, None, :].to(torch.float32) - 1.0) * MASK_SCALE
        return self.bert(input_ids=input_ids, attention_mask=extended, token_type_ids=token_type_ids).last_hidden_state


def build(model_path: str) -> torch.nn.Module:
    """The MiniLM folder's BertModel with eager attention (what the TorchScript exporter traces)."""
    from transformers import AutoModel

    bert = AutoModel.from_pretrained(model_path, attn_implementation="eager")
    return ArithmeticMaskBert(bert).eval()
