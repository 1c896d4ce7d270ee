"""The CPU a run measured on, as run.json records it: speed figures depend on its SIMD flags
(INT8 gains come with VNNI or AMX), so a figure is only comparable with its flags beside it."""

from __future__ import annotations

import os
import platform
from functools import lru_cache
from pathlib import Path
from typing import Any

CPUINFO = Path("/proc/cpuinfo")

#: flags that decide how fast inference kernels run: x86 SIMD (avx512_vnni, avx_vnni among them)
#: and AMX; Arm SIMD (asimddp: dot product), SVE, SME, int8 matrix multiply and bf16
SPEED_FLAG_PREFIXES = ("avx", "amx", "fma", "f16c", "sse4", "ssse3", "asimd", "sve", "sme", "i8mm", "bf16")


@lru_cache(maxsize=1)
def describe_cpu() -> dict[str, Any]:
    """The CPU's model, logical cores and speed-relevant flags (``flags`` is None where the
    platform has no /proc/cpuinfo: nothing is run or imported to find them)."""
    model, flags = _read_cpuinfo(CPUINFO)
    return {
        "model": model or platform.processor() or platform.machine(),
        "architecture": platform.machine(),
        "logical_cores": os.cpu_count(),
        "flags": flags,
    }


def _read_cpuinfo(path: Path) -> tuple[str | None, list[str] | None]:
    """(model name, sorted speed flags) from the first processor listed in a cpuinfo file."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None, None
    model: str | None = None
    flags: list[str] | None = None
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and model is None:
            model = value.strip()
        elif key in ("flags", "features") and flags is None:  # x86 says flags, Arm says Features
            flags = sorted({f for f in value.split() if f.startswith(SPEED_FLAG_PREFIXES)})
        if model is not None and flags is not None:
            break
    return model, flags
