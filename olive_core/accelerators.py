"""Devices, the execution providers that run models on them, and the accelerator a run targets.

Devices and providers are separate registrations, so that any plugin can add a provider to a
device another plugin (or core) registered: core registers the ``cpu`` device and its
``CPUExecutionProvider``; olive-onnx registers ``gpu`` and ``npu`` with ONNX Runtime's built-in
providers; a vendor plugin (olive-qnn) adds its provider to ``npu``, with the provider options
and session settings it needs and, for a provider shipped as a separate library (an ONNX
Runtime plugin EP), the library to register first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Accelerator:
    """A device kind a workflow can target (``cpu``, ``gpu``, ``npu``); providers run on it."""

    name: str
    description: str
    #: cheap check (no heavy import) whether the device kind can be used here at all
    is_available: Callable[[], bool] = field(default=lambda: True, compare=False)


@dataclass(frozen=True)
class ExecutionProvider:
    """How models run on a device: what ONNX Runtime calls it, the defaults it needs, whether it is here.

    ``library`` returns the path of an execution-provider library that ONNX Runtime must register
    before it can use the provider (a plugin EP, such as onnxruntime-qnn); ``simulated`` says
    whether the device is simulated on this machine, so that measurements are reported as such
    and never as the device's speed.
    """

    name: str
    device: str
    description: str = ""
    #: provider options every session gets (a workflow's ``provider_options`` override them)
    provider_options: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: session config entries every session gets (e.g. ``session.disable_cpu_ep_fallback``)
    session_config: Mapping[str, str] = field(default_factory=dict, compare=False)
    #: cheap check whether the provider can be used here (its package installed, compiled in)
    is_available: Callable[[], bool] = field(default=lambda: True, compare=False)
    #: the path of the EP library to register with ONNX Runtime first; None for built-in providers
    library: Callable[[], str] | None = field(default=None, compare=False)
    #: whether the device is simulated here (measured figures are not the device's)
    simulated: Callable[[], bool] = field(default=lambda: False, compare=False)
    #: the provider's version (its SDK's), which enters cache keys: what it compiles depends on it
    version: Callable[[], str] | None = field(default=None, compare=False)
    #: among a device's providers, higher is chosen first when a workflow names the device only
    priority: int = 0
    #: where to get it, for the error that says it is missing
    install_hint: str = ""


@dataclass(frozen=True)
class AcceleratorSpec:
    """The accelerator one run targets: a device, one execution provider, and what the provider
    needs (resolved from its registration and the workflow at validation, so workers need nothing else)."""

    device: str = "cpu"
    execution_provider: str | None = None
    provider_options: tuple[tuple[str, str], ...] = ()
    session_config: tuple[tuple[str, str], ...] = ()
    #: the provider's version when it registers one (its SDK's): part of the cache key
    version: str | None = None
    #: the EP library ONNX Runtime must register first (a plugin EP), as a path
    library: str | None = field(default=None, compare=False)
    simulated: bool = field(default=False, compare=False)

    def __str__(self) -> str:
        return f"{self.device}-{self.execution_provider}" if self.execution_provider else self.device

    def key(self) -> str:
        """The stable text that enters cache keys: provider options and the provider's version
        change what a provider makes."""
        key = str(self) if self.version is None else f"{self}-{self.version}"
        if not self.provider_options:
            return key
        digest = hashlib.sha256(json.dumps(sorted(self.provider_options)).encode()).hexdigest()[:12]
        return f"{key}-{digest}"

    def options(self) -> dict[str, str]:
        return dict(self.provider_options)

    def to_json(self) -> dict[str, object]:
        """Everything a child process needs to open a session on this accelerator."""
        return {
            "device": self.device,
            "execution_provider": self.execution_provider,
            "provider_options": [list(item) for item in self.provider_options],
            "session_config": [list(item) for item in self.session_config],
            "version": self.version,
            "library": self.library,
            "simulated": self.simulated,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AcceleratorSpec:
        def pairs(key: str) -> tuple[tuple[str, str], ...]:
            return tuple((str(k), str(v)) for k, v in data.get(key) or ())  # type: ignore[attr-defined]

        return cls(
            device=str(data.get("device", "cpu")),
            execution_provider=data.get("execution_provider"),  # type: ignore[arg-type]
            provider_options=pairs("provider_options"),
            session_config=pairs("session_config"),
            version=data.get("version"),  # type: ignore[arg-type]
            library=data.get("library"),  # type: ignore[arg-type]
            simulated=bool(data.get("simulated", False)),
        )

    def config_entries(self) -> dict[str, str]:
        return dict(self.session_config)


CPU = Accelerator(name="cpu", description="the host CPU")
#: where a model is measured when its runtime cannot use the run's accelerator
CPU_SPEC = AcceleratorSpec("cpu", "CPUExecutionProvider")

CPU_PROVIDER = ExecutionProvider(
    name="CPUExecutionProvider", device="cpu", description="ONNX Runtime's CPU kernels", priority=0
)
