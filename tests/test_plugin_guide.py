"""The plugin author's guide runs: every example in docs/plugins.md is a file under docs/examples,
quoted byte for byte; each registers through create_plugin_manager, passes its kind's contract
suite, and works in a real run on core's toy model type."""

from __future__ import annotations

import ast
import importlib.util
import json
import logging
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

import olive_core
from olive_core.accelerators import AcceleratorSpec
from olive_core.engine.result import WorkflowResult
from olive_core.errors import ConfigError, DataError, IncompatibleModelError, ModelLoadError
from olive_core.evaluation import DataContext
from olive_core.models import ModelHandler
from olive_core.plugins import OlivePluginManager, create_plugin_manager
from olive_core.testing import (
    CacheBackendContract,
    DataComponentContract,
    ExecutionProviderContract,
    PassContract,
)
from olive_core.testing.toy import ToyModelConfig, ToyModelType
from olive_core.testing.workflows import TOY, write_toy_input

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
EXAMPLES_DIR = DOCS / "examples"
#: the example plugins (the guide also quotes a plugin's tests: test_*.py)
EXAMPLES = sorted(path.stem for path in EXAMPLES_DIR.glob("*.py") if not path.name.startswith("test_"))
#: a fenced block that quotes an example: ```python examples/<file>.py
QUOTE = re.compile(r"^```python (examples/\S+\.py)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


@pytest.fixture(autouse=True)
def _examples_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The examples import by module name, here and in the subprocesses the contract suites start."""
    monkeypatch.syspath_prepend(str(EXAMPLES_DIR))
    paths = [str(EXAMPLES_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


@pytest.fixture
def olive_plugin_manager(monkeypatch: pytest.MonkeyPatch) -> OlivePluginManager:
    """What the contract suites load components from: the installed plugins and every example
    (OLIVE_PLUGINS, so the suites' subprocesses load them too)."""
    monkeypatch.setenv("OLIVE_PLUGINS", ",".join(EXAMPLES))
    return create_plugin_manager()


def toy_handle(folder: Path) -> ModelHandler:
    model_type = ToyModelType()
    handle = model_type.create_handle("input_model", ToyModelConfig(model_path=str(write_toy_input(folder))), folder)
    return handle.model_copy(update={"id": model_type.content_id(handle)})


def run_workflow(folder: Path, plugin: str, **sections: Any) -> WorkflowResult:
    """Run a toy workflow (sections replace the defaults) with the toy plugin and one example."""
    workflow = {
        "input_model": {"type": "toy", "config": {"model_path": str(write_toy_input(folder))}},
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
        **sections,
    }
    path = folder / "workflow.json"
    path.write_text(json.dumps(workflow))
    return olive_core.run(path, manager=create_plugin_manager(extra_plugins=[TOY, plugin]))


def write_points(folder: Path, count: int = 8) -> Path:
    path = folder / "points.jsonl"
    path.write_text("\n".join(json.dumps({"x": [0.1 * i, 1.0 - 0.05 * i]}) for i in range(count)))
    return path


def points_data() -> dict[str, Any]:
    return {"points": {"load": {"type": "jsonl", "config": {"path": "points.jsonl"}}, "batch_size": 4}}


# -- the guide quotes the examples as they are ---------------------------------------------------


def test_the_guide_quotes_every_example_byte_for_byte() -> None:
    guide = (DOCS / "plugins.md").read_text()
    quoted = QUOTE.findall(guide)
    names = [name for name, _ in quoted]
    assert sorted(names) == sorted(f"examples/{path.name}" for path in EXAMPLES_DIR.glob("*.py")), "quote each once"
    for name, body in quoted:
        assert body == (DOCS / name).read_text(), f"docs/plugins.md's copy of {name} differs from the file"


@pytest.mark.parametrize("example", EXAMPLES)
def test_each_example_registers_through_create_plugin_manager(example: str) -> None:
    manager = create_plugin_manager(extra_plugins=[example])
    assert manager.failures == []
    info = next(info for info in manager.plugin_infos() if info.name == example)
    assert info.components, f"{example} registers nothing"


def api_names(package: str) -> set[str]:
    """The names ``<package>/api.py`` of a plugin in this repository exports (read, not imported)."""
    (path,) = ROOT.glob(f"plugins/*/{package}/api.py")
    tree = ast.parse(path.read_text())
    assignments = [node for node in tree.body if isinstance(node, ast.Assign)]
    exported = next(node.value for node in assignments if getattr(node.targets[0], "id", "") == "__all__")
    return set(ast.literal_eval(exported))


@pytest.mark.parametrize("example", EXAMPLES)
def test_examples_import_other_plugins_only_through_their_api(example: str) -> None:
    """What the guide tells plugin authors: another plugin's code comes from its ``api`` module, by
    names it exports (checked without importing the other plugin: core's tests have no onnx)."""
    tree = ast.parse((EXAMPLES_DIR / f"{example}.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules = [(node.module, [alias.name for alias in node.names])]
        else:
            continue
        for module, names in modules:
            package, _, rest = module.partition(".")
            if not package.startswith("olive_") or package == "olive_core":
                continue
            assert rest == "api" and names, f"{example} imports {module}: import names from {package}.api"
            unknown = set(names) - api_names(package)
            assert not unknown, f"{example} imports {sorted(unknown)}, which {package}.api does not export"


# -- a metric --------------------------------------------------------------------------------------


def load_example_tests(name: str) -> ModuleType:
    """A test module the guide quotes, loaded from its file (its tests then run here)."""
    spec = importlib.util.spec_from_file_location(f"guide_{name}", EXAMPLES_DIR / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: the guide's tests of its metric plugin: the contract suite, the values, the error
TestOutputErrorAsQuoted = load_example_tests("test_metric_plugin").TestOutputError


def test_output_error_in_a_run(tmp_path: Path) -> None:
    write_points(tmp_path)
    result = run_workflow(
        tmp_path,
        "metric_plugin",
        data=points_data(),
        metrics=[
            {"name": "error", "type": "output_error", "data": "points", "goals": {"off_fraction": {"threshold": 0.5}}}
        ],
        passes={"round": {"type": "ToyRound", "config": [{"decimals": 0}, {"decimals": 3}]}},
    )
    assert result.ok and result.input_evaluation.values == {"error-mse": 0.0, "error-off_fraction": 0.0}
    coarse, fine = (candidate.evaluation.values for candidate in result.candidates)
    assert coarse["error-mse"] > fine["error-mse"] > 0
    assert result.best == [1]  # decimals 0 puts more than half the outputs off: its goal is missed


def test_output_error_names_a_missing_output(tmp_path: Path) -> None:
    write_points(tmp_path)
    with pytest.raises(DataError, match="no output 'z'") as error:
        run_workflow(
            tmp_path,
            "metric_plugin",
            data=points_data(),
            metrics=[{"name": "error", "type": "output_error", "data": "points", "config": {"output": "z"}}],
        )
    assert error.value.hint == "outputs: y"


# -- a pass ----------------------------------------------------------------------------------------


class TestClipWeightsContract(PassContract):
    pass_name = "ClipWeights"
    configs = [{}, {"limit": 1.0, "clip_bias": True}]

    @pytest.fixture
    def input_model(self, tmp_path: Path) -> ModelHandler:
        return toy_handle(tmp_path)

    def check_output(self, config: dict[str, Any], input_model: ModelHandler, output_model: ModelHandler) -> None:
        limit = config.get("limit", 4.0)
        weights = json.loads(Path(output_model.path).read_text())["weights"]
        assert max(abs(w) for row in weights for w in row) <= limit
        assert output_model.attributes["clip_limit"] == limit


def test_clip_weights_searched_in_a_run(tmp_path: Path) -> None:
    result = run_workflow(
        tmp_path,
        "pass_plugin",
        passes={"clip": {"type": "ClipWeights", "search": {"limit": [1.0, 8.0]}}},
        search={"strategy": "exhaustive"},
    )
    assert result.ok and len(result.candidates) == 4  # limit 1.0 or 8.0, clip_bias or not
    records = json.loads((tmp_path / "out" / "run.json").read_text())["models"].values()
    by_limit = {(r["config"]["limit"], r["config"]["clip_bias"]): r for r in records}
    assert by_limit[(1.0, False)]["report"] == {"clipped_weights": 3} and by_limit[(1.0, False)]["warnings"] == []
    assert by_limit[(8.0, True)]["warnings"] == ["no weight is larger than 8.0: the model is unchanged"]


def test_clip_weights_refuses_a_clipped_model(tmp_path: Path) -> None:
    from pass_plugin import ClipWeights, ClipWeightsConfig

    from olive_core.passes import PassContext

    clipped = toy_handle(tmp_path).derive(attributes={"clip_limit": 2.0})
    context = PassContext(accelerator=AcceleratorSpec("cpu", "CPUExecutionProvider"))
    with pytest.raises(IncompatibleModelError, match="clipped already"):
        ClipWeights().check_input(clipped, ClipWeightsConfig(), context)


# -- a model type ----------------------------------------------------------------------------------


def write_npz(path: Path) -> Path:
    np.savez(path, weight=np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.0]]), bias=np.array([0.5, 0.0, -0.5]))
    return path


def test_npz_linear_in_a_run(tmp_path: Path) -> None:
    write_npz(tmp_path / "linear.npz")
    workflow = {
        "input_model": {"type": "npz_linear", "config": {"model_path": "linear.npz"}},
        "data": {"synthetic": {"load": {"type": "synthetic", "config": {"num_samples": 4}}, "batch_size": 2}},
        "metrics": [
            {"name": "latency", "type": "latency", "data": "synthetic", "config": {"warmup_runs": 1, "repeat_runs": 2}},
            {"name": "size", "type": "size"},
        ],
        "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
    }
    (tmp_path / "workflow.json").write_text(json.dumps(workflow))
    manager = create_plugin_manager(extra_plugins=["model_type_plugin"])
    result = olive_core.run(tmp_path / "workflow.json", manager=manager)
    assert result.ok and result.input_evaluation.values["latency-p50"] > 0
    assert (tmp_path / "out" / "model" / "linear.npz").is_file()


def test_npz_linear_session_and_errors(tmp_path: Path) -> None:
    from model_type_plugin import NpzLinearConfig, NpzLinearModelType

    model_type = NpzLinearModelType()
    write_npz(tmp_path / "linear.npz")
    handle = model_type.create_handle("input_model", NpzLinearConfig(model_path="linear.npz"), base_dir=tmp_path)
    assert handle.io_config is not None and handle.io_config.input_shapes == [[1, 2]]
    session = model_type.create_session(handle, AcceleratorSpec("cpu", "CPUExecutionProvider"), {})
    (y,) = session.run({"x": np.array([[1.0, 1.0]], np.float32)})
    assert y.tolist() == [[1.75, 1.0, -1.0]]
    assert not model_type.runs_on(AcceleratorSpec("npu", "QNNExecutionProvider"))
    with pytest.raises(ModelLoadError, match="does not exist"):
        model_type.create_handle("input_model", NpzLinearConfig(model_path="gone.npz"), base_dir=tmp_path)
    np.savez(tmp_path / "pickled.npz", weight=np.array([object()], dtype=object), bias=np.zeros(1))
    with pytest.raises(ModelLoadError, match="is not an npz_linear model"):
        model_type.check(handle.model_copy(update={"path": str(tmp_path / "pickled.npz")}))


# -- data components -------------------------------------------------------------------------------


ROWS = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [6.0, 60.0]])


