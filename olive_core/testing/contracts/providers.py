"""ExecutionProviderContract: what a vendor plugin's tests subclass for each provider it registers.

    class TestQnnProvider(ExecutionProviderContract):
        provider_name = "QNNExecutionProvider"
        device = "npu"
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, ClassVar

import pytest

from olive_core.accelerators import Accelerator, AcceleratorSpec, ExecutionProvider
from olive_core.config.validation import accelerator_spec
from olive_core.testing.contracts.checks import HEAVY_MODULES


class ExecutionProviderContract:
    """Subclass with ``provider_name`` and the ``device`` it runs on."""

    provider_name: ClassVar[str] = ""
    device: ClassVar[str] = ""

    @pytest.fixture
    def provider(self, olive_plugin_manager: Any) -> ExecutionProvider:
        return olive_plugin_manager.registry.load("execution_provider", self.provider_name)

    def test_is_a_provider_of_a_registered_device(self, provider: ExecutionProvider, olive_plugin_manager: Any) -> None:
        assert isinstance(provider, ExecutionProvider) and provider.name == self.provider_name
        assert provider.device == self.device
        device = olive_plugin_manager.registry.load("accelerator", provider.device)
        assert isinstance(device, Accelerator), f"no plugin registers the device '{provider.device}'"

    def test_defaults_are_strings(self, provider: ExecutionProvider) -> None:
        """ONNX Runtime takes provider options and session config entries as strings."""
        for mapping in (provider.provider_options, provider.session_config):
            assert all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())

    def test_availability_is_cheap_and_a_bool(self, provider: ExecutionProvider) -> None:
        """Probing availability (done for every run that names the device) imports no framework."""
        registration = type(provider).__module__
        code = (
            "import sys\nfrom olive_core.plugins import create_plugin_manager\n"
            f"provider = create_plugin_manager().registry.load('execution_provider', {self.provider_name!r})\n"
            "assert isinstance(provider.is_available(), bool)\n"
            f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
        )
        loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
        assert not loaded, f"probing {self.provider_name} ({registration}) loads {loaded}"

    def test_an_available_provider_resolves_to_an_accelerator(self, provider: ExecutionProvider) -> None:
        if not provider.is_available():
            pytest.skip(f"{self.provider_name} is not available on this machine")
        spec = accelerator_spec(provider)
        assert isinstance(spec, AcceleratorSpec) and spec.execution_provider == self.provider_name
        assert spec.options() == dict(provider.provider_options)
        assert isinstance(spec.simulated, bool)
        if provider.library is not None:
            assert spec.library is not None and Path(spec.library).is_file(), "library() must return the EP library's path"
