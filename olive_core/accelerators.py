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
    #: the execution providers installed here, when the plugin can tell (asked only when needed)
    installed_providers: Callable[[], list[str]] | None = field(default=None, compare=False)

    def default_provider(self) -> str | None:
        """The provider a workflow gets when it names the device only: the first installed default."""
        if not self.default_execution_providers:
            return None
        if self.installed_providers is not None:
            installed = set(self.installed_providers())
            return next((p for p in self.default_execution_providers if p in installed), self.default_execution_providers[0])
        return self.default_execution_providers[0]


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
