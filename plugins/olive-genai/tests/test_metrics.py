"""perplexity, token_agreement and generation_latency: on small fake models whose answers are known,
then end to end through `olive run` on the tiny Llama and its GenAIModelBuilder fp32 and int4 builds."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import olive_core
from olive_core.accelerators import AcceleratorSpec
from olive_core.bounds import unbounded_numbers
from olive_core.errors import DataError, IncompatibleModelError
from olive_core.evaluation.metric import MetricConfig, MetricContext
from olive_core.models import ModelHandler
from olive_core.testing import MetricContract

from olive_genai.language_model import Generation
from olive_genai.metrics.agreement import TokenAgreementConfig, TokenAgreementMetric
from olive_genai.metrics.generation_latency import GenerationLatencyConfig, GenerationLatencyMetric
from olive_genai.metrics.perplexity import PerplexityMetric
from olive_genai.testing import TINY_LLAMA, WORDS


class Counting:
    """A fake language model over 16 tokens: after token t it predicts t + 1 (logit 4, others 0),
    except after each token in ``skew``, where it predicts t + 2. Generation takes 10 ms to the
    first token and 5 ms per later one."""

    vocab_size = 16

    def __init__(self, skew: tuple[int, ...] = (), context_length: int | None = 64) -> None:
        self.skew = skew
        self.context_length = context_length
        self.generated: list[np.ndarray] = []

    def logits(self, input_ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(input_ids)
        out = np.zeros((*ids.shape, self.vocab_size), np.float32)
        following = (ids + 1 + np.isin(ids, self.skew)) % self.vocab_size
        np.put_along_axis(out, following[..., None], 4.0, axis=-1)
        return out

    def generate(self, prompts: np.ndarray, new_tokens: int, keep_logits: bool = False) -> Generation:
        self.generated.append(prompts)
        ids, kept = np.asarray(prompts), []
        for _ in range(new_tokens):
            last = self.logits(ids)[:, -1, :]
            kept.append(last)
            ids = np.concatenate([ids, last.argmax(-1)[:, None]], axis=1)
        tokens = ids[:, prompts.shape[1] :]
        return Generation(tokens, 0.010, [0.005] * (new_tokens - 1), np.stack(kept, 1) if keep_logits else None)


def fake_context(model: Any, batches: list | None, reference: Any = None, memo: dict | None = None) -> MetricContext:
    """A metric's context as the evaluator makes it; the input model is ``reference`` (else the model)."""
    handle = ModelHandler(
        type="genai", path="candidate" if reference is not None else "input", id="c" if reference is not None else "i"
    )
    input_handle = ModelHandler(type="hf", path="input", id="i", attributes={"task": "text-generation"})
    memo = {} if memo is None else memo

    def shared(key: Any, compute: Any) -> Any:
        if key not in memo:
            memo[key] = compute()
        return memo[key]

    return MetricContext(
        model=handle, model_type=None, accelerator=AcceleratorSpec(), session=lambda: model,  # type: ignore[arg-type]
        batches=batches, reference_model=input_handle, reference_session=lambda: reference or model, shared=shared,
    )  # fmt: skip


class TestPerplexityContract(MetricContract):
    metric_name = "perplexity"

    @pytest.fixture
    def context(self) -> MetricContext:
        return fake_context(Counting(), [{"input_ids": np.arange(12).reshape(2, 6)}])


class TestTokenAgreementContract(MetricContract):
    metric_name = "token_agreement"
    configs = [{"new_tokens": 4}]

    @pytest.fixture
    def context(self) -> MetricContext:
        return fake_context(Counting(skew=(5,)), [{"input_ids": np.array([[3, 4]])}], reference=Counting())


class TestGenerationLatencyContract(MetricContract):
    metric_name = "generation_latency"
    configs = [{"prompt_tokens": 4, "new_tokens": 6, "warmup_runs": 0, "repeat_runs": 2}]

    @pytest.fixture
    def context(self) -> MetricContext:
        return fake_context(Counting(), None)


