"""Workflow validation: shape first, then each component; one error per bad field, with its path."""

from __future__ import annotations

import json

import pytest

from olive_core.config.environment import expand_variables
from olive_core.config.loading import read_workflow_file
from olive_core.engine.api import load_workflow
from olive_core.errors import ConfigError, ConfigErrors


def _errors(exc: pytest.ExceptionInfo) -> list[str]:
    error = exc.value
    return [str(e) for e in error.errors] if isinstance(error, ConfigErrors) else [str(error)]


def test_valid_workflow_resolves(write_workflow, toy_manager):
    loaded = load_workflow(write_workflow(), toy_manager)
    assert [s.name for s in loaded.resolved.steps] == ["scale", "round"]
    assert loaded.resolved.steps[0].passes[0].alternatives[0].factor == 2.0
    assert str(loaded.resolved.accelerators[0]) == "cpu-CPUExecutionProvider"


def test_invalid_field_names_its_path_and_file(write_workflow, toy_manager):
    path = write_workflow(passes={"quantize": {"type": "ToyRound", "config": {"decimals": "many"}}})
    with pytest.raises(ConfigError) as exc:
        load_workflow(path, toy_manager)
    message = str(exc.value)
    assert message.startswith(f"{path}: passes.quantize.config.decimals:")
    assert "valid integer" in message and "'many'" in message


def test_unknown_field_suggests_the_closest(write_workflow, toy_manager):
    with pytest.raises(ConfigError) as exc:
        load_workflow(write_workflow(passes={"q": {"type": "ToyRound", "config": {"decimal": 1}}}), toy_manager)
    assert "passes.q.config.decimal: unknown field 'decimal'" in str(exc.value)
    assert "did you mean 'decimals'?" in str(exc.value)


def test_unknown_top_level_field_suggests_the_closest(write_workflow, toy_manager):
    with pytest.raises(ConfigError) as exc:
        load_workflow(write_workflow(pases={}), toy_manager)
    assert "pases: unknown field 'pases'" in str(exc.value) and "did you mean 'passes'?" in str(exc.value)


def test_unknown_pass_suggests_installed_name(write_workflow, toy_manager):
    with pytest.raises(ConfigError) as exc:
        load_workflow(write_workflow(passes={"s": {"type": "ToyScal"}}), toy_manager)
    assert "passes.s.type: unknown pass 'ToyScal'; did you mean 'ToyScale'?" in str(exc.value)


def test_pass_of_an_uninstalled_known_plugin_gives_the_pip_line(write_workflow, toy_manager):
    if "OnnxDynamicQuantization" in toy_manager.registry.names("pass"):
        pytest.skip("olive-onnx is installed here")
    with pytest.raises(ConfigError) as exc:
        load_workflow(write_workflow(passes={"q": {"type": "OnnxDynamicQuantization"}}), toy_manager)
    assert "pip install olive-onnx" in str(exc.value)


def test_component_of_a_plugin_that_failed_to_load_reports_its_error(fake_distribution, write_workflow):
    from olive_core.plugins import create_plugin_manager

    fake_distribution("olive-onnx", "9.9", entry_points={"olive_core.plugins": {"onnx": "broken_onnx"}}, modules={"broken_onnx.py": "raise ImportError('onnxruntime is missing')"})
    manager = create_plugin_manager(extra_plugins=["olive_core.testing.toy"], disabled=[])
    if "OnnxDynamicQuantization" in manager.registry.names("pass"):
        pytest.skip("a working olive-onnx is installed here")
    with pytest.raises(ConfigError) as exc:
        load_workflow(write_workflow(passes={"q": {"type": "OnnxDynamicQuantization"}}), manager)
    assert "comes from olive-onnx, which failed to load: ImportError: onnxruntime is missing" in str(exc.value)