class TestNpyRowsContract(DataComponentContract):
    component_name = "npy_rows"
    configs = [{"path": "rows.npy"}, {"path": "rows.npy", "field": "features"}]

    @pytest.fixture
    def context(self, tmp_path: Path) -> DataContext:
        np.save(tmp_path / "rows.npy", ROWS)
        return DataContext(base_dir=tmp_path, name="contract")


class TestStandardizeContract(DataComponentContract):
    component_name = "standardize"

    @pytest.fixture
    def value(self) -> list[dict[str, Any]]:
        return [{"x": row} for row in ROWS]


def test_npy_rows_and_standardize_in_a_run(tmp_path: Path) -> None:
    """ToyFit sets the bias to the mean of its data's inputs: 0 after standardizing. A changed
    .npy file (a source file) makes new data and a new ToyFit step; an unchanged one reuses both."""
    np.save(tmp_path / "rows.npy", ROWS)
    sections = {
        "data": {
            "rows": {
                "load": {"type": "npy_rows", "config": {"path": "rows.npy"}},
                "preprocess": [{"type": "standardize"}],
            }
        },
        "passes": {"fit": {"type": "ToyFit", "config": {"data": "rows"}}},
    }
    first = run_workflow(tmp_path, "data_plugin", **sections)
    bias = json.loads(Path(first.candidates[0].model.path).read_text())["bias"]
    assert first.ok and bias == pytest.approx([0.0, 0.0], abs=1e-6)
    again = run_workflow(tmp_path, "data_plugin", **sections)
    assert [record.status for record in again.steps.values()] == ["cached"]
    np.save(tmp_path / "rows.npy", ROWS * 2)
    changed = run_workflow(tmp_path, "data_plugin", **sections)
    assert [record.status for record in changed.steps.values()] == ["ran"]