def test_configs_bound_their_numbers() -> None:
    for config in (TokenAgreementConfig, GenerationLatencyConfig):
        assert unbounded_numbers(config) == []


def test_perplexity_of_uniform_logits_is_the_vocabulary_size() -> None:
    class Uniform(Counting):
        def logits(self, input_ids: np.ndarray) -> np.ndarray:
            return np.full((*np.shape(input_ids), self.vocab_size), 3.0, np.float32)

    blocks = [{"input_ids": np.arange(12).reshape(2, 6)}, {"input_ids": np.arange(6).reshape(1, 6)}]
    values = PerplexityMetric().measure(MetricConfig(), fake_context(Uniform(), blocks))
    assert values["perplexity"] == pytest.approx(16.0) and values["nll"] == pytest.approx(math.log(16))
    # the counting model gives each next token probability e^4 / (e^4 + 15)
    values = PerplexityMetric().measure(MetricConfig(), fake_context(Counting(), blocks))
    assert values["nll"] == pytest.approx(math.log(1 + 15 * math.exp(-4)))


def test_perplexity_refuses_blocks_beyond_the_context_and_models_that_are_not_language_models() -> None:
    with pytest.raises(DataError, match="a block of 6 tokens needs 6 tokens, but the model's context is 4"):
        PerplexityMetric().measure(
            MetricConfig(), fake_context(Counting(context_length=4), [{"input_ids": np.zeros((1, 6), np.int64)}])
        )
    with pytest.raises(IncompatibleModelError, match="measures decoder language models"):
        PerplexityMetric().measure(MetricConfig(), fake_context(object(), [{"input_ids": np.zeros((1, 6), np.int64)}]))


def test_agreement_counts_tokens_up_to_the_first_divergence_and_kl_where_distributions_differ() -> None:
    prompts = [{"input_ids": np.array([[3, 4], [10, 11]])}]
    reference, memo = Counting(), {}
    # the input model writes 5 6 7 8 9 10 and 12 13 14 15 0 1; the candidate writes 9 after 7
    values = TokenAgreementMetric().measure(
        TokenAgreementConfig(new_tokens=6), fake_context(Counting(skew=(7,)), prompts, reference, memo)
    )
    assert values["agreement"] == pytest.approx(9 / 12)
    assert values["first_divergence"] == pytest.approx((3 + 6) / 2)
    # teacher-forced, the candidate differs at one of 12 steps: after the input model's 7
    e4 = math.exp(4)
    p, q = e4 / (e4 + 15), 1 / (e4 + 15)
    one_step = p * math.log(p / q) + q * math.log(q / p)  # the two swapped probabilities; the rest agree
    assert values["kl_mean"] == pytest.approx(one_step / 12)
    # a second candidate reuses the input model's continuation
    again = TokenAgreementMetric().measure(
        TokenAgreementConfig(new_tokens=6), fake_context(Counting(), prompts, reference, memo)
    )
    assert again == pytest.approx({"agreement": 1.0, "first_divergence": 6.0, "kl_mean": 0.0})
    assert len(reference.generated) == 1


def test_agreement_stops_at_the_input_models_end_of_sequence() -> None:
    """ONNX Runtime GenAI pads after end of sequence while torch writes on: only the answer counts."""
    prompts = [{"input_ids": np.array([[0, 1]])}]
    reference = Counting()
    context = fake_context(Counting(skew=(3,)), prompts, reference)
    context.reference_model.attributes["eos_token_id"] = 2  # the input model writes 2, then 3 4 5
    values = TokenAgreementMetric().measure(TokenAgreementConfig(new_tokens=4), context)
    assert values == pytest.approx({"agreement": 1.0, "first_divergence": 4.0, "kl_mean": 0.0})


