"""Search efficiency: trials each strategy needs to get within 2% of the exhaustive optimum.

Three problems. The synthetic ToyObjective (olive_core.testing.toy, optimum known, milliseconds
per trial) on a grid; ToyOrdered (two ordered knobs of 0..12, 169 points), where the trials to
the exact optimum compare nevergrad given the choices as ordered (the default) with the same
choices given as categorical (``nevergrad:NGOpt:categorical``); and the MiniLM search of examples/minilm/search.json (fusion on/off x
dynamic/static INT8 x per-channel x reduce-range x excluded nodes; latency under a cosine >= 0.99
goal). The exhaustive run measures every point once; every other strategy then runs through
the same engine and cache, and since evaluations are cached by model id, all strategies see the
same measurement of a given model: they differ in where they look, not in timing noise.

"Within 2%" is measured as the gap (best so far - optimum) / (worst - optimum), over the
feasible points of the exhaustive run: the toy's optimum is 0, so a gap relative to the optimum
itself would be undefined. For MiniLM the table also shows best-found latency / optimum. A trial
is a point run: nevergrad's repeats are told their score without running (they count against
its budget, not as trials), so every strategy is charged for distinct points only; nevergrad
runs with its default budget, which follows ``max_trials``.

Running some problems keeps the others' figures from the previous results file, each with the
run that measured it (``measured``).

    python bench/search_efficiency.py [--smoke] [--problems toy toy-ordered minilm] [--seeds 10]
"""

from __future__ import annotations

import copy
import json
import logging
import shutil
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import harness
from olive_core.search.nevergrad import PROPOSALS_PER_TRIAL

STRATEGIES = ("exhaustive", "random", "nevergrad:NGOpt", "nevergrad:TwoPointsDE", "nevergrad:DiscreteOnePlusOne")
#: the ordered problem: each nevergrad optimizer with ordered choices (default) and categorical ones
ORDERED_STRATEGIES = (
    "exhaustive",
    "random",
    "nevergrad:NGOpt",
    "nevergrad:NGOpt:categorical",
    "nevergrad:DiscreteOnePlusOne",
    "nevergrad:DiscreteOnePlusOne:categorical",
)
PROBLEMS = ("toy", "toy-ordered", "minilm", "minilm-0.995")
TOY_GRID = tuple(x / 2 for x in range(-8, 9))  # a in -4..4 by 0.5: 17 x 5 (b) x 2 (c) = 170 points
SMOKE_TOY_GRID = (-1.0, 1.5, 3.0)


@dataclass
class Problem:
    """A workflow to search and the metric key whose value (lower is better) ranks feasible points."""

    name: str
    workflow: dict[str, Any]
    objective: str
    budget: int
    checkpoints: list[int]
    manager: Any = None
    exhaustive: list[float | None] = field(default_factory=list)
    #: how close to the optimum counts as reaching it (None: the command line's --tolerance)
    tolerance: float | None = None
    #: the strategies this problem compares (None: the command line's --strategies)
    strategies: tuple[str, ...] | None = None

    @property
    def feasible(self) -> list[float]:
        return [v for v in self.exhaustive if v is not None]

    @property
    def optimum(self) -> float:
        return min(self.feasible)

    @property
    def worst(self) -> float:
        return max(self.feasible)

    def gap(self, value: float | None) -> float:
        """0 at the optimum, 1 at the worst feasible point; 1 also for nothing feasible yet."""
        if value is None:
            return 1.0
        span = self.worst - self.optimum
        return (value - self.optimum) / span if span > 0 else 0.0


def toy_problem(work: Path, smoke: bool) -> Problem:
    from olive_core.plugins import create_plugin_manager
    from olive_core.testing.toy import write_toy_model

    model = write_toy_model(work / "toy-input" / "weights.json", [[1.0, 0.5], [-0.5, 2.0]], [0.0, 0.1])
    workflow = {
        "input_model": {"type": "toy", "config": {"model_path": str(model)}},
        "metrics": [{"name": "objective", "type": "toy_objective", "sub_metrics": ["loss"]}],
        "passes": {"objective": {"type": "ToyObjective", "search": {"a": list(SMOKE_TOY_GRID if smoke else TOY_GRID)}}},
        "search": {"objectives": [{"metric": "objective-loss"}]},
    }
    budget = 10 if smoke else 60
    manager = create_plugin_manager(extra_plugins=["olive_core.testing.toy"])
    return Problem("toy", workflow, "objective-loss", budget, [5, 10] if smoke else [10, 20, 40, 60], manager)


