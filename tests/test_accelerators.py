"""Devices and execution providers are registered apart: any plugin adds a provider to a device."""

from __future__ import annotations

from typing import Any

import pytest

from olive_core import hookimpl
from olive_core.accelerators import Accelerator, ExecutionProvider
from olive_core.engine.api import load_workflow
from olive_core.errors import ConfigError, ConfigErrors
from olive_core.testing import ExecutionProviderContract

NPU = Accelerator(name="npu", description="a test NPU")


class DevicePlugin:
    """Registers the device, as olive-onnx does for `npu`."""

    olive_plugin_api = "1.0"

    @hookimpl
    def register_accelerators(self, register: Any) -> None:
        register("npu", NPU)


def provider_plugin(*providers: ExecutionProvider) -> Any:
    """A vendor plugin adding its providers to a device it does not register."""

    class Vendor:
        olive_plugin_api = "1.0"

        @hookimpl
        def register_execution_providers(self, register: Any) -> None:
            for provider in providers:
                register(provider.name, provider)

    return Vendor()


FAST = ExecutionProvider(
    name="FastNpuEP",
    device="npu",
    provider_options={"backend_type": "htp", "profiling": "off"},
    session_config={"session.disable_cpu_ep_fallback": "1"},
    library=lambda: "/opt/fast/libfast.so",
    simulated=lambda: True,
    priority=10,
)
MISSING = ExecutionProvider(name="MissingNpuEP", device="npu", is_available=lambda: False, priority=20, install_hint="pip install olive-missing")
SLOW = ExecutionProvider(name="SlowNpuEP", device="npu", priority=1)


@pytest.fixture
def core_manager():
    """Core and the toy plugin only: what the installed plugins register must not matter here."""
    from olive_core.plugins import create_plugin_manager

    return create_plugin_manager(entry_points=False, extra_plugins=["olive_core.testing.toy"])


@pytest.fixture
def npu_manager(core_manager):
    core_manager.register(DevicePlugin(), name="devices")
    core_manager.register(provider_plugin(FAST, MISSING), name="vendor-a")
    core_manager.register(provider_plugin(SLOW), name="vendor-b")  # a second vendor, no clash
    return core_manager


def test_two_vendors_add_providers_to_one_device_and_the_preferred_available_one_is_chosen(write_workflow, npu_manager):
    resolved = load_workflow(write_workflow(accelerators=[{"device": "npu"}]), npu_manager).resolved
    [spec] = resolved.accelerators
    assert spec.execution_provider == "FastNpuEP"  # MissingNpuEP ranks higher but is not available here
    assert spec.options() == {"backend_type": "htp", "profiling": "off"}
    assert spec.config_entries() == {"session.disable_cpu_ep_fallback": "1"}
    assert spec.library == "/opt/fast/libfast.so" and spec.simulated


def test_a_workflow_names_the_provider_and_overrides_its_options(write_workflow, npu_manager):
    accelerators = [{"device": "npu", "provider": "SlowNpuEP"}, {"device": "npu", "provider": "FastNpuEP", "provider_options": {"profiling": "detailed"}}]
    slow, fast = load_workflow(write_workflow(accelerators=accelerators), npu_manager).resolved.accelerators
    assert slow.execution_provider == "SlowNpuEP" and slow.options() == {}
    assert fast.options() == {"backend_type": "htp", "profiling": "detailed"}
    default = load_workflow(write_workflow(accelerators=[{"device": "npu", "provider": "FastNpuEP"}]), npu_manager).resolved.accelerators[0]
    assert fast.key() != default.key()  # other options can make other models: another cache key


def test_unusable_provider_choices_name_the_field(write_workflow, npu_manager):
    cases = [
        ({"device": "npu", "provider": "MissingNpuEP"}, "accelerators.0.provider: execution provider 'MissingNpuEP' is not available", "pip install olive-missing"),
        ({"device": "cpu", "provider": "FastNpuEP"}, "accelerators.0.provider: 'FastNpuEP' runs on 'npu', not on 'cpu'", "CPUExecutionProvider"),
        ({"device": "npu", "provider": "FastNpuEp"}, "accelerators.0.provider: unknown execution provider 'FastNpuEp'; did you mean 'FastNpuEP'?", ""),
    ]
    for accelerator, message, hint in cases:
        with pytest.raises(ConfigError) as error:
            load_workflow(write_workflow(accelerators=[accelerator]), npu_manager)
        assert message in str(error.value) and hint in str(error.value)


def test_a_device_with_no_available_provider_is_refused(write_workflow, core_manager):
    core_manager.register(DevicePlugin(), name="devices")
    core_manager.register(provider_plugin(MISSING), name="vendor")
    with pytest.raises(ConfigError, match="no execution provider of 'npu' is available here"):
        load_workflow(write_workflow(accelerators=[{"device": "npu"}]), core_manager)


