"""The numbers behind the language-model metrics, as plain numpy functions on arrays.

Kept apart from the metrics so each formula can be checked on inputs small enough to work out by
hand. Logits are reduced in float64 with the max subtracted first: float32 softmax of a 32k-token
vocabulary loses the small probabilities that perplexity and KL divergence are made of.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from olive_core.evaluation.metrics.latency import percentile


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Log-probabilities over the last axis, in float64, without overflow for any finite logits."""
    values = np.asarray(logits, dtype=np.float64)
    shifted = values - values.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def next_token_nll(logits: np.ndarray, input_ids: np.ndarray) -> np.ndarray:
    """Negative log-likelihood (nats) of each token after the first, given the tokens before it.

    ``logits`` is ``[batch, seq, vocab]`` for ``input_ids`` ``[batch, seq]``; position ``t``'s
    logits predict token ``t + 1``, so the result is ``[batch, seq - 1]``.
    """
    logits, targets = np.asarray(logits), np.asarray(input_ids)[:, 1:]
    vocab = logits.shape[-1]
    if targets.size and (targets.min() < 0 or targets.max() >= vocab):
        raise ValueError(f"token ids must be below the vocabulary size {vocab}")
    # a row at a time: float64 log-probabilities of a whole batch can take gigabytes
    nll = np.empty(targets.shape, dtype=np.float64)
    for row in range(targets.shape[0]):
        log_probs = log_softmax(logits[row, :-1, :])
        nll[row] = -np.take_along_axis(log_probs, targets[row][:, None], axis=-1)[:, 0]
    return nll


def perplexity_of(total_nll: float, tokens: int) -> dict[str, float]:
    """``nll``: mean nats per predicted token; ``perplexity``: its exponential."""
    if tokens <= 0:
        raise ValueError("perplexity of no predicted tokens")
    mean = float(total_nll) / tokens
    return {"perplexity": float(np.exp(mean)), "nll": mean}


def kl_divergence(reference_logits: np.ndarray, logits: np.ndarray) -> np.ndarray:
    """KL(P || Q) in nats per position (last axis reduced), P = softmax(reference), Q = softmax(logits).

    The cost of coding the reference's next token with the model's distribution instead of its
    own: 0 for identical distributions, never negative (rounding below 0 is clipped).
    """
    log_p, log_q = log_softmax(reference_logits), log_softmax(logits)
    return np.maximum((np.exp(log_p) * (log_p - log_q)).sum(axis=-1), 0.0)


def agreement(tokens: np.ndarray, reference: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Fraction of compared positions where the tokens equal the reference's (all when no mask)."""
    same = np.asarray(tokens) == np.asarray(reference)
    compared = np.ones_like(same) if mask is None else np.asarray(mask, dtype=bool)
    count = int(compared.sum())
    if count == 0:
        raise ValueError("agreement of no positions")
    return float((same & compared).sum() / count)


def first_divergence(tokens: np.ndarray, reference: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Per row, the step of the first compared token that differs from the reference's, or the
    row length when none does."""
    differs = np.asarray(tokens) != np.asarray(reference)
    if mask is not None:
        differs &= np.asarray(mask, dtype=bool)
    length = differs.shape[1]
    return np.where(differs.any(axis=1), differs.argmax(axis=1), length)


def until_stop(tokens: np.ndarray, stop_ids: Sequence[int]) -> np.ndarray:
    """True for each position up to and including a row's first stop token (end of sequence):
    what follows it is padding or text the model was never meant to write."""
    ids = np.asarray(tokens)
    stops = np.isin(ids, np.asarray(list(stop_ids), dtype=ids.dtype)) if len(stop_ids) else np.zeros(ids.shape, bool)
    before = np.cumsum(stops, axis=1) - stops  # stop tokens strictly before each position
    return before == 0


def decode_tokens_per_s(batch: int, new_tokens: int, decode_seconds: float) -> float:
    """Tokens generated per second after the first: ``batch * (new_tokens - 1) / decode time``."""
    if new_tokens < 2 or decode_seconds <= 0:
        raise ValueError("a decode rate needs at least two new tokens and a positive decode time")
    return batch * (new_tokens - 1) / decode_seconds


def percentiles(values: Sequence[float], qs: Sequence[float]) -> dict[float, float]:
    """Each ``q``-th percentile (0-100) of the values, interpolated as numpy's default does."""
    ordered = sorted(float(value) for value in values)
    return {q: percentile(ordered, q) for q in qs}