def toy_ordered_problem(work: Path, smoke: bool) -> Problem:
    """ToyOrdered's 169 points; reaching the optimum means finding it exactly (tolerance 0)."""
    from olive_core.plugins import create_plugin_manager
    from olive_core.testing.toy import write_toy_model

    model = write_toy_model(work / "toy-input" / "weights.json", [[1.0, 0.5], [-0.5, 2.0]], [0.0, 0.1])
    workflow = {
        "input_model": {"type": "toy", "config": {"model_path": str(model)}},
        "metrics": [{"name": "ordered", "type": "toy_ordered"}],
        "passes": {"knobs": {"type": "ToyOrdered"}},
        "search": {"objectives": [{"metric": "ordered-loss"}]},
    }
    budget = 20 if smoke else 100
    manager = create_plugin_manager(extra_plugins=["olive_core.testing.toy"])
    checkpoints = [10, 20] if smoke else [10, 20, 40, 100]
    strategies = ORDERED_STRATEGIES[:4] if smoke else ORDERED_STRATEGIES
    return Problem("toy-ordered", workflow, "ordered-loss", budget, checkpoints, manager, tolerance=0.0, strategies=strategies)


def minilm_problem(smoke: bool, name: str = "minilm") -> Problem:
    """search.json under its own goal (cosine mean >= 0.99), or under the target's 0.995 ("minilm-0.995"):
    goals are checked afresh on cached evaluations, so the second bar measures nothing new."""
    import minilm

    budget = 3 if smoke else 40
    goal = 0.995 if name == "minilm-0.995" else None
    checkpoints = [2, 3] if smoke else [10, 20, 30, 40]
    return Problem(name, minilm.search_recipe(smoke, goal), "latency-p50", budget, checkpoints)


def trajectory(result: Any, key: str) -> list[float | None]:
    """Each trial's objective in the order asked; None where it failed or missed a goal."""
    values: list[float | None] = []
    for candidate in sorted(result.candidates, key=lambda c: c.index):
        evaluation = candidate.evaluation
        feasible = candidate.ok and evaluation is not None and evaluation.all_goals_met
        if feasible and evaluation.directions[key] != "min":
            raise ValueError(f"{key} is not minimized; this benchmark ranks by lower is better")
        values.append(evaluation.values[key] if feasible else None)
    return values


def run_search(problem: Problem, strategy: str, seed: int, work: Path, cache: Path) -> tuple[list[float | None], Any]:
    """One search through olive_core.run; returns its trajectory and the result."""
    from olive_core.engine.api import run

    # a failed trial is an expected outcome here (both quantizers applied); on_event reports it
    logging.getLogger("olive_core.engine.trial").setLevel(logging.CRITICAL)
    config = copy.deepcopy(problem.workflow)
    kind, _, rest = strategy.partition(":")
    optimizer, _, encoding = rest.partition(":")
    search = {**config.get("search", {}), "strategy": kind, "seed": seed}
    if kind != "exhaustive":
        search["max_trials"] = problem.budget
    if optimizer:
        # no budget: nevergrad's default follows max_trials (PROPOSALS_PER_TRIAL proposals a trial)
        search["config"] = {"optimizer": optimizer}
        if encoding:  # how ordered choices reach nevergrad (scalar, transition, categorical)
            search["config"]["ordered_choices"] = encoding
    config["search"] = search
    output = work / f"{problem.name}-{strategy.replace(':', '-')}-{seed}"
    shutil.rmtree(output, ignore_errors=True)
    result = run(config, output_dir=output, cache_dir=cache, manager=problem.manager, on_event=_progress(problem))
    shutil.rmtree(output, ignore_errors=True)  # the figures are in the result; model copies are not needed
    return trajectory(result, problem.objective), result


def _progress(problem: Problem) -> Any:
    """Print MiniLM trials as they finish (they take seconds to minutes); the toy's are too many."""
    if problem.name.startswith("toy"):
        return None

    def on_event(kind: str, detail: Any) -> None:
        if kind != "candidate_done":
            return
        values = detail.evaluation.values if detail.evaluation is not None else {}
        shown = ", ".join(f"{k}={v:.4g}" for k, v in values.items()) or (detail.error or "")[:90]
        print(f"  trial {detail.index:3d} {describe_point(detail.point)}: {shown}", flush=True)

    return on_event


#: the fields that tell the search's points apart (the rest is pinned by the workflow)
SEARCHED_FIELDS = ("type", "per_channel", "reduce_range", "smooth_quant", "calibrate_method", "a", "b", "c", "i", "j")


