"""One way to ask any language model two things: its logits for a text, and its greedy continuation.

The metrics compare an input model (an `hf` model, run by PyTorch) with the models made from it
(`genai` folders, run by ONNX Runtime GenAI) on the same questions, so both answer through
:class:`LanguageModel`. Greedy decoding is deterministic, which is what makes "the same tokens as
the input model" a fair measure.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from olive_core.errors import DataError, IncompatibleModelError

if TYPE_CHECKING:
    import numpy as np
    import torch

    from olive_core.models.handler import ModelHandler


@dataclass
class Generation:
    """The greedy continuation of a batch of equal-length prompts, and how long it took."""

    #: [batch, new tokens] int64: the tokens chosen, one step at a time
    tokens: np.ndarray
    #: seconds from handing over the prompts to the first new token
    first_token_s: float
    #: seconds of each later step (one entry per token after the first)
    decode_s: list[float] = field(default_factory=list)
    #: [batch, new tokens, vocab] float32: the logits each token was chosen from (when asked for)
    step_logits: np.ndarray | None = None


@runtime_checkable
class LanguageModel(Protocol):
    """A decoder language model, whatever runs it."""

    vocab_size: int
    #: the longest sequence (prompt and new tokens) the model takes, when known
    context_length: int | None

    def logits(self, input_ids: np.ndarray) -> np.ndarray:
        """``[batch, seq]`` token ids to ``[batch, seq, vocab]`` float32 logits, from an empty cache."""
        ...

    def generate(self, prompts: np.ndarray, new_tokens: int, keep_logits: bool = False) -> Generation:
        """Greedy continuation of ``[batch, prompt length]`` prompts by ``new_tokens`` tokens."""
        ...


def language_model(session: Any, model: ModelHandler, metric: str) -> LanguageModel:
    """The language model behind a metric's session: a genai session is one; an `hf` model's torch
    session is wrapped; anything else is not a language model."""
    if isinstance(session, LanguageModel):
        return session
    # olive-torch's session runs the model inside its io wrapper; the causal LM is the wrapped one
    module = getattr(session, "module", None)
    module = getattr(module, "model", module)
    if module is not None and model.type in ("hf", "pytorch") and hasattr(module, "generate"):
        return TorchLanguageModel(module, getattr(session, "settings", {}))
    raise IncompatibleModelError(
        f"metric '{metric}' measures decoder language models ('genai', or 'hf' with task text-generation), "
        f"not this '{model.type}' model ({model.attributes.get('task') or 'no task'})",
        hint="set input_model.config.task: text-generation, and make genai models with GenAIModelBuilder",
    )


def check_context(model: LanguageModel, tokens: int, what: str) -> None:
    """Refuse a prompt (and its continuation) longer than the model's context, naming both."""
    if model.context_length is not None and tokens > model.context_length:
        raise DataError(
            f"{what} needs {tokens} tokens, but the model's context is {model.context_length}",
            hint="use shorter prompts or blocks, or fewer new tokens",
        )


class TorchLanguageModel:
    """A transformers causal LM in eval mode, decoding with its own key/value cache."""

    def __init__(self, module: torch.nn.Module, settings: dict[str, Any] | None = None) -> None:
        self.module = module
        self.settings = dict(settings or {})
        config = getattr(module, "config", None)
        self.vocab_size = int(getattr(config, "vocab_size", 0))
        self.context_length = getattr(config, "max_position_embeddings", None)

    def logits(self, input_ids: np.ndarray) -> np.ndarray:
        import torch

        from olive_torch.api import apply_thread_settings

        apply_thread_settings(self.settings)
        ids = torch.as_tensor(input_ids, dtype=torch.int64)
        with torch.inference_mode():
            output = self.module(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=False)
        return output.logits.float().numpy()

    def generate(self, prompts: np.ndarray, new_tokens: int, keep_logits: bool = False) -> Generation:
        import numpy as np
        import torch

        from olive_torch.api import apply_thread_settings

        apply_thread_settings(self.settings)
        ids = torch.as_tensor(prompts, dtype=torch.int64)
        mask = torch.ones_like(ids)
        chosen, kept, decode_s = [], [], []
        started = time.perf_counter()
        cache = cache_argument(self.module)
        with torch.inference_mode():
            output = self.module(input_ids=ids, attention_mask=mask, use_cache=True)
            for step in range(new_tokens):
                logits = output.logits[:, -1, :].float()
                token = logits.argmax(dim=-1, keepdim=True)
                chosen.append(token)
                if keep_logits:
                    kept.append(logits.numpy())
                now = time.perf_counter()
                if step == 0:
                    first_token_s = now - started
                else:
                    decode_s.append(now - started)
                if step == new_tokens - 1:
                    break
                started = time.perf_counter()
                mask = torch.cat([mask, torch.ones_like(token)], dim=1)
                arguments = {cache: cache_of(output)}
                output = self.module(input_ids=token, attention_mask=mask, use_cache=True, **arguments)
        tokens = torch.cat(chosen, dim=1).numpy().astype(np.int64)
        step_logits = np.stack(kept, axis=1) if keep_logits else None
        return Generation(tokens, first_token_s, decode_s, step_logits)


def cache_argument(module: torch.nn.Module) -> str:
    """The name a model's forward takes its key/value cache by: ``cache`` in newer transformers
    (``past_key_values`` is deprecated there), ``past_key_values`` before."""
    import inspect

    return "cache" if "cache" in inspect.signature(module.forward).parameters else "past_key_values"


def cache_of(output: Any) -> Any:
    """The cache a forward pass returned, under either name."""
    cache = getattr(output, "cache", None)
    return cache if cache is not None else output.past_key_values
