"""Generation latency: time to the first token and tokens per second after it.

A call's latency says little about a language model: reading the prompt (prefill) and writing
each later token (decode, one token at a time against the key/value cache) are bound by
different things and tuned apart, and users feel them apart (the wait before text appears, then
its speed). Prompts of a fixed length make runs comparable between models and machines.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from olive_core.errors import DataError
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext

from olive_genai.data import MAX_TOKENS, token_batches
from olive_genai.language_model import check_context, language_model
from olive_genai.metrics.arithmetic import decode_tokens_per_s, percentiles

NAME = "generation_latency"
#: seeds the token ids of prompts made without data, so every model reads the same prompts
PROMPT_SEED = 0


class GenerationLatencyConfig(MetricConfig):
    prompt_tokens: int = Field(
        default=128,
        ge=1,
        le=MAX_TOKENS,
        description="tokens per prompt: the data's token ids repeated or cut to this length (fixed ids without data)",
    )
    new_tokens: int = Field(
        default=128,
        ge=2,
        le=MAX_TOKENS,
        description="tokens generated per prompt (the decode rate counts all but the first)",
    )
    batch_size: int = Field(default=1, ge=1, le=4096, description="prompts generated together")
    warmup_runs: int = Field(
        default=1, ge=0, le=10_000, description="untimed generations first (lazy init, allocators)"
    )
    repeat_runs: int = Field(default=5, ge=1, le=100_000, description="timed generations")


class GenerationLatencyMetric(Metric):
    """Milliseconds to the first token and decode tokens per second of greedy generation.

    ``ttft_ms``: from handing over the prompts to the first new token (the prefill); ``decode_tokens_per_s``:
    ``batch_size * (new_tokens - 1)`` over the time of the later steps of one run (p10 is the slow
    tail); ``total_ms``: a whole run. Data is optional: its token ids only supply realistic prompts.
    """

    Config = GenerationLatencyConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {
        "ttft_ms_p50": "min",
        "ttft_ms_p90": "min",
        "decode_tokens_per_s_p50": "max",
        "decode_tokens_per_s_p10": "max",
        "total_ms_p50": "min",
    }
    needs_data: ClassVar[bool] = False

    def measure(self, config: GenerationLatencyConfig, context: MetricContext) -> dict[str, float]:
        model = language_model(context.session(), context.model, NAME)
        check_context(
            model,
            config.prompt_tokens + config.new_tokens,
            f"metric '{NAME}' (prompt_tokens {config.prompt_tokens} + new_tokens {config.new_tokens})",
        )
        prompts = latency_prompts(context, config, model.vocab_size)
        for _ in range(config.warmup_runs):
            model.generate(prompts, config.new_tokens)
        first_ms, rates, totals_ms = [], [], []
        for _ in range(config.repeat_runs):
            generation = model.generate(prompts, config.new_tokens)
            decode_s = max(sum(generation.decode_s), 1e-9)  # a clock too coarse to see the steps
            first_ms.append(generation.first_token_s * 1000.0)
            rates.append(decode_tokens_per_s(config.batch_size, config.new_tokens, decode_s))
            totals_ms.append((generation.first_token_s + decode_s) * 1000.0)
        first, rate = percentiles(first_ms, (50, 90)), percentiles(rates, (10, 50))
        return {
            "ttft_ms_p50": first[50],
            "ttft_ms_p90": first[90],
            "decode_tokens_per_s_p50": rate[50],
            "decode_tokens_per_s_p10": rate[10],
            "total_ms_p50": percentiles(totals_ms, (50,))[50],
        }


def latency_prompts(context: MetricContext, config: GenerationLatencyConfig, vocab_size: int) -> np.ndarray:
    """``[batch_size, prompt_tokens]`` ids: the data's tokens in order, repeated as needed (each
    row starts where the last ended), else seeded random ids below the vocabulary size."""
    shape = (config.batch_size, config.prompt_tokens)
    if context.batches is not None:
        stream = np.concatenate([ids.reshape(-1) for ids in token_batches(context.batches, NAME)])
        if vocab_size and stream.max() >= vocab_size:
            raise DataError(
                f"metric '{NAME}': the data holds token id {int(stream.max())}, beyond the model's "
                f"vocabulary of {vocab_size}",
                hint="tokenize with the model's own tokenizer",
            )
        return np.resize(stream, shape[0] * shape[1]).reshape(shape)
    if vocab_size <= 0:
        raise DataError(
            f"metric '{NAME}': the model does not say its vocabulary size, so prompts cannot be made up",
            hint="name an entry of 'data' in the metric (token ids from text_blocks or prompts)",
        )
    return np.random.default_rng(PROMPT_SEED).integers(0, vocab_size, size=shape, dtype=np.int64)
