"""The child process of the ``memory`` metric: ``python -m olive_core.evaluation.memory_probe REQUEST``.

It rebuilds the plugin manager, loads the model type by name, creates a session, runs the
batches, and writes its peak resident memory (or the error, as a message) to the result file
the request names. Only the session's creation and the inference run after the baseline.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

MB = 1024 * 1024


def read_status_kb(field: str) -> int | None:
    """A ``VmRSS``/``VmHWM`` line of /proc/self/status in bytes (Linux), else None."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _max_rss_bytes() -> int:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def current_rss() -> int:
    """Resident bytes now (Linux), or the peak so far where the OS tells only that."""
    return read_status_kb("VmRSS") or _max_rss_bytes()


def reset_peak() -> None:
    """Make the peak start from now (Linux 4.0+); elsewhere the peak includes start-up."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def peak_rss() -> int:
    # VmHWM belongs to this process's own address space, unlike ru_maxrss, which on Linux also
    # counts the parent's memory inherited through fork/exec.
    return read_status_kb("VmHWM") or _max_rss_bytes()


def probe(request: dict[str, Any]) -> dict[str, float]:
    from olive_core.accelerators import AcceleratorSpec
    from olive_core.evaluation.pipeline import decode_batches
    from olive_core.evaluation.runner import fit_inputs, run_batch
    from olive_core.models.handler import ModelHandler
    from olive_core.plugins import create_plugin_manager

    plugins = [request["plugin"]] if request.get("plugin") else []
    model_type = create_plugin_manager(extra_plugins=plugins).registry.load("model_type", request["model_type"])()
    handle = ModelHandler.model_validate(request["handle"])
    batches, _ = decode_batches(request["batches"])
    accelerator = AcceleratorSpec.from_json(request["accelerator"])
    baseline = current_rss()
    reset_peak()
    session = model_type.create_session(handle, accelerator, request["settings"])
    for index, batch in enumerate(batches):
        run_batch(session, fit_inputs(batch, session, handle, "memory"), handle, "memory", index)
    peak = max(peak_rss(), current_rss())
    return {"peak_mb": peak / MB, "increase_mb": max(0, peak - baseline) / MB}


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m olive_core.evaluation.memory_probe REQUEST.json", file=sys.stderr)
        return 2
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    # The parent's import path, so plugins it loaded by module path (OLIVE_PLUGINS) resolve here.
    sys.path[:0] = [entry for entry in request.get("sys_path", []) if entry not in sys.path]
    from olive_core.errors import OliveError

    try:
        result: dict[str, Any] = probe(request)
    except OliveError as exc:
        result = {"error": exc.message, "hint": exc.hint, "type": type(exc).__name__}
    Path(request["result"]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
