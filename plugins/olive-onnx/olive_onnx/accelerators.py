"""The devices ONNX Runtime can target besides the CPU, and which execution providers reach them.

``is_available`` asks the installed onnxruntime (imported only when called) whether any of the
device's providers is compiled in; which provider a run uses is the workflow's choice, or the
first of ``default_execution_providers``.
"""

from __future__ import annotations

from collections.abc import Callable

from olive_core.accelerators import CPU, Accelerator

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
)

NPU = Accelerator(
    name="npu",
    description="an NPU through ONNX Runtime (Qualcomm QNN, AMD Vitis AI or Intel OpenVINO)",
    default_execution_providers=NPU_PROVIDERS,
    is_available=_any_available(NPU_PROVIDERS),
)