def test_shape_errors_stop_before_component_checks(write_workflow, toy_manager):
    """A shape error (phase one) is reported alone: components are not checked on a broken shape."""
    path = write_workflow(
        passes={
            "a": {"type": "ToyRound", "config": {"decimals": "x"}},
            "c": {"type": "ToyScale", "config": 5},
        }
    )
    with pytest.raises(ConfigError) as exc:
        load_workflow(path, toy_manager)
    assert not isinstance(exc.value, ConfigErrors)
    assert "passes.c.config: expected an object of pass options" in str(exc.value)


def test_component_errors_are_collected_across_steps(write_workflow, toy_manager):
    path = write_workflow(
        passes={
            "a": {"type": "ToyRound", "config": {"decimals": "x"}},
            "b": {"type": "NoSuchPass", "config": {"anything": 1}},
        }
    )
    with pytest.raises(ConfigErrors) as exc:
        load_workflow(path, toy_manager)
    errors = _errors(exc)
    assert len(errors) == 2
    assert "passes.a.config.decimals" in errors[0] and "passes.b.type: unknown pass 'NoSuchPass'" in errors[1]


def test_alternatives_are_validated_each_with_its_index(write_workflow, toy_manager):
    path = write_workflow(passes={"r": {"type": "ToyRound", "config": [{"decimals": 1}, {"decimals": "x"}]}})
    with pytest.raises(ConfigError, match=r"passes\.r\.config\.1\.decimals"):
        load_workflow(path, toy_manager)


def test_config_must_be_object_or_list(write_workflow, toy_manager):
    with pytest.raises(ConfigError, match="passes.r.config: expected an object of pass options"):
        load_workflow(write_workflow(passes={"r": {"type": "ToyRound", "config": "decimals=1"}}), toy_manager)


def test_missing_required_section(tmp_path, toy_manager):
    path = tmp_path / "w.json"
    path.write_text(json.dumps({"passes": {}}))
    with pytest.raises(ConfigError, match="input_model: required field is missing"):
        load_workflow(path, toy_manager)


def test_missing_model_file_is_named(write_workflow, toy_manager, tmp_path):
    from olive_core.engine.api import create_engine
    from olive_core.errors import ModelLoadError

    path = write_workflow(input_model={"type": "toy", "config": {"model_path": "nope/model.json"}})
    engine = create_engine(path, manager=toy_manager)
    with pytest.raises(ModelLoadError, match=r"nope/model\.json' does not exist"):
        engine.run()


def test_unreadable_model_file_is_named(write_workflow, toy_manager, tmp_path):
    from olive_core.engine.api import create_engine
    from olive_core.errors import ModelLoadError

    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xff not json")
    engine = create_engine(write_workflow(input_model={"type": "toy", "config": {"model_path": str(garbage)}}), manager=toy_manager)
    with pytest.raises(ModelLoadError, match="garbage.json' is not a toy model"):
        engine.run()


def test_missing_workflow_file(tmp_path):
    with pytest.raises(ConfigError, match="workflow file .*missing.json' does not exist"):
        read_workflow_file(tmp_path / "missing.json")


def test_invalid_json_gives_line_and_column(tmp_path):
    path = tmp_path / "w.json"
    path.write_text('{\n  "input_model": {,\n}')
    with pytest.raises(ConfigError, match=r"w.json: invalid JSON at line 2, column 19"):
        read_workflow_file(path)


def test_yaml_is_read_and_errors_located(tmp_path):
    good = tmp_path / "w.yaml"
    good.write_text("input_model:\n  type: toy\n")
    assert read_workflow_file(good) == {"input_model": {"type": "toy"}}
    bad = tmp_path / "bad.yml"
    bad.write_text("input_model:\n  type: [toy\n")
    with pytest.raises(ConfigError, match=r"bad.yml: invalid YAML at line 3"):
        read_workflow_file(bad)


def test_workflow_must_be_an_object(tmp_path):
    path = tmp_path / "w.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must be an object"):
        read_workflow_file(path)


def test_environment_variables_expand_with_defaults(monkeypatch):
    monkeypatch.setenv("MODEL_DIR", "/models/x")
    assert expand_variables({"a": "${MODEL_DIR}/m.onnx", "b": ["${NOPE:-fallback}"], "c": 3}) == {
        "a": "/models/x/m.onnx",
        "b": ["fallback"],
        "c": 3,
    }


