"""Tool overhead: start-up, a cold workflow, a fully cached rerun, and installed size.

- ``--help`` start-up of ``olive`` (ours, every plugin installed) and of olive-ai's ``olive``;
- wall time of the same cold workflow (MiniLM: conversion, ORT fusion, dynamic INT8
  per-channel; passes only, no evaluation, empty cache) in both tools; ours also with the dynamo
  exporter olive-ai has to use, so the exporters' cost is visible apart from the tools';
- wall time of a fully cached rerun of ours (same workflow, same cache), and of the demo
  workflow with its metrics (full setting only);
- installed size of core alone, core[search], core + olive-onnx, core[search] + olive-onnx and
  olive-ai[cpu]: the dependency closure of each, summed from the installed files (our own
  distributions from their built wheels, since they are installed editable here). The like-for-like
  pair is core[search] + olive-onnx against olive-ai[cpu]: both carry a search library, torch,
  transformers, ONNX and ONNX Runtime.

Every figure comes from fresh subprocesses, interleaved round by round.

    python bench/tool_overhead.py [--smoke] [--rounds 10]
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import harness
import incumbent
import minilm

#: our set that compares like with like to olive-ai[cpu]
LIKE_OLIVE_AI = "core[search] + olive-onnx"
OUR_DISTRIBUTIONS = {"olive-core": harness.REPO, "olive-torch": harness.REPO / "plugins" / "olive-torch",
                     "olive-onnx": harness.REPO / "plugins" / "olive-onnx"}  # fmt: skip


def ours_olive() -> list[str]:
    return [str(harness.this_venv_bin() / "olive")]


# -- start-up --------------------------------------------------------------------------------


def startup(rounds: int, report: harness.Report) -> dict[str, Any]:
    commands = {"ours": [*ours_olive(), "--help"]}
    if incumbent.available():
        commands["olive-ai"] = [*incumbent.olive_command(), "--help"]
    samples = _interleaved_commands(commands, rounds, lambda name, index: None)
    return {name: _seconds_summary(values) for name, values in samples.items()}


def _interleaved_commands(
    commands: dict[str, list[str]], rounds: int, prepare: Callable[[str, int], Path | None]
) -> dict[str, list[float]]:
    """Wall seconds of each command once per round, rotating the order; ``prepare`` gives a cwd."""
    names = list(commands)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for index in range(rounds):
        for name in names[index % len(names) :] + names[: index % len(names)]:
            cwd = prepare(name, index)
            samples[name].append(harness.time_command(commands[name], env=harness.env_offline(), cwd=cwd))
            print(f"  {name} round {index + 1}: {samples[name][-1]:.2f} s", flush=True)
    return samples


def _seconds_summary(values: list[float]) -> dict[str, Any]:
    ordered = sorted(values)
    middle = (
        ordered[len(ordered) // 2]
        if len(ordered) % 2
        else sum(ordered[len(ordered) // 2 - 1 : len(ordered) // 2 + 1]) / 2
    )
    return {"median": middle, "min": ordered[0], "max": ordered[-1], "runs": values}


# -- workflows -------------------------------------------------------------------------------


def our_workflow(folder: Path, exporter: str) -> Path:
    """The demo's pass chain, passes only, in a file (as a user would run it)."""
    config = minilm.default_recipe()
    config["passes"]["convert"]["config"]["exporter"] = exporter
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "workflow.json"
    path.write_text(json.dumps(config, indent=1))
    return path


def cold_and_cached(
    work: Path, rounds: int, cached_runs: int, exporters: tuple[str, ...], olive_ai: bool = True
) -> dict[str, Any]:
    """Cold runs (fresh cache and output each time) of both tools (olive-ai's when asked), then cached reruns."""
    root = work / "tool-overhead"
    shutil.rmtree(root, ignore_errors=True)
    commands: dict[str, list[str]] = {}
    folders: dict[str, Path] = {}
    for exporter in exporters:
        name = f"ours ({exporter} export)"
        path = our_workflow(root / f"ours-{exporter}", exporter)
        commands[name] = [*ours_olive(), "run", str(path), "-q", "-o", "output", "--cache-dir", "cache"]
        folders[name] = path.parent
    if olive_ai and incumbent.available():
        config = incumbent.write_recipe(root / "olive-ai", incumbent.model_path())
        commands["olive-ai (dynamo export)"] = incumbent.run_command(config)
        folders["olive-ai (dynamo export)"] = config.parent

    def fresh(name: str, index: int) -> Path:
        for scratch in ("output", "cache"):
            shutil.rmtree(folders[name] / scratch, ignore_errors=True)
        return folders[name]

    print("cold runs", flush=True)
    cold = _interleaved_commands(commands, rounds, fresh)
    figures: dict[str, Any] = {"cold": {name: _seconds_summary(values) for name, values in cold.items()}}

    # each rerun finds the cache and output its last cold run left; olive-ai's is shown for scale
    print("cached reruns", flush=True)
    cached = {
        name: command for name, command in commands.items() if "dynamo" not in name or name.startswith("olive-ai")
    }
    reruns = _interleaved_commands(cached, cached_runs, lambda name, index: folders[name])
    figures["cached_rerun"] = {name: _seconds_summary(values) for name, values in reruns.items()}
    return figures


