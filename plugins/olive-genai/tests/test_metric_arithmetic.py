"""The formulas behind perplexity, agreement, KL divergence and decode rates, on hand-computable inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from olive_genai.metrics.arithmetic import (
    agreement,
    decode_tokens_per_s,
    first_divergence,
    kl_divergence,
    log_softmax,
    next_token_nll,
    percentiles,
    perplexity_of,
    until_stop,
)


def test_log_softmax_is_stable_for_huge_logits() -> None:
    assert log_softmax(np.array([1000.0, 1000.0], np.float32)) == pytest.approx([-math.log(2)] * 2)
    assert log_softmax(np.array([-1e30, 0.0]))[1] == 0.0


def test_uniform_logits_over_v_tokens_give_perplexity_v() -> None:
    vocab = 7
    ids = np.array([[0, 3, 6, 1, 2]])
    nll = next_token_nll(np.zeros((1, 5, vocab), np.float32), ids)
    assert nll.shape == (1, 4) and nll == pytest.approx(np.full((1, 4), math.log(vocab)))
    values = perplexity_of(float(nll.sum()), nll.size)
    assert values["perplexity"] == pytest.approx(vocab) and values["nll"] == pytest.approx(math.log(vocab))


def test_next_token_nll_reads_each_positions_logits_for_the_following_token() -> None:
    logits = np.zeros((1, 3, 3))
    logits[0, 0] = np.log([0.5, 0.25, 0.25])  # predicts token 1 with 1/4
    ids = np.array([[0, 1, 2]])  # position 1 is uniform: token 2 with 1/3; the last position predicts nothing
    assert next_token_nll(logits, ids)[0] == pytest.approx([math.log(4), math.log(3)])
    with pytest.raises(ValueError, match="below the vocabulary size 3"):
        next_token_nll(logits, np.array([[0, 1, 3]]))
    with pytest.raises(ValueError, match="no predicted tokens"):
        perplexity_of(0.0, 0)


def test_kl_of_identical_distributions_is_zero_and_of_a_known_pair_is_computed_by_hand() -> None:
    logits = np.random.default_rng(0).normal(size=(2, 3, 11))
    assert kl_divergence(logits, logits) == pytest.approx(np.zeros((2, 3)), abs=1e-12)
    assert kl_divergence(logits, logits + 5.0) == pytest.approx(np.zeros((2, 3)), abs=1e-12)  # same distribution
    p = np.log([0.5, 0.5])
    q = np.log([0.75, 0.25])
    # 0.5 ln(0.5 / 0.75) + 0.5 ln(0.5 / 0.25) = 0.5 ln(4 / 3)
    assert kl_divergence(p, q) == pytest.approx(0.5 * math.log(4 / 3))
    assert kl_divergence(q, p) == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5))  # not symmetric


def test_agreement_and_first_divergence_of_two_token_arrays() -> None:
    reference = np.array([[1, 2, 3, 4], [1, 2, 3, 4]])
    tokens = np.array([[1, 2, 9, 4], [1, 2, 3, 4]])
    assert agreement(tokens, reference) == pytest.approx(7 / 8)
    assert first_divergence(tokens, reference).tolist() == [2, 4]
    early = np.array([[True, True, False, False], [True, True, True, True]])  # the first row ended at step 1
    assert agreement(tokens, reference, early) == pytest.approx(1.0)
    assert first_divergence(tokens, reference, early).tolist() == [4, 4]
    with pytest.raises(ValueError, match="no positions"):
        agreement(tokens, reference, np.zeros_like(early))


def test_until_stop_keeps_the_stop_token_and_drops_what_follows() -> None:
    tokens = np.array([[5, 2, 6, 2], [5, 6, 7, 8]])
    assert until_stop(tokens, [2]).tolist() == [[True, True, False, False], [True] * 4]
    assert until_stop(tokens, []).all()


def test_decode_rate_and_percentiles() -> None:
    assert decode_tokens_per_s(batch=2, new_tokens=11, decode_seconds=0.5) == pytest.approx(40.0)
    with pytest.raises(ValueError, match="two new tokens"):
        decode_tokens_per_s(1, 1, 0.5)
    assert percentiles([4.0, 1.0, 3.0, 2.0], (10, 50, 90)) == pytest.approx({10: 1.3, 50: 2.5, 90: 3.7})