def test_a_provider_known_to_come_from_a_plugin_says_which(write_workflow, core_manager):
    with pytest.raises(ConfigError) as error:
        load_workflow(write_workflow(accelerators=[{"device": "cpu", "provider": "QNNExecutionProvider"}]), core_manager)
    assert "pip install olive-qnn" in str(error.value)


def test_a_pass_restricted_to_a_device_is_refused_at_validation_before_anything_runs(write_workflow, npu_manager, monkeypatch, tmp_path):
    from olive_core.testing.toy import ToyRound

    monkeypatch.setattr(ToyRound, "devices", ("npu",))
    with pytest.raises(ConfigError, match=r"passes.round.type: ToyRound runs on npu only, but the workflow targets 'cpu'"):
        load_workflow(write_workflow(), npu_manager)
    monkeypatch.setattr(ToyRound, "providers", ("SlowNpuEP",))
    with pytest.raises(ConfigErrors) as error:
        load_workflow(write_workflow(accelerators=[{"device": "npu"}, {"device": "cpu"}]), npu_manager)
    text = str(error.value)
    assert "ToyRound needs SlowNpuEP, but the workflow targets FastNpuEP" in text and "targets 'cpu'" in text
    assert not (tmp_path / "cache").exists()  # nothing ran


class TestCpuProviderContract(ExecutionProviderContract):
    """Core's own provider meets the suite every vendor plugin runs."""

    provider_name = "CPUExecutionProvider"
    device = "cpu"


def test_a_providers_version_enters_the_cache_key():
    from olive_core.config.validation import accelerator_spec

    old = accelerator_spec(ExecutionProvider(name="VersionedEP", device="npu", version=lambda: "2.51"))
    new = accelerator_spec(ExecutionProvider(name="VersionedEP", device="npu", version=lambda: "2.52"))
    assert old.version == "2.51" and old.key() != new.key()
    assert accelerator_spec(ExecutionProvider(name="PlainEP", device="npu")).key() == "npu-PlainEP"


def test_run_json_says_which_accelerator_ran_and_whether_it_was_simulated(write_workflow, npu_manager, tmp_path):
    import json

    from olive_core.engine.api import run

    result = run(write_workflow(accelerators=[{"device": "cpu"}]), manager=npu_manager)
    [recorded] = json.loads((result.output_dir / "run.json").read_text())["accelerators"]
    assert recorded == {
        "key": "cpu-CPUExecutionProvider",
        "device": "cpu",
        "provider": "CPUExecutionProvider",
        "provider_options": {},
        "provider_version": None,
        "simulated": False,
    }


def test_a_simulated_device_is_recorded_as_simulated(write_workflow, npu_manager):
    import json

    from olive_core.engine.api import run

    result = run(write_workflow(accelerators=[{"device": "npu"}]), manager=npu_manager)
    [recorded] = json.loads((result.output_dir / "run.json").read_text())["accelerators"]
    assert recorded["provider"] == "FastNpuEP" and recorded["simulated"] is True
    assert recorded["provider_options"] == {"backend_type": "htp", "profiling": "off"}


def test_an_input_model_that_cannot_run_on_the_device_is_measured_on_the_cpu_and_says_so(write_workflow, npu_manager, monkeypatch, caplog):
    """A PyTorch model in an NPU run: candidates are compared with it, measured where it runs."""
    import json

    from olive_core.engine.api import run
    from olive_core.testing.toy import ToyModelType

    monkeypatch.setattr(ToyModelType, "runs_on", lambda self, accelerator: accelerator.device == "cpu")
    metrics = [{"name": "size", "type": "size"}]
    result = run(write_workflow(accelerators=[{"device": "npu"}], metrics=metrics), manager=npu_manager)
    assert result.ok
    record = json.loads((result.output_dir / "run.json").read_text())
    assert record["input_model"]["metrics"]["accelerator"] == "cpu-CPUExecutionProvider"
    assert record["candidates"][0]["metrics"]["accelerator"].startswith("npu-FastNpuEP")
    assert "cannot run on npu-FastNpuEP: it is measured on the CPU" in caplog.text


def test_a_workflow_can_have_its_input_model_measured_on_the_cpu(write_workflow, npu_manager, caplog):
    """The float model an NPU recipe compares with runs where floats run, though its runtime could use the NPU."""
    import json

    from olive_core.engine.api import run

    metrics = [{"name": "size", "type": "size"}]
    engine = {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}, "input_model_on": "cpu"}
    workflow = write_workflow(accelerators=[{"device": "npu"}], metrics=metrics, engine=engine)
    result = run(workflow, manager=npu_manager)
    assert result.ok
    record = json.loads((result.output_dir / "run.json").read_text())
    assert record["input_model"]["metrics"]["accelerator"] == "cpu-CPUExecutionProvider"
    assert record["candidates"][0]["metrics"]["accelerator"].startswith("npu-FastNpuEP")
    assert "cannot run on" not in caplog.text  # chosen, not a fallback to warn about
