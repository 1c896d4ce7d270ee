"""Accelerators: a target device, and the execution provider that runs models on it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Accelerator:
    """A device kind a plugin knows how to target (``cpu``, ``gpu``, a vendor's ``npu``)."""

    name: str
    description: str
    #: execution providers to try, in order, when a workflow names the device but no provider
    default_execution_providers: tuple[str, ...] = ()
    #: cheap check (no heavy import) whether the device can be used here at all
    is_available: Callable[[], bool] = field(default=lambda: True, compare=False)


@dataclass(frozen=True)
class AcceleratorSpec:
    """The accelerator one run targets: device plus, for ONNX Runtime, one execution provider."""

    device: str = "cpu"
    execution_provider: str | None = None

    def __str__(self) -> str:
        return f"{self.device}-{self.execution_provider}" if self.execution_provider else self.device

    def key(self) -> str:
        """The stable text that enters cache keys."""
        return str(self)


CPU = Accelerator(
    name="cpu",
    description="the host CPU",
    default_execution_providers=("CPUExecutionProvider",),
)