def test_missing_environment_variable_names_the_field(monkeypatch):
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(ConfigError, match=r"input_model.config.model_path: environment variable 'NOT_SET_ANYWHERE' is not set"):
        expand_variables({"input_model": {"config": {"model_path": "${NOT_SET_ANYWHERE}"}}})


def test_search_override_of_unknown_field(write_workflow, toy_manager):
    path = write_workflow(passes={"r": {"type": "ToyRound", "search": {"decimal": [1, 2]}}})
    with pytest.raises(ConfigError, match=r"passes.r.search.decimal: 'ToyRound' has no field 'decimal'"):
        load_workflow(path, toy_manager)


def test_unknown_accelerator_and_cache_backend(write_workflow, toy_manager):
    path = write_workflow(accelerators=[{"device": "gpux"}], engine={"cache": {"type": "redis"}})
    with pytest.raises(ConfigErrors) as exc:
        load_workflow(path, toy_manager)
    errors = _errors(exc)
    assert any("accelerators.0.device: unknown accelerator 'gpux'" in e for e in errors)
    assert any("engine.cache.type: unknown cache backend 'redis'" in e for e in errors)


def test_objective_must_name_a_measured_metric(write_workflow, toy_manager):
    metrics = [{"name": "objective", "type": "toy_objective"}]
    path = write_workflow(metrics=metrics, search={"objectives": [{"metric": "objective-los"}]})
    with pytest.raises(ConfigError, match=r"search.objectives.0.metric: 'objective-los' is not a measured metric") as exc:
        load_workflow(path, toy_manager)
    assert "did you mean 'objective-loss'?" in str(exc.value)
    with pytest.raises(ConfigError, match=r"measured: none \(add metrics\)"):
        load_workflow(write_workflow(search={"objectives": [{"metric": "latency-p50"}]}), toy_manager)


def test_metric_needs_known_data_and_sub_metrics(write_workflow, toy_manager):
    path = write_workflow(metrics=[{"name": "lat", "type": "latency", "data": "nope"}])
    with pytest.raises(ConfigError, match=r"metrics.0.data: no data named 'nope'"):
        load_workflow(path, toy_manager)
    path = write_workflow(metrics=[{"name": "o", "type": "toy_objective", "sub_metrics": ["speed"]}])
    with pytest.raises(ConfigError, match=r"metrics.0.sub_metrics: metric 'toy_objective' has no sub-metric 'speed'"):
        load_workflow(path, toy_manager)


# -- files that are not workflows ----------------------------------------------------------------


@pytest.mark.parametrize(("name", "text"), [("empty.json", ""), ("blank.json", "  \n"), ("empty.yaml", ""), ("comments.yaml", "# nothing\n# here\n")])
def test_an_empty_workflow_file_says_the_file_is_empty(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError, match="the file is empty") as error:
        read_workflow_file(path)
    assert str(path) in str(error.value)


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path):
    import time

    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 12)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\ninput_model: *a11\n")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="expands to more than 100,000 values"):
        read_workflow_file(path)
    assert time.monotonic() - started < 5


def test_a_recursive_yaml_alias_is_refused(tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text("input_model: &loop {type: hf, config: *loop}\n")
    with pytest.raises(ConfigError, match="recursive alias"):
        read_workflow_file(path)


@pytest.mark.parametrize(("name", "depth"), [("deep.json", 100_000), ("deep.yaml", 100_000), ("nested.json", 70)])
def test_deeply_nested_values_are_refused(tmp_path, name, depth):
    path = tmp_path / name
    path.write_text('{"input_model": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(ConfigError, match="nested more than 64 levels"):
        read_workflow_file(path)


def test_an_oversized_workflow_file_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:
        handle.truncate(64 * 1024 * 1024)  # sparse: costs no disk
    with pytest.raises(ConfigError, match="a workflow file is at most"):
        read_workflow_file(path)
