"""OnnxSessionTuning: measures candidates, stores the best, and later sessions use it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from olive_core.models import ModelHandler
from olive_core.testing import PassContract
from olive_core.testing.steps import CPU, run_pass

from olive_onnx.passes.session_tuning import OnnxSessionTuningConfig, candidate_settings
from olive_onnx.runtime import create_session

FAST = {"rounds": 1, "runs_per_round": 2, "warmup_runs": 1, "sequence_length": 16}


class TestOnnxSessionTuning(PassContract):
    pass_name = "OnnxSessionTuning"
    configs = [{**FAST, "intra_op_num_threads": [1, 2]}]
    writes_new_model = False

    @pytest.fixture
    def input_model(self, tiny_bert: ModelHandler) -> ModelHandler:
        return tiny_bert

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        assert output_model.path == input_model.path, "tuning must not copy the model"
        tuned = output_model.attributes["session_options"]
        assert tuned == {} or tuned["intra_op_num_threads"] in (1, 2)


def test_the_best_settings_are_stored_and_used(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    output, context = run_pass(
        "OnnxSessionTuning", tiny_bert, tmp_path, {**FAST, "intra_op_num_threads": [1], "execution_modes": ["parallel"]}
    )
    report = context.report["session_tuning"]
    assert [c["settings"] for c in report["candidates"]] == [
        {},
        {
            "graph_optimization_level": "all",
            "execution_mode": "parallel",
            "intra_op_num_threads": 1,
            "inter_op_num_threads": 0,
        },
    ]
    assert all(c["median_ms"] > 0 for c in report["candidates"])
    best = output.attributes["session_options"]
    assert best == report["best"]
    session = create_session(output, CPU, {})
    for key, value in best.items():
        assert getattr(session.settings, key) == value


def test_candidates_vary_inter_op_threads_only_in_parallel_mode() -> None:
    config = OnnxSessionTuningConfig(
        intra_op_num_threads=[1, 2],
        inter_op_num_threads=[1, 2],
        execution_modes=["sequential", "parallel"],
        graph_optimization_levels=["extended", "all"],
    )
    candidates = candidate_settings(config)
    assert len(candidates) == 2 * (2 + 2 * 2)
    assert all(("inter_op_num_threads" in c) == (c["execution_mode"] == "parallel") for c in candidates)


def test_default_thread_candidates_cover_one_to_all_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.cpu_count", lambda: 8)
    threads = [c["intra_op_num_threads"] for c in candidate_settings(OnnxSessionTuningConfig())]
    assert threads == [1, 4, 8]


def test_dummy_inputs_use_the_io_config_shapes(tiny_bert: ModelHandler, tmp_path: Path) -> None:
    from olive_core.errors import DataError
    from olive_core.models.io_config import IoConfig

    wrong = tiny_bert.model_copy(
        update={"io_config": IoConfig(input_names=["input_ids"], input_shapes=[[1, 2, 3]], input_types=["int64"])}
    )
    with pytest.raises(DataError, match="'input_ids'.*given shape \\[1, 2, 3\\]"):
        run_pass("OnnxSessionTuning", wrong, tmp_path, FAST)