def demo_cached_rerun(work: Path, runs: int) -> dict[str, Any]:
    """The demo workflow (five metrics) run once to fill its cache, then rerun: what `make demo` twice costs."""
    folder = work / "tool-overhead" / "demo"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    path = folder / "workflow.json"
    path.write_text(json.dumps(minilm.workflow("workflow.json"), indent=1))
    command = [*ours_olive(), "run", str(path), "-q", "-o", "output", "--cache-dir", "cache"]
    first = harness.time_command(command, env=harness.env_offline(), cwd=folder)
    print(f"  demo first run: {first:.1f} s", flush=True)
    reruns = [harness.time_command(command, env=harness.env_offline(), cwd=folder) for _ in range(runs)]
    return {"first_run_s": first, "rerun": _seconds_summary(reruns)}


# -- installed size --------------------------------------------------------------------------


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


@dataclass
class Built:
    """One of our distributions as its freshly built wheel says it (editable metadata can be stale)."""

    size: int
    requires: list[str]


def closure(
    roots: Iterable[str], path: list[str] | None = None, built: dict[str, Built] | None = None
) -> dict[str, int]:
    """Installed bytes of each root and of what it requires (extras as written in ``roots``), transitively."""
    from packaging.requirements import Requirement

    built = built or {}
    found: dict[str, int] = {}
    #: the extras whose requirements were followed, by distribution: one reached first without
    #: an extra (olive-onnx requires plain olive-core) is followed again for the extra asked later
    followed: dict[str, set[str]] = {}
    pending = [Requirement(root) for root in roots]
    while pending:
        requirement = pending.pop()
        name = _canonical(requirement.name)
        extras = {""} | set(requirement.extras)
        if name in followed and extras <= followed[name]:
            continue
        if name in built:
            size, requires = built[name].size, built[name].requires
        else:
            dist = _installed(requirement.name, path)
            if dist is None:
                continue
            size, requires = installed_bytes(dist), list(dist.requires or [])
        found[name] = size
        new_extras = extras - followed.get(name, set())
        followed.setdefault(name, set()).update(extras)
        for line in requires:
            nested = Requirement(line)
            if nested.marker is None or any(nested.marker.evaluate({"extra": extra}) for extra in new_extras):
                pending.append(nested)
    return found


def _installed(name: str, path: list[str] | None) -> metadata.Distribution | None:
    if path is not None:
        return next(iter(metadata.distributions(name=name, path=path)), None)
    try:
        return metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None


def installed_bytes(dist: metadata.Distribution) -> int:
    """Bytes of the files a distribution's RECORD lists."""
    total = 0
    for file in dist.files or []:
        located = Path(dist.locate_file(file))
        if located.is_file():
            total += located.stat().st_size
    return total


def editable(name: str) -> bool:
    """Installed with ``pip install -e``: its RECORD lists no package files and its metadata may be stale."""
    try:
        text = metadata.distribution(name).read_text("direct_url.json") or "{}"
    except metadata.PackageNotFoundError:
        return False
    return bool(json.loads(text).get("dir_info", {}).get("editable"))


def build_ours() -> dict[str, Built]:
    """Our editable distributions' wheels, built here without dependencies: uncompressed size and Requires-Dist.

    Distributions installed from wheels (as in the nox sessions) are measured like any other.
    """
    from email.parser import Parser

    built = {}
    with tempfile.TemporaryDirectory() as folder:
        for name, source in OUR_DISTRIBUTIONS.items():
            if not editable(name):
                continue
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "wheel",
                    "--quiet",
                    "--no-deps",
                    "-w",
                    folder,
                    str(source),
                ],
                check=True,
                capture_output=True,
            )
            wheel = next(Path(folder).glob(f"{name.replace('-', '_')}-*.whl"))
            with zipfile.ZipFile(wheel) as archive:
                meta = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
                requires = Parser().parsestr(archive.read(meta).decode()).get_all("Requires-Dist") or []
                built[name] = Built(sum(info.file_size for info in archive.infolist()), requires)
            wheel.unlink()
    return built