def describe_point(point: dict[str, Any]) -> str:
    """One short line per point: skipped steps, searched switches, how many nodes stay FP32."""
    parts = []
    for step, config in point.items():
        if config is None:
            parts.append(f"{step}: skip")
            continue
        flags = [f"{k}={config[k]}" for k in SEARCHED_FIELDS if k in config]
        if config.get("nodes_to_exclude"):
            flags.append(f"{len(config['nodes_to_exclude'])} nodes FP32")
        if isinstance(config.get("exclude"), dict) and config["exclude"].get("most_sensitive"):
            flags.append(f"{config['exclude']['most_sensitive']} most sensitive FP32")
        parts.append(f"{step}" + (f" ({', '.join(flags)})" if flags else ""))
    return "; ".join(parts)


def first_within(problem: Problem, values: Sequence[float | None], tolerance: float) -> int | None:
    """1-based trial at which the best so far first came within ``tolerance`` of the optimum."""
    best: float | None = None
    for index, value in enumerate(values, start=1):
        if value is not None and (best is None or value < best):
            best = value
        if best is not None and problem.gap(best) <= tolerance:
            return index
    return None


def best_after(values: Sequence[float | None], trials: int) -> float | None:
    found = [v for v in values[:trials] if v is not None]
    return min(found) if found else None


def _median_or_none(values: Sequence[float | None]) -> float | None:
    """Median of the values found; None when a run found nothing feasible (counted as worst)."""
    ranked = sorted(v if v is not None else float("inf") for v in values)
    middle = statistics.median(ranked) if ranked else float("inf")
    return None if middle == float("inf") else middle


def summarize(problem: Problem, runs: list[list[float | None]], tolerance: float) -> dict[str, Any]:
    needed = [first_within(problem, values, tolerance) for values in runs]
    reached = [n for n in needed if n is not None]
    # a seed that never got there counts as "more than it ran" in the median
    ranked = sorted(n if n is not None else float("inf") for n in needed)
    median = statistics.median(ranked) if ranked else None
    at = {}
    for trials in problem.checkpoints:
        gaps = [problem.gap(best_after(values, trials)) for values in runs]
        at[str(trials)] = {
            "median_gap": statistics.median(gaps),
            "within_tolerance": sum(g <= tolerance for g in gaps) / len(gaps),
            "median_best": _median_or_none([best_after(values, trials) for values in runs]),
        }
    return {
        "runs": len(runs),
        "trials_needed": needed,
        "trials_needed_median": median if median != float("inf") else None,
        "trials_needed_min": min(reached) if reached else None,
        "trials_needed_max": max(reached) if reached else None,
        "reached": f"{len(reached)}/{len(runs)}",
        "trials_run": [len(values) for values in runs],
        "failed_or_infeasible_trials": [sum(v is None for v in values) for values in runs],
        "at_budget": at,
    }


def study(problem: Problem, strategies: Sequence[str], seeds: int, tolerance: float, work: Path) -> dict[str, Any]:
    cache = work / ("cache" if problem.name.startswith("minilm") else f"{problem.name}-cache")
    runs_dir = work / "search-efficiency"
    print(f"\n== {problem.name}: exhaustive", flush=True)
    start = time.perf_counter()
    problem.exhaustive, result = run_search(problem, "exhaustive", 0, runs_dir, cache)
    exhaustive_seconds = time.perf_counter() - start
    if not problem.feasible:
        raise RuntimeError(f"{problem.name}: no feasible point in the exhaustive run")
    best = min(
        range(len(problem.exhaustive)),
        key=lambda i: problem.exhaustive[i] if problem.exhaustive[i] is not None else float("inf"),
    )
    figures: dict[str, Any] = {
        "space_size": len(problem.exhaustive),
        "feasible_points": len(problem.feasible),
        "failed_or_infeasible_points": len(problem.exhaustive) - len(problem.feasible),
        "optimum": problem.optimum,
        "worst_feasible": problem.worst,
        "optimum_point": sorted(result.candidates, key=lambda c: c.index)[best].point,
        "exhaustive_seconds": exhaustive_seconds,
        "exhaustive_values": problem.exhaustive,
        "budget": problem.budget,
        "nevergrad_proposals": PROPOSALS_PER_TRIAL * problem.budget,
        "strategies": {"exhaustive": summarize(problem, [problem.exhaustive], tolerance)},
    }
    for strategy in strategies:
        if strategy == "exhaustive":
            continue
        print(f"== {problem.name}: {strategy} x {seeds} seeds, {problem.budget} trials each", flush=True)
        start = time.perf_counter()
        runs = [run_search(problem, strategy, seed, runs_dir, cache)[0] for seed in range(seeds)]
        figures["strategies"][strategy] = {
            **summarize(problem, runs, tolerance),
            "seconds": time.perf_counter() - start,
        }
    return figures


