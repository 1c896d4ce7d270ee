"""The devices ONNX Runtime targets besides the CPU, its built-in providers, and the provider a session uses.

Devices (``gpu``, ``npu``) and providers are registered apart, so that a vendor plugin adds its
provider to ``npu`` (olive-qnn registers QNN from its EP library). A built-in provider is
available when the installed onnxruntime has it compiled in (asked only when a workflow targets
it). :func:`resolve_execution_provider` names the provider a session uses, and fails, listing
what is installed, rather than letting a model silently run on the CPU instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from olive_core.accelerators import Accelerator, ExecutionProvider
from olive_core.errors import ConfigError

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec


def available_providers() -> list[str]:
    """Execution providers compiled into the installed onnxruntime."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def _compiled_in(name: str) -> Callable[[], bool]:
    def is_available() -> bool:
        try:
            return name in available_providers()
        except ImportError:
            return False

    return is_available


GPU = Accelerator(name="gpu", description="a GPU through ONNX Runtime (CUDA, TensorRT, ROCm, MIGraphX or DirectML)")
NPU = Accelerator(name="npu", description="an NPU through an ONNX Runtime execution provider (a vendor plugin adds its own)")


def _built_in(name: str, device: str, description: str, priority: int, install: str) -> ExecutionProvider:
    return ExecutionProvider(
        name=name,
        device=device,
        description=description,
        is_available=_compiled_in(name),
        priority=priority,
        install_hint=f"install {install}",
    )


#: ONNX Runtime's providers compiled into some of its builds, by the device they run on
BUILT_IN_PROVIDERS = (
    _built_in("CUDAExecutionProvider", "gpu", "NVIDIA GPUs through CUDA", 50, "onnxruntime-gpu in place of onnxruntime"),
    _built_in("TensorrtExecutionProvider", "gpu", "NVIDIA GPUs through TensorRT", 40, "onnxruntime-gpu with TensorRT"),
    _built_in("ROCMExecutionProvider", "gpu", "AMD GPUs through ROCm", 30, "an onnxruntime build with ROCm"),
    _built_in("MIGraphXExecutionProvider", "gpu", "AMD GPUs through MIGraphX", 20, "onnxruntime-migraphx"),
    _built_in("DmlExecutionProvider", "gpu", "GPUs through DirectML (Windows)", 10, "onnxruntime-directml"),
    _built_in("OpenVINOExecutionProvider", "npu", "Intel NPUs through OpenVINO", 20, "onnxruntime-openvino"),
    _built_in("VitisAIExecutionProvider", "npu", "AMD Ryzen AI NPUs through Vitis AI", 10, "the Ryzen AI build of onnxruntime"),
)


def resolve_execution_provider(accelerator: AcceleratorSpec) -> str:
    """The provider a session must use: the accelerator's, checked to be usable; never a CPU fallback."""
    provider = accelerator.execution_provider or ("CPUExecutionProvider" if accelerator.device == "cpu" else None)
    if provider is None:
        raise ConfigError(
            f"accelerator '{accelerator}' names no execution provider",
            path="accelerators",
            hint="validation picks one; set accelerators[].provider when building an AcceleratorSpec by hand",
        )
    if accelerator.library is not None or provider in available_providers():
        return provider  # a plugin EP is registered from its library when the session opens
    import onnxruntime

    from olive_core.known_plugins import plugin_providing

    built_in = next((p for p in BUILT_IN_PROVIDERS if p.name == provider), None)
    plugin = plugin_providing("execution_provider", provider)
    install = built_in.install_hint if built_in else f"pip install {plugin}" if plugin else "install the package that provides it"
    raise ConfigError(
        f"accelerator '{accelerator}' needs {provider}, which the installed onnxruntime "
        f"{onnxruntime.__version__} does not have; available providers: {', '.join(available_providers())}",
        path="accelerators",
        hint=f"{install}, or target one of the available providers",
    )