def test_npy_rows_refuses_a_pickle(tmp_path: Path) -> None:
    from data_plugin import NpyRows, NpyRowsConfig

    np.save(tmp_path / "objects.npy", np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="is not a .npy array") as error:
        NpyRows()(None, NpyRowsConfig(path="objects.npy"), DataContext(base_dir=tmp_path, name="rows"))
    assert error.value.hint == "check data.rows.load.config.path"


# -- an accelerator and its provider ---------------------------------------------------------------


@pytest.fixture
def acme_runtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A stand-in for the vendor's runtime package, importable here and in subprocesses."""
    site = tmp_path / "vendor-site"
    (site / "acme_fpga_runtime").mkdir(parents=True)
    library = site / "libacme_fpga.so"
    library.write_bytes(b"\x7fELF")
    (site / "acme_fpga_runtime" / "__init__.py").write_text(
        f'__version__ = "3.1"\n\ndef library_path():\n    return {str(library)!r}\n'
    )
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ["PYTHONPATH"]]))
    yield library
    sys.modules.pop("acme_fpga_runtime", None)  # a later test may need it missing


class TestAcmeFpgaProviderContract(ExecutionProviderContract):
    provider_name = "AcmeFpgaExecutionProvider"
    device = "fpga"

    @pytest.fixture(autouse=True)
    def _runtime(self, acme_runtime: Path) -> None:
        """With the runtime installed, the suite's check of an available provider runs too."""