def test_the_input_model_agrees_with_itself_exactly_and_long_prompts_are_refused() -> None:
    prompts = [{"input_ids": np.array([[3, 4]])}]
    values = TokenAgreementMetric().measure(TokenAgreementConfig(new_tokens=5), fake_context(Counting(), prompts))
    assert values == {"agreement": 1.0, "first_divergence": 5.0, "kl_mean": 0.0}
    with pytest.raises(
        DataError, match="a prompt of 2 tokens and 5 new tokens needs 7 tokens, but the model's context is 6"
    ):
        TokenAgreementMetric().measure(
            TokenAgreementConfig(new_tokens=5), fake_context(Counting(context_length=6), prompts)
        )


def test_generation_latency_from_the_runs_timings_on_data_or_made_up_prompts() -> None:
    model = Counting()
    config = GenerationLatencyConfig(prompt_tokens=5, new_tokens=11, batch_size=2, warmup_runs=1, repeat_runs=3)
    values = GenerationLatencyMetric().measure(config, fake_context(model, [{"input_ids": np.array([[7, 8, 9]])}]))
    assert values == pytest.approx(
        {
            "ttft_ms_p50": 10.0,
            "ttft_ms_p90": 10.0,
            "decode_tokens_per_s_p50": 400.0,
            "decode_tokens_per_s_p10": 400.0,
            "total_ms_p50": 60.0,
        }
    )
    assert len(model.generated) == 4 and model.generated[0].tolist() == [[7, 8, 9, 7, 8], [9, 7, 8, 9, 7]]
    model = Counting()
    GenerationLatencyMetric().measure(config, fake_context(model, None))
    assert model.generated[0].shape == (2, 5) and 0 <= model.generated[0].min() and model.generated[0].max() < 16
    with pytest.raises(
        DataError, match="prompt_tokens 60 \\+ new_tokens 11\\) needs 71 tokens, but the model's context is 64"
    ):
        GenerationLatencyMetric().measure(
            GenerationLatencyConfig(prompt_tokens=60, new_tokens=11), fake_context(model, None)
        )


# -- end to end ---------------------------------------------------------------------------------


def write_texts(folder: Path) -> None:
    """A corpus of 24 lines of 12 words, and 3 prompts of 6 to 10 words, from the tiny vocabulary."""
    rng = np.random.default_rng(7)
    words = WORDS[4:]

    def line(count: int) -> str:
        return " ".join(rng.choice(words, size=count))

    (folder / "corpus.txt").write_text("\n".join(line(12) for _ in range(24)) + "\n")
    (folder / "prompts.txt").write_text("\n".join(line(count) for count in (6, 8, 10)) + "\n")


def workflow(model_dir: Path, **changes: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "input_model": {"type": "hf", "config": {"model_path": str(model_dir), "task": "text-generation"}},
        "data": {
            "corpus": {
                "load": {"type": "text_lines", "config": {"path": "corpus.txt"}},
                "preprocess": [{"type": "text_blocks", "config": {"block_size": 32, "max_blocks": 6}}],
                "batch_size": 2,
            },
            "prompts": {
                "load": {"type": "text_lines", "config": {"path": "prompts.txt"}},
                "preprocess": [{"type": "prompts", "config": {"length": 8, "add_bos": True}}],
                "batch_size": 2,
            },
        },
        "metrics": [
            {"name": "ppl", "type": "perplexity", "data": "corpus"},
            {"name": "agree", "type": "token_agreement", "data": "prompts", "config": {"new_tokens": 8}},
            {
                "name": "speed",
                "type": "generation_latency",
                "data": "corpus",
                "config": {"prompt_tokens": 16, "new_tokens": 8, "warmup_runs": 1, "repeat_runs": 3},
            },
        ],
        "runtime": {"intra_op_num_threads": 1},
        "passes": {"build": {"type": "GenAIModelBuilder", "config": [{"precision": "fp32"}, {"precision": "int4"}]}},
    }
    config.update(changes)
    return config


