"""A causal LM as an ONNX-exportable function of flat key/value tensors.

transformers keeps the attention cache in a ``DynamicCache`` object; an exported graph needs it
as tensors, named the way ONNX Runtime GenAI expects (``past_key_values.N.key`` in,
``present.N.key`` out). The wrapper rebuilds the cache from the flat inputs, calls the model, and
returns the logits and the flattened new cache. Traced with a past of a few tokens and dynamic
axes, the graph also runs from an empty past (the prompt) and one token at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from olive_core.errors import IncompatibleModelError

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class CacheShape:
    """What the model's cache looks like: one key and one value per layer, [batch, heads, length, dim]."""

    layers: int
    kv_heads: int
    head_size: int

    def input_names(self) -> list[str]:
        return [f"past_key_values.{layer}.{kind}" for layer in range(self.layers) for kind in ("key", "value")]

    def output_names(self) -> list[str]:
        return [f"present.{layer}.{kind}" for layer in range(self.layers) for kind in ("key", "value")]


def cache_shape(model: torch.nn.Module, architecture: str) -> CacheShape:
    """The cache a forward pass returns, read from a real (tiny) call rather than guessed from the config."""
    import torch
    from transformers import DynamicCache

    from olive_genai.language_model import cache_of

    with torch.inference_mode():
        output = model(input_ids=torch.ones(1, 2, dtype=torch.int64), use_cache=True)
    cache = cache_of(output)
    layers = getattr(cache, "layers", None)
    keys = [getattr(layer, "keys", None) for layer in layers or []]
    if not isinstance(cache, DynamicCache) or not keys or any(k is None or k.dim() != 4 for k in keys):
        raise IncompatibleModelError(
            f"a {architecture} model keeps its generation state as {type(cache).__name__}, not as one key and "
            "value tensor per layer; neither GenAIModelBuilder nor GenAIKVCacheExport can make it a genai model",
            hint="use a decoder architecture the onnxruntime-genai builder supports (Llama, Qwen, Phi, Mistral, Gemma)",
        )
    return CacheShape(layers=len(keys), kv_heads=int(keys[0].shape[1]), head_size=int(keys[0].shape[3]))


def with_flat_cache(model: torch.nn.Module, shape: CacheShape) -> torch.nn.Module:
    """``f(input_ids, attention_mask, *past) -> (logits, *present)``, in the order of ``shape``'s names."""
    import torch
    from transformers import DynamicCache

    from olive_genai.language_model import cache_argument, cache_of

    argument = cache_argument(model)

    class FlatCache(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, *past: torch.Tensor) -> Any:
            cache = DynamicCache()
            for layer in range(shape.layers):
                cache.update(past[2 * layer], past[2 * layer + 1], layer)
            output = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=True, **{argument: cache})
            present = cache_of(output).layers
            flat = [tensor for layer in present for tensor in (layer.keys, layer.values)]
            return (output.logits, *flat)

    return FlatCache().eval()
