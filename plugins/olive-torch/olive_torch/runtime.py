"""The torch runtime: runs `hf` and `pytorch` models for evaluation, numpy in and numpy out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from olive_core.accelerators import AcceleratorSpec
from olive_core.errors import DataError, ModelLoadError
from olive_core.models.handler import ModelHandler

from olive_torch.io import resolve_io_config

if TYPE_CHECKING:
    import numpy as np
    import torch

logger = logging.getLogger(__name__)

#: settings this runtime understands; others (ONNX Runtime session options) are not for it
KNOWN_SETTINGS = ("intra_op_num_threads", "inter_op_num_threads")


def torch_device(accelerator: AcceleratorSpec) -> str:
    """``cpu``, or ``cuda`` for the ``gpu`` device when this torch build can use one."""
    import torch

    if accelerator.device == "cpu":
        return "cpu"
    if accelerator.device == "gpu":
        if torch.cuda.is_available():
            return "cuda"
        raise ModelLoadError(
            f"the torch runtime cannot run on 'gpu': torch {torch.__version__} sees no CUDA device",
            hint="install a CUDA build of torch on a machine with a GPU, or evaluate on device 'cpu'",
        )
    raise ModelLoadError(
        f"the torch runtime runs on 'cpu' or 'gpu', not on '{accelerator.device}'",
        hint="convert the model to ONNX to run it on this accelerator's execution provider",
    )


def torch_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings this runtime applies, out of a run's runtime settings (which every runtime shares)."""
    return {key: settings[key] for key in KNOWN_SETTINGS if settings.get(key)}


def apply_thread_settings(settings: dict[str, Any]) -> None:
    """torch's thread pools are per process: set them before each run so sessions do not mix."""
    import torch

    intra = settings.get("intra_op_num_threads")
    if intra and torch.get_num_threads() != int(intra):
        torch.set_num_threads(int(intra))
    inter = settings.get("inter_op_num_threads")
    if inter and torch.get_num_interop_threads() != int(inter):
        try:
            torch.set_num_interop_threads(int(inter))
        except RuntimeError:  # torch allows it only before the first parallel work in a process
            logger.warning(
                "inter_op_num_threads=%s not applied: torch already uses %d inter-op threads in this process",
                inter,
                torch.get_num_interop_threads(),
            )


class TorchSession:
    """A loaded model on one device; ``run`` takes numpy arrays by input name."""

    def __init__(self, module: torch.nn.Module, input_names: list[str], output_names: list[str], device: str, settings: dict[str, Any]) -> None:
        self.module = module.to(device)
        self.input_names = input_names
        self.output_names = output_names
        self.device = device
        self.settings = torch_settings(settings)

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        import torch

        missing = [name for name in self.input_names if name not in inputs]
        if missing:
            raise DataError(
                f"the batch has no {', '.join(map(repr, missing))}; the model takes {', '.join(self.input_names)}",
                hint="make the data's preprocess steps produce every model input",
            )
        apply_thread_settings(self.settings)
        tensors = [torch.as_tensor(inputs[name]).to(self.device) for name in self.input_names]
        with torch.inference_mode():
            outputs = self.module(*tensors)
        return [_to_numpy(output) for output in outputs]


def _to_numpy(tensor: torch.Tensor) -> np.ndarray:
    import torch

    tensor = tensor.detach().cpu()
    # numpy has no bfloat16: widen it rather than fail
    return (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()


def create_torch_session(handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]) -> TorchSession:
    """Load the handle's model for inference on ``accelerator`` with the runtime ``settings``."""
    from olive_torch.loading import load_torch_model
    from olive_torch.wrapping import wrap_for_io

    device = torch_device(accelerator)
    apply_thread_settings(settings)
    io_config = resolve_io_config(handle)
    module = wrap_for_io(load_torch_model(handle), handle, io_config)
    return TorchSession(module, list(io_config.input_names), list(io_config.output_names), device, settings)