@pytest.fixture(scope="module")
def measured(tiny_llama_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, float]]:
    """The metrics of the input model and of its fp32 and int4 builds, from one run."""
    folder = tmp_path_factory.mktemp("lm-metrics")
    write_texts(folder)
    (folder / "workflow.json").write_text(json.dumps(workflow(tiny_llama_dir)))
    result = olive_core.run(folder / "workflow.json", output_dir=folder / "out", cache_dir=folder / "cache")
    assert result.ok, [candidate.error for candidate in result.candidates]
    values = {"input": result.input_evaluation.values}
    for candidate in result.candidates:
        values[candidate.point["build"]["precision"]] = candidate.evaluation.values
    print(json.dumps(values, indent=1))  # the figures, for whoever reads the log
    return values


def test_fp32_build_matches_the_input_model(measured: dict[str, dict[str, float]]) -> None:
    source, fp32 = measured["input"], measured["fp32"]
    assert 100 < source["ppl-perplexity"] < 1000  # a random model over 256 tokens: close to guessing
    assert fp32["ppl-perplexity"] == pytest.approx(source["ppl-perplexity"], rel=1e-3)
    assert fp32["ppl-nll"] == pytest.approx(math.log(fp32["ppl-perplexity"]))
    assert source["agree-agreement"] == 1.0 and source["agree-kl_mean"] == 0.0 and source["agree-first_divergence"] == 8
    assert fp32["agree-agreement"] == 1.0 and fp32["agree-first_divergence"] == 8
    assert 0 <= fp32["agree-kl_mean"] < 1e-6


def test_int4_build_is_close_but_not_identical(measured: dict[str, dict[str, float]]) -> None:
    source, int4 = measured["input"], measured["int4"]
    assert int4["ppl-perplexity"] == pytest.approx(source["ppl-perplexity"], rel=0.2)
    assert 0 <= int4["agree-agreement"] <= 1 and 0 <= int4["agree-first_divergence"] <= 8
    assert 0 < int4["agree-kl_mean"] < 1


def test_generation_latency_of_every_model(measured: dict[str, dict[str, float]]) -> None:
    for values in measured.values():
        assert 0 < values["speed-ttft_ms_p50"] <= values["speed-ttft_ms_p90"]
        assert 0 < values["speed-decode_tokens_per_s_p10"] <= values["speed-decode_tokens_per_s_p50"]
        assert values["speed-total_ms_p50"] > values["speed-ttft_ms_p50"]


def test_a_prompt_beyond_the_context_is_one_clear_error(tiny_llama_dir: Path, tmp_path: Path) -> None:
    write_texts(tmp_path)
    config = workflow(tiny_llama_dir, passes={})
    config["metrics"] = [{"name": "agree", "type": "token_agreement", "data": "prompts", "config": {"new_tokens": 121}}]
    (tmp_path / "workflow.json").write_text(json.dumps(config))
    with pytest.raises(DataError) as raised:
        olive_core.run(tmp_path / "workflow.json", output_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
    context = TINY_LLAMA["max_position_embeddings"]
    assert f"a prompt of 8 tokens and 121 new tokens needs 129 tokens, but the model's context is {context}" in str(
        raised.value
    )


def test_a_model_that_is_not_a_language_model_is_refused(tiny_llama_dir: Path, tmp_path: Path) -> None:
    write_texts(tmp_path)
    config = workflow(tiny_llama_dir, passes={})
    config["input_model"]["config"]["task"] = "text-classification"
    config["metrics"] = config["metrics"][:1]
    (tmp_path / "workflow.json").write_text(json.dumps(config))
    with pytest.raises(
        IncompatibleModelError,
        match="measures decoder language models .* not this 'hf' model \\(text-classification\\)",
    ):
        olive_core.run(tmp_path / "workflow.json", output_dir=tmp_path / "out", cache_dir=tmp_path / "cache")