def test_a_run_on_the_fpga(tmp_path: Path, acme_runtime: Path) -> None:
    result = run_workflow(
        tmp_path,
        "accelerator_plugin",
        accelerators=[{"device": "fpga", "provider_options": {"precision": "fp16"}}],
        passes={"scale": {"type": "ToyScale", "config": {"factor": 2.0}}},
    )
    assert result.ok
    (recorded,) = json.loads((tmp_path / "out" / "run.json").read_text())["accelerators"]
    assert recorded["provider"] == "AcmeFpgaExecutionProvider" and recorded["provider_options"] == {"precision": "fp16"}
    assert recorded["provider_version"] == "acme-fpga-3.1"


def test_without_the_runtime_the_device_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="device 'fpga' is not available on this machine"):
        run_workflow(tmp_path, "accelerator_plugin", accelerators=[{"device": "fpga"}])
    assert not (tmp_path / "out").exists()


# -- a cache backend -------------------------------------------------------------------------------


class TestBudgetCacheContract(CacheBackendContract):
    @pytest.fixture
    def backend(self, olive_plugin_manager: OlivePluginManager, tmp_path: Path) -> Iterator[Any]:
        cls = olive_plugin_manager.registry.load("cache_backend", "budget")
        cache = cls(cls.Config(dir=str(tmp_path / "budget-cache")))
        yield cache
        cache.close()


def test_budget_cache_in_a_run(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    sections = {
        "passes": {"scale": {"type": "ToyScale", "config": [{"factor": 2.0}, {"factor": 0.5}]}},
        "engine": {"output_dir": "out", "cache": {"type": "budget", "config": {"dir": "cache", "max_gb": 1e-9}}},
    }
    with caplog.at_level(logging.WARNING, logger="olive_core.cache"):
        first = run_workflow(tmp_path, "cache_plugin", **sections)
    assert first.ok and (tmp_path / "cache" / "records.sqlite").is_file()
    assert any("over its budget of 1e-09 GB" in record.getMessage() for record in caplog.records)
    again = run_workflow(tmp_path, "cache_plugin", **sections)
    assert {record.status for record in again.steps.values()} == {"cached"}
