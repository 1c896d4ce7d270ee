"""Perplexity: how surprised a language model is by real text, one next token at a time.

It needs no reference run and no labels (the text is its own label), and it moves with every
change to the weights, so it is the first number to watch when a model is quantized.
"""

from __future__ import annotations

from typing import ClassVar

from olive_core.errors import DataError
from olive_core.evaluation.metric import Direction, Metric, MetricConfig, MetricContext

from olive_genai.data import token_batches
from olive_genai.language_model import check_context, language_model
from olive_genai.metrics.arithmetic import next_token_nll, perplexity_of

NAME = "perplexity"


class PerplexityMetric(Metric):
    """Perplexity and mean negative log-likelihood (nats per token) of the data's token blocks.

    Each block is read from an empty cache; every token after a block's first is predicted from
    the tokens before it in the block (make the blocks with ``text_blocks``).
    """

    Config = MetricConfig
    sub_metrics: ClassVar[dict[str, Direction]] = {"perplexity": "min", "nll": "min"}

    def measure(self, config: MetricConfig, context: MetricContext) -> dict[str, float]:
        blocks = token_batches(context.batches, NAME)
        model = language_model(context.session(), context.model, NAME)
        total, tokens = 0.0, 0
        for index, ids in enumerate(blocks):
            if ids.shape[1] < 2:
                raise DataError(
                    f"metric '{NAME}': batch {index} has blocks of {ids.shape[1]} token; perplexity needs two or more",
                    hint="raise text_blocks' block_size",
                )
            check_context(model, ids.shape[1], f"metric '{NAME}': a block of {ids.shape[1]} tokens")
            logits = model.logits(ids)
            try:
                nll = next_token_nll(logits, ids)
            except ValueError as exc:
                raise DataError(
                    f"metric '{NAME}': batch {index}: {exc} (the model's logits are {logits.shape[-1]} wide)",
                    hint="tokenize with the model's own tokenizer",
                ) from exc
            total += float(nll.sum())
            tokens += nll.size
        return perplexity_of(total, tokens)