def print_problem(name: str, figures: dict[str, Any], tolerance: float, unit: str) -> str:
    budget = figures["budget"]
    checkpoints = list(next(iter(figures["strategies"].values()))["at_budget"])
    reach = "trials to the optimum (median)" if tolerance == 0 else f"trials to <= {tolerance:.0%} (median)"
    headers = ["strategy", "runs", reach, "min-max", "reached"]
    headers += [f"gap / reached @{c}" for c in checkpoints]
    # where the optimum is not 0, also how far the best found is from it, in its own unit
    relative = figures["optimum"] > 0
    if relative:
        headers.append(f"best / optimum @{checkpoints[-1]}")
    rows = []
    for strategy, stats in figures["strategies"].items():
        median = stats["trials_needed_median"]
        needed = f"{median:g}" if median is not None else f"> {max(stats['trials_run'])}"
        spread = f"{stats['trials_needed_min']}-{stats['trials_needed_max']}" if stats["trials_needed_min"] else "-"
        row = [strategy, stats["runs"], needed, spread, stats["reached"]]
        for c in checkpoints:
            at = stats["at_budget"][c]
            row.append(f"{at['median_gap']:.1%} / {at['within_tolerance']:.0%}")
        if relative:
            best = stats["at_budget"][checkpoints[-1]]["median_best"]
            row.append(f"{best / figures['optimum']:.3f}" if best is not None else "none feasible")
        rows.append(row)
    text = harness.table(headers, rows)
    print(
        f"\n{name}: {figures['space_size']} points ({figures['feasible_points']} feasible), optimum "
        f"{figures['optimum']:.4g}{unit}, worst feasible {figures['worst_feasible']:.4g}{unit}; "
        f"random and nevergrad ran up to {budget} trials per seed (nevergrad: its default budget of "
        f"{PROPOSALS_PER_TRIAL * budget} proposals, repeats not run)"
    )
    print(text)
    return text


def main() -> int:
    def options(parser: Any) -> None:
        parser.add_argument("--problems", nargs="+", default=list(PROBLEMS), choices=list(PROBLEMS))
        parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES))
        parser.add_argument(
            "--seeds", type=int, default=None, help="runs per stochastic strategy (default 10)"
        )
        parser.add_argument("--tolerance", type=float, default=0.02)

    args = harness.arguments(__doc__.split("\n\n")[0], options)
    strategies = args.strategies if not args.smoke else ["exhaustive", "random", "nevergrad:NGOpt"]
    report = harness.Report(
        "search_efficiency",
        {
            "smoke": args.smoke,
            "strategies": strategies,
            "tolerance": args.tolerance,
            "problems": args.problems,
            "seeds": args.seeds,
            "gap": "(best so far - optimum) / (worst feasible - optimum), exhaustive points",
        },
    )
    for name in args.problems:
        if name == "toy":
            problem = toy_problem(args.work_dir, args.smoke)
            seeds = args.seeds or (2 if args.smoke else 10)
        elif name == "toy-ordered":
            problem = toy_ordered_problem(args.work_dir, args.smoke)
            seeds = args.seeds or (2 if args.smoke else 10)
        else:
            problem = minilm_problem(args.smoke, name)
            seeds = args.seeds or (1 if args.smoke else 10)
            report.settings["minilm_workflow"] = problem.workflow
        tolerance = args.tolerance if problem.tolerance is None else problem.tolerance
        figures = study(problem, problem.strategies or strategies, seeds, tolerance, args.work_dir)
        figures["seeds"] = seeds
        figures["tolerance"] = tolerance
        figures["table"] = print_problem(name, figures, tolerance, " ms" if name.startswith("minilm") else "")
        report.figures[name] = figures
    if not args.smoke:
        keep_earlier_problems(report, args.results_dir / "search_efficiency.json")
    report.write(args.results_dir)
    return 0


def keep_earlier_problems(report: Any, previous: Path) -> None:
    """Carry over the problems this run did not measure, each with the run that measured it."""
    if not previous.exists():
        return
    earlier = json.loads(previous.read_text())
    if earlier.get("settings", {}).get("smoke"):
        return
    measured = {key: earlier.get(key) for key in ("started", "load_average", "git")}
    measured["cpu_flags"] = earlier.get("machine", {}).get("cpu_flags")
    for name, figures in earlier.get("figures", {}).items():
        if name not in report.figures:
            report.figures[name] = {"measured": measured, **figures}
            if name == "minilm" and "minilm_workflow" in earlier.get("settings", {}):
                report.settings["minilm_workflow"] = earlier["settings"]["minilm_workflow"]


if __name__ == "__main__":
    raise SystemExit(main())