def sizes() -> dict[str, Any]:
    built = build_ours()
    sets = {
        "core alone": ["olive-core"],
        "core[search]": ["olive-core[search]"],
        "core + olive-onnx": ["olive-core", "olive-onnx"],
        # what olive-ai[cpu] holds: a search library (optuna there, nevergrad here), torch,
        # transformers, ONNX and ONNX Runtime; this is the row to hold against it
        LIKE_OLIVE_AI: ["olive-core[search]", "olive-onnx"],
    }
    figures = {label: _size_of(closure(roots, built=built)) for label, roots in sets.items()}
    if incumbent.available():
        figures["olive-ai[cpu]"] = _size_of(closure(["olive-ai[cpu]"], harness.site_packages(incumbent.OLIVE_AI_VENV)))
    return figures


def _size_of(each: dict[str, int]) -> dict[str, Any]:
    largest = sorted(each.items(), key=lambda item: -item[1])[:5]
    return {
        "mib": sum(each.values()) / 1024**2,
        "distributions": len(each),
        "largest_mib": {name: round(size / 1024**2, 1) for name, size in largest},
        "every_mib": {name: round(size / 1024**2, 2) for name, size in sorted(each.items())},
    }


# -- report ----------------------------------------------------------------------------------


def print_tables(figures: dict[str, Any]) -> str:
    timed = [(f"`olive --help`, {name}", stats) for name, stats in figures["startup"].items()]
    for kind in ("cold", "cached_rerun"):
        label = "cold workflow" if kind == "cold" else "fully cached rerun"
        timed += [(f"{label}, {name}", stats) for name, stats in figures["workflow"][kind].items()]
    if "demo" in figures:
        timed.append(("fully cached rerun, ours, demo workflow with metrics", figures["demo"]["rerun"]))
    rows = [[label, stats["median"], harness.range_text(stats), len(stats["runs"])] for label, stats in timed]
    text = harness.table(["what", "median s", "min-max s", "runs"], rows)
    size_rows = [[label, stats["mib"], stats["distributions"], ", ".join(f"{k} {v}" for k, v in stats["largest_mib"].items())]
                 for label, stats in figures["size"].items()]  # fmt: skip
    text += "\n\n" + harness.table(["installed", "MiB", "distributions", "largest (MiB)"], size_rows)
    ours, theirs = figures["size"].get(LIKE_OLIVE_AI), figures["size"].get("olive-ai[cpu]")
    if ours and theirs:
        text += (
            f"\n\nLike for like ({LIKE_OLIVE_AI} vs olive-ai[cpu], each with a search library, torch, transformers, "
            f"ONNX and ONNX Runtime): {ours['mib']:.0f} MiB vs {theirs['mib']:.0f} MiB ({ours['mib'] / theirs['mib']:.2f}x)"
        )
    print("\n" + text)
    return text


def main() -> int:
    def options(parser: Any) -> None:
        parser.add_argument("--rounds", type=int, default=None, help="--help rounds (default 10)")
        parser.add_argument("--cold-rounds", type=int, default=None, help="cold workflow rounds (default 3)")

    args = harness.arguments(__doc__.split("\n\n")[0], options)
    rounds = args.rounds or (1 if args.smoke else 10)
    cold_rounds = args.cold_rounds or (1 if args.smoke else 3)
    report = harness.Report(
        "tool_overhead",
        {"smoke": args.smoke, "startup_rounds": rounds, "cold_rounds": cold_rounds, "cached_reruns": rounds,
         "workflow": "MiniLM: OnnxConversion -> ORT transformer fusion -> dynamic INT8 per-channel, no evaluation"},
    )  # fmt: skip
    if not incumbent.available():
        report.note(f"olive-ai skipped: no {incumbent.OLIVE_AI_VENV} (make -C bench venv-olive-ai creates it)")
    print("--help start-up", flush=True)
    report.figures["startup"] = startup(rounds, report)
    # the smoke run skips our dynamo variant and olive-ai's cold run: the same code paths (olive-ai's
    # run is minilm_quality's), minutes more
    exporters = ("torchscript",) if args.smoke else ("torchscript", "dynamo")
    report.figures["workflow"] = cold_and_cached(args.work_dir, cold_rounds, rounds, exporters, olive_ai=not args.smoke)
    if not args.smoke:
        print("demo workflow, cached rerun", flush=True)
        report.figures["demo"] = demo_cached_rerun(args.work_dir, rounds)
    print("installed sizes", flush=True)
    report.figures["size"] = sizes()
    report.figures["table"] = print_tables(report.figures)
    extra = {"olive-ai venv": incumbent.installed_versions()} if incumbent.available() else None
    report.write(args.results_dir, extra)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
