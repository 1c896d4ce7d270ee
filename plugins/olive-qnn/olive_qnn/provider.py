"""The QNN execution provider, added to olive-onnx's `npu` device from the onnxruntime-qnn library.

onnxruntime-qnn ships QNN as an ONNX Runtime plugin EP: a shared library registered with
``register_execution_provider_library``, whose HTP (Hexagon tensor processor) backend runs on a
Snapdragon's NPU, and on x86-64 as a simulator. Sessions run with CPU fallback disabled, so a
model that is not entirely on the NPU fails instead of silently running on the CPU; figures
measured on the simulator are recorded as simulated, never as the device's speed.
"""

from __future__ import annotations

import importlib.util
import platform

from olive_core.accelerators import ExecutionProvider

PROVIDER = "QNNExecutionProvider"


def installed() -> bool:
    """Whether onnxruntime-qnn is installed (without importing it)."""
    return importlib.util.find_spec("onnxruntime_qnn") is not None


def library_path() -> str:
    import onnxruntime_qnn

    return str(onnxruntime_qnn.get_library_path())


def sdk_version() -> str:
    """The QNN SDK and EP package versions: a context binary depends on both."""
    import onnxruntime_qnn

    qnn = getattr(getattr(onnxruntime_qnn, "build_and_package_info", None), "qnn_version", "unknown")
    return f"qnn{qnn}-ep{onnxruntime_qnn.__version__}"


def simulated() -> bool:
    """The HTP backend runs as a simulator on x86-64 hosts (a Snapdragon is arm64)."""
    return platform.machine().lower() in ("x86_64", "amd64", "x64")


QNN = ExecutionProvider(
    name=PROVIDER,
    device="npu",
    description="Qualcomm NPUs (Hexagon HTP) through onnxruntime-qnn; a simulator on x86-64",
    provider_options={"backend_type": "htp"},
    session_config={"session.disable_cpu_ep_fallback": "1"},
    is_available=installed,
    library=library_path,
    simulated=simulated,
    version=sdk_version,
    priority=30,
    install_hint="pip install olive-qnn (it brings onnxruntime-qnn)",
)
