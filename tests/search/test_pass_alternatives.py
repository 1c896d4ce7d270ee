"""A step of several passes ("dynamic or static" quantization): one choice, searched as one space.

ToyRound (decimals 0-3 x round_bias) and ToyObjective (b 0-4 x c, with a pinned) stand in for
two quantizers with different options: each one's searchable fields are searched under it only.
"""

from __future__ import annotations

import json

import pytest

from olive_core.engine.api import load_workflow, run
from olive_core.errors import ConfigError, ConfigErrors
from olive_core.search.build import build_search_space

OBJECTIVE = {"metrics": [{"name": "objective", "type": "toy_objective", "sub_metrics": ["loss"]}]}
ROUND_POINTS = 4 * 2  # decimals x round_bias
OBJECTIVE_POINTS = 5 * 2  # b x c (a is written, so pinned)

SHARED = {"type": ["ToyRound", "ToyObjective"], "config": {"a": 1.5}}
LISTED = [{"type": "ToyRound"}, {"type": "ToyObjective", "config": {"a": 1.5}}]


def _points(result) -> list[str]:
    return [json.dumps(c.point, sort_keys=True) for c in result.candidates]


@pytest.mark.parametrize("step", [SHARED, LISTED], ids=["type-list", "list-of-steps"])
def test_exhaustive_enumerates_the_sum_of_each_passes_space(write_workflow, toy_manager, step):
    path = write_workflow(passes={"q": step}, search={"strategy": "exhaustive"}, **OBJECTIVE)
    result = run(path, manager=toy_manager)
    assert len(result.candidates) == ROUND_POINTS + OBJECTIVE_POINTS
    assert len(set(_points(result))) == len(result.candidates)
    assert all(c.ok for c in result.candidates)  # no point pairs a pass with another's options
    by_type = {}
    for candidate in result.candidates:
        config = candidate.point["q"]
        by_type.setdefault(config["type"], []).append(set(config) - {"type"})
    assert len(by_type["ToyRound"]) == ROUND_POINTS and all(f == {"decimals", "round_bias"} for f in by_type["ToyRound"])
    assert len(by_type["ToyObjective"]) == OBJECTIVE_POINTS and all(f == {"a", "b", "c"} for f in by_type["ToyObjective"])
    assert result.best_candidates[0].point["q"] == {"type": "ToyObjective", "a": 1.5, "b": 3, "c": True}


def test_both_spellings_give_the_same_space(write_workflow, toy_manager):
    spaces = []
    for step in (SHARED, LISTED):
        loaded = load_workflow(write_workflow(passes={"q": step}, search={"strategy": "exhaustive"}, **OBJECTIVE), toy_manager)
        spaces.append(list(build_search_space(loaded.resolved.steps, searching=True).enumerate()))
    assert spaces[0] == spaces[1]


def test_an_optional_step_of_several_passes_adds_one_skip(write_workflow, toy_manager):
    for step in ({**SHARED, "optional": True}, [LISTED[0], {**LISTED[1], "optional": True}]):
        path = write_workflow(passes={"q": step}, search={"strategy": "exhaustive"}, **OBJECTIVE)
        result = run(path, manager=toy_manager)
        assert len(result.candidates) == ROUND_POINTS + OBJECTIVE_POINTS + 1
        assert sum(c.point["q"] is None for c in result.candidates) == 1


def test_records_say_which_pass_ran_and_step_ids_differ_by_pass(write_workflow, toy_manager, tmp_path):
    # the same (empty) config under two passes: two models, two ids
    step = [{"type": "ToyFlaky"}, {"type": "ToyScale", "config": {"factor": 1.0}}]
    path = write_workflow(passes={"q": step}, **OBJECTIVE)
    first = run(path, manager=toy_manager)
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert [c["configs"]["q"]["type"] for c in record["candidates"]] == ["ToyFlaky", "ToyScale"]
    ran = {record["models"][c["model_id"]]["pass_type"] for c in record["candidates"]}
    assert ran == {"ToyFlaky", "ToyScale"} and len({c.model.id for c in first.candidates}) == 2
    second = run(path, manager=toy_manager)
    assert [second.steps[c.lineage[0]].status for c in second.candidates] == ["cached", "cached"]
    assert [c.model.id for c in second.candidates] == [c.model.id for c in first.candidates]


@pytest.mark.parametrize(
    "search",
    [{"strategy": "random", "seed": 1}, {"strategy": "nevergrad", "config": {"budget": 25}, "max_trials": 25, "seed": 1}],
    ids=["random", "nevergrad"],
)
def test_sampling_strategies_choose_the_pass_then_its_options(write_workflow, toy_manager, search):
    path = write_workflow(passes={"q": {**SHARED, "optional": True}}, search=search, **OBJECTIVE)
    result = run(path, manager=toy_manager)
    assert result.candidates and all(c.ok for c in result.candidates)
    chosen = {c.point["q"]["type"] if c.point["q"] else None for c in result.candidates}
    assert chosen == {"ToyRound", "ToyObjective", None}


