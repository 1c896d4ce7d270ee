"""The devices ONNX Runtime can target besides the CPU, and the execution provider a session uses.

``is_available`` asks the installed onnxruntime (imported only when called) whether any of the
device's providers is compiled in. :func:`resolve_execution_provider` picks the provider the run
names, or else the first of the device's providers that is installed, and otherwise fails with
the list of installed providers: a model never silently runs on the CPU instead.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from olive_core.accelerators import CPU, Accelerator
from olive_core.errors import ConfigError

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec

GPU_PROVIDERS = (
    "CUDAExecutionProvider",
    "TensorrtExecutionProvider",
    "ROCMExecutionProvider",
    "MIGraphXExecutionProvider",
    "DmlExecutionProvider",
)
NPU_PROVIDERS = (
    "QNNExecutionProvider",
    "VitisAIExecutionProvider",
    "OpenVINOExecutionProvider",
)

#: device name -> execution providers that run on it, in order of preference
DEVICE_PROVIDERS: dict[str, tuple[str, ...]] = {
    "cpu": CPU.default_execution_providers,
    "gpu": GPU_PROVIDERS,
    "npu": NPU_PROVIDERS,
}


def available_providers() -> list[str]:
    """Execution providers compiled into the installed onnxruntime."""
    import onnxruntime

    return list(onnxruntime.get_available_providers())


def _any_available(providers: tuple[str, ...]) -> Callable[[], bool]:
    def is_available() -> bool:
        try:
            installed = set(available_providers())
        except ImportError:
            return False
        return any(provider in installed for provider in providers)

    return is_available


GPU = Accelerator(
    name="gpu",
    description="a GPU through ONNX Runtime (CUDA, TensorRT, ROCm, MIGraphX or DirectML)",
    default_execution_providers=GPU_PROVIDERS,
    is_available=_any_available(GPU_PROVIDERS),
    installed_providers=available_providers,
)

NPU = Accelerator(
    name="npu",
    description="an NPU through ONNX Runtime (Qualcomm QNN, AMD Vitis AI or Intel OpenVINO)",
    default_execution_providers=NPU_PROVIDERS,
    is_available=_any_available(NPU_PROVIDERS),
    installed_providers=available_providers,
)


#: where an execution provider comes from, for the error that says it is missing
PROVIDER_PACKAGES = {
    "CUDAExecutionProvider": "onnxruntime-gpu",
    "TensorrtExecutionProvider": "onnxruntime-gpu (with TensorRT installed)",
    "DmlExecutionProvider": "onnxruntime-directml",
    "ROCMExecutionProvider": "an onnxruntime build with ROCm",
    "MIGraphXExecutionProvider": "onnxruntime-migraphx",
    "QNNExecutionProvider": "onnxruntime-qnn",
    "OpenVINOExecutionProvider": "onnxruntime-openvino",
    "VitisAIExecutionProvider": "the Ryzen AI build of onnxruntime",
}


def resolve_execution_provider(accelerator: AcceleratorSpec) -> str:
    """The provider the session must use; an error (never a CPU fallback) when it is missing."""
    available = available_providers()
    if accelerator.execution_provider:
        wanted: tuple[str, ...] = (accelerator.execution_provider,)
    else:
        wanted = DEVICE_PROVIDERS.get(accelerator.device, ())
    for provider in wanted:
        if provider in available:
            return provider
    import onnxruntime

    named = " or ".join(wanted) if wanted else f"any provider for device '{accelerator.device}'"
    package = PROVIDER_PACKAGES.get(wanted[0]) if len(wanted) == 1 else None
    install = (
        f"install {package} in place of onnxruntime, or "
        if package
        else "install an onnxruntime build that has it, or "
    )
    raise ConfigError(
        f"accelerator '{accelerator}' needs {named}, which the installed onnxruntime "
        f"{onnxruntime.__version__} does not have; available providers: {', '.join(available)}",
        path="accelerators",
        hint=f"{install}target one of the available providers",
    )
