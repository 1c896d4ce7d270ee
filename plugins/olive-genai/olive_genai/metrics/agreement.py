"""Token agreement: does the optimized model write what the input model writes?

Perplexity averages over a corpus; agreement asks the question users notice: given the same
prompt, does greedy decoding pick the same tokens. Greedy decoding is deterministic, so one
run of each model per prompt is the whole measurement. KL divergence adds how far the next-token
distributions moved even where the top token did not change; it is measured with the model
reading the input model's own continuation (teacher forcing), so both distributions always
condition on the same prefix, however early the generations part.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from pydantic import Field

from olive_core.errors import IncompatibleModelError, PluginError
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext

from olive_genai.data import token_batches
from olive_genai.language_model import LanguageModel, check_context, language_model
from olive_genai.metrics.arithmetic import agreement, first_divergence, kl_divergence, until_stop

if TYPE_CHECKING:
    from olive_core.models.handler import ModelHandler

NAME = "token_agreement"


class TokenAgreementConfig(MetricConfig):
    new_tokens: int = Field(default=32, ge=1, le=65_536, description="tokens each model adds to every prompt, greedily")


@dataclass
class Continuation:
    """The input model's greedy continuation of one batch of prompts."""

    tokens: np.ndarray  # [batch, new tokens]
    step_logits: np.ndarray  # [batch, new tokens, vocab]
    compared: np.ndarray  # [batch, new tokens] bool: up to and including its end-of-sequence token


class TokenAgreementMetric(Metric):
    """Greedy continuations of the data's prompts compared with the input model's.

    ``agreement``: the fraction of generated tokens equal to the input model's; ``first_divergence``:
    the mean step of a prompt's first different token (``new_tokens`` when none); ``kl_mean``: the
    mean KL(input model || model) of the next-token distributions along the input model's
    continuation. Steps after the input model's end-of-sequence token are not compared.
    """

    Config = TokenAgreementConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {"agreement": "max", "first_divergence": "max", "kl_mean": "min"}
    needs_reference: ClassVar[bool] = True

    def measure(self, config: TokenAgreementConfig, context: MetricContext) -> dict[str, float]:
        prompts = token_batches(context.batches, NAME)
        model = language_model(context.session(), context.model, NAME)
        for ids in prompts:
            check_context(model, ids.shape[1] + config.new_tokens, _what(ids, config.new_tokens))
        reference = self._reference(prompts, config.new_tokens, context)
        if _is_input_model(context):  # the same greedy run of the same model: exact by definition
            return {"agreement": 1.0, "first_divergence": float(config.new_tokens), "kl_mean": 0.0}
        same, compared, first, kl = 0.0, 0, [], []
        for ids, expected in zip(prompts, reference, strict=True):
            tokens = model.generate(ids, config.new_tokens).tokens
            count = int(expected.compared.sum())
            same += agreement(tokens, expected.tokens, expected.compared) * count
            compared += count
            first += first_divergence(tokens, expected.tokens, expected.compared).tolist()
            forced = model.logits(np.concatenate([ids, expected.tokens[:, :-1]], axis=1))[:, ids.shape[1] - 1 :, :]
            if forced.shape[-1] != expected.step_logits.shape[-1]:
                raise IncompatibleModelError(
                    f"metric '{NAME}': the model's vocabulary has {forced.shape[-1]} tokens, "
                    f"the input model's {expected.step_logits.shape[-1]}",
                    hint="compare models made from the input model, with its tokenizer",
                )
            kl.append(kl_divergence(expected.step_logits, forced)[expected.compared])
        return {
            "agreement": same / compared,
            "first_divergence": float(np.mean(first)),
            "kl_mean": float(np.concatenate(kl).mean()),
        }

    def _reference(self, prompts: list[np.ndarray], new_tokens: int, context: MetricContext) -> list[Continuation]:
        """The input model's continuations, computed once per run and shared by every candidate."""
        if context.reference_session is None or context.reference_model is None:
            raise PluginError(f"metric '{NAME}' was given no input model to compare with")
        reference_model = context.reference_model

        def compute() -> list[Continuation]:
            reference = language_model(context.reference_session(), reference_model, NAME)
            stops = _stop_ids(reference_model, reference)
            runs = []
            for ids in prompts:
                check_context(reference, ids.shape[1] + new_tokens, _what(ids, new_tokens) + " (input model)")
                generation = reference.generate(ids, new_tokens, keep_logits=True)
                compared = until_stop(generation.tokens, stops)
                runs.append(Continuation(generation.tokens, np.asarray(generation.step_logits), compared))
            return runs

        if context.shared is None:
            return compute()
        return context.shared((NAME, reference_model.id or reference_model.path, new_tokens, _digest(prompts)), compute)


def _what(ids: np.ndarray, new_tokens: int) -> str:
    return f"metric '{NAME}': a prompt of {ids.shape[1]} tokens and {new_tokens} new tokens"


def _is_input_model(context: MetricContext) -> bool:
    model, reference = context.model, context.reference_model
    if reference is None:
        return False
    if model.id and reference.id:
        return model.id == reference.id
    return (model.type, model.path) == (reference.type, reference.path)


def _digest(prompts: list[np.ndarray]) -> str:
    """Which prompts a shared reference run answered (the same data in another metric reuses it)."""
    digest = hashlib.sha256()
    for ids in prompts:
        digest.update(repr(ids.shape).encode())
        digest.update(np.ascontiguousarray(ids, dtype=np.int64).tobytes())
    return digest.hexdigest()


def _stop_ids(*sources: ModelHandler | LanguageModel) -> list[int]:
    """End-of-sequence ids named by the handles (genai records them) or the torch models' configs.

    ONNX Runtime GenAI stops at one and pads after it, while a torch model writes on; what
    follows it is not part of the answer either way.
    """
    found: set[int] = set()
    for source in sources:
        attributes: dict[str, Any] = getattr(source, "attributes", None) or {}
        config = getattr(getattr(source, "module", None), "config", None)
        for value in (attributes.get("eos_token_id"), getattr(config, "eos_token_id", None)):
            values = value if isinstance(value, (list, tuple)) else [value]
            found |= {int(v) for v in values if isinstance(v, int) and not isinstance(v, bool)}
    return sorted(found)
