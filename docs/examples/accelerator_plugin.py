"""An accelerator plugin: a device kind, `fpga`, and the execution provider that runs models on it."""

from __future__ import annotations

import importlib.util

from olive_core import hookimpl
from olive_core.accelerators import Accelerator, ExecutionProvider
from olive_core.registry import Registrar

olive_plugin_api = "1.0"


def runtime_installed() -> bool:
    """Whether the vendor's runtime is installed, without importing it: probed on every run naming the device."""
    return importlib.util.find_spec("acme_fpga_runtime") is not None


def library_path() -> str:
    """The provider's library, which ONNX Runtime registers before it opens a session on the provider."""
    import acme_fpga_runtime  # imported only when a run targets the provider

    return str(acme_fpga_runtime.library_path())


def sdk_version() -> str:
    import acme_fpga_runtime

    return f"acme-fpga-{acme_fpga_runtime.__version__}"


FPGA = Accelerator(name="fpga", description="Acme FPGA cards", is_available=runtime_installed)

ACME_FPGA = ExecutionProvider(
    name="AcmeFpgaExecutionProvider",  # what accelerators[].provider names
    device="fpga",  # a device registered by this plugin or any other
    description="Acme FPGA cards through the acme-fpga-runtime library",
    provider_options={"precision": "int8"},  # defaults (strings); a workflow's provider_options override them
    session_config={"session.disable_cpu_ep_fallback": "1"},  # every session gets these entries
    is_available=runtime_installed,
    library=library_path,  # None for a provider built into onnxruntime
    version=sdk_version,  # enters cache keys: what the provider compiles depends on it
    priority=10,  # among the device's available providers, the highest is chosen when a workflow names none
    install_hint="pip install acme-fpga-runtime",
)


@hookimpl
def register_accelerators(register: Registrar) -> None:
    register("fpga", FPGA)


@hookimpl
def register_execution_providers(register: Registrar) -> None:
    register("AcmeFpgaExecutionProvider", ACME_FPGA)
