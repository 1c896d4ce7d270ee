"""Execution providers shipped as libraries (ONNX Runtime plugin EPs), registered once per process.

A vendor package (onnxruntime-qnn) ships its provider as a shared library that ONNX Runtime loads
with ``register_execution_provider_library``; its devices then appear in ``get_ep_devices()``
and a session asks for them with ``SessionOptions.add_provider_for_devices``. Registering the
same library twice is an error, and registration is process-wide, so it happens here, once,
under a lock.
"""

from __future__ import annotations

import threading
from typing import Any

from olive_core.errors import ModelLoadError

_LOCK = threading.Lock()
#: provider name -> library path registered under that name in this process
_REGISTERED: dict[str, str] = {}


def plugin_ep_devices(provider: str, library: str) -> list[Any]:
    """The ONNX Runtime EP devices of ``provider``, its library registered first if needed."""
    import onnxruntime

    with _LOCK:
        if provider not in _REGISTERED:
            try:
                onnxruntime.register_execution_provider_library(provider, library)
            except Exception as exc:
                if provider not in {device.ep_name for device in onnxruntime.get_ep_devices()}:
                    raise ModelLoadError(
                        f"ONNX Runtime cannot load the {provider} library '{library}': {exc}",
                        hint="reinstall the package that ships this execution provider",
                    ) from exc
            _REGISTERED[provider] = library
    devices = [device for device in onnxruntime.get_ep_devices() if device.ep_name == provider]
    if not devices:
        names = sorted({device.ep_name for device in onnxruntime.get_ep_devices()})
        raise ModelLoadError(
            f"the {provider} library '{library}' offers no device named {provider}; ONNX Runtime sees: {', '.join(names)}",
            hint="check that the provider's registration names the EP the library reports",
        )
    return devices