def test_shared_options_go_to_the_passes_that_have_them(write_workflow, toy_manager):
    step = {"type": ["ToyRound", "ToyObjective"], "config": {"decimals": 1, "b": 3}, "search": {"c": [True]}}
    loaded = load_workflow(write_workflow(passes={"q": step}, search={"strategy": "exhaustive"}, **OBJECTIVE), toy_manager)
    rounding, objective = loaded.resolved.steps[0].passes
    assert rounding.alternatives[0].decimals == 1 and rounding.search_overrides == {}
    assert objective.alternatives[0].b == 3 and objective.search_overrides == {"c": [True]}
    assert rounding.written == [{"decimals"}] and objective.written == [{"b"}]


def _errors(write_workflow, toy_manager, step) -> list[str]:
    with pytest.raises((ConfigError, ConfigErrors)) as caught:
        load_workflow(write_workflow(passes={"q": step}, **OBJECTIVE), toy_manager)
    error = caught.value
    return [str(e) for e in error.errors] if isinstance(error, ConfigErrors) else [str(error)]


def test_a_shared_field_no_listed_pass_has_is_refused_with_a_suggestion(write_workflow, toy_manager):
    (error,) = _errors(write_workflow, toy_manager, {"type": ["ToyRound", "ToyObjective"], "config": {"decimal": 1}})
    assert "passes.q.config.decimal: neither ToyRound or ToyObjective has a field 'decimal'" in error
    assert "did you mean 'decimals'?" in error


def test_each_alternative_is_validated_before_anything_runs(write_workflow, toy_manager):
    errors = _errors(
        write_workflow,
        toy_manager,
        [{"type": "ToyRond"}, {"type": "ToyObjective", "config": {"b": "many"}}, {"type": "ToyObjective"}, {"type": ["ToyFit"]}],
    )
    text = "\n".join(errors)
    assert "passes.q.0.type: unknown pass 'ToyRond'; did you mean 'ToyRound'?" in text
    assert "passes.q.1.config.b:" in text
    assert "passes.q.2.type: 'ToyObjective' is already item 1 of this step" in text
    assert "passes.q.3.type: each item of a step's list of alternatives names one pass" in text


def test_an_unknown_pass_among_several_lists_the_installed_ones(write_workflow, toy_manager):
    (error,) = _errors(write_workflow, toy_manager, {"type": ["ToyRound", "Zzyzx"]})
    assert "passes.q.type: unknown pass 'Zzyzx'; installed passes: " in error


def test_a_pass_that_refuses_the_shared_config_is_named(write_workflow, toy_manager):
    (error,) = _errors(write_workflow, toy_manager, {"type": ["ToyRound", "ToyFit"], "config": {"decimals": 1}})
    assert "passes.q.config.data: ToyFit: required field is missing" in error


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"type": ["ToyRound", "ToyRound"]}, "passes.q.type: each pass is listed once; repeated: ToyRound"),
        ({"type": ["ToyRound", "ToyObjective"], "config": [{}, {}]}, "write the step as a list"),
        ({"type": []}, "passes.q.type: expected a registered pass name, or a non-empty list of pass names"),
        ([], "passes.q: List should have at least 1 item"),
    ],
)
def test_malformed_steps_are_refused_by_shape(write_workflow, toy_manager, step, message):
    assert message in "\n".join(_errors(write_workflow, toy_manager, step))


def test_cli_refuses_a_bad_alternative_with_exit_2(invoke, write_workflow):
    result = invoke("run", str(write_workflow(passes={"q": [{"type": "ToyRound"}, {"type": "ToyRond"}]})))
    assert result.exit_code == 2 and "passes.q.1.type: unknown pass 'ToyRond'" in result.output


def test_dry_run_lists_the_pass_as_what_differs(invoke, write_workflow):
    path = write_workflow(passes={"q": [{"type": "ToyRound", "config": {"decimals": 1}}, {"type": "ToyScale"}]})
    result = invoke("run", "--dry-run", str(path))
    assert result.exit_code == 0, result.output
    assert "steps: q (ToyRound or ToyScale)" in result.output
    assert "q: type (ToyRound, ToyScale);" in result.output
    assert "1. q [type=ToyRound" in result.output and "2. q [type=ToyScale" in result.output


def test_schema_accepts_a_list_of_passes(invoke, write_workflow):
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(invoke("schema").output)
    for step in (SHARED, LISTED):
        jsonschema.validate(json.loads(write_workflow(passes={"q": step}).read_text()), schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(json.loads(write_workflow(passes={"q": {"type": ["ToyRound", "NoSuchPass"]}}).read_text()), schema)
