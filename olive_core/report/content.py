"""What the report says, derived from a checked run.json: the headline, the plot's axes and
points, the table's rows and the best model's lineage. Plain data; rendering is elsewhere.

Nothing here knows a plugin's metrics by name: a speed, a quality and a size metric are
recognised by the registered metric type the workflow names or by words in the metric's key,
and the headline says which metric each figure comes from.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from olive_core.report.load import CandidateRecord, MetricsRecord, RunRecord, StepEntry

SPEED_TYPES = ("latency", "throughput")
SPEED_WORDS = re.compile(r"latenc|throughput|speed|per_s(ec|econd)?($|[-_])|tokens_per|(^|[-_])ms($|[-_])")
QUALITY_TYPES = ("similarity", "accuracy")
QUALITY_WORDS = re.compile(r"similar|cosine|accura|agreement|(^|[-_])f1($|[-_])|exact_match|perplex")
SIZE_TYPES = ("size",)
SIZE_WORDS = re.compile(r"size")


@dataclass
class Metric:
    """A ``name-submetric`` key, whether lower or higher is better, and its registered type."""

    key: str
    direction: str
    type: str = ""


@dataclass
class Figure:
    """A headline figure: what it says, and which metric it comes from."""

    label: str
    text: str
    metric: str = ""


@dataclass
class Axis:
    metric: Metric
    #: the goal's bound on this metric, drawn as a line
    goal: float | None = None


@dataclass
class Point:
    candidate: int
    x: float
    y: float
    goals_met: bool
    pareto: bool
    best: bool
    hover: str


@dataclass
class Plot:
    x: Axis
    y: Axis | None  # None: only one metric was measured; candidates are spread by number
    points: list[Point]
    input_point: tuple[float, float | None] | None
    #: candidates that are not plotted, with why
    missing: list[tuple[int, str]]
    why: str


@dataclass
class Row:
    candidate: int
    status: str  # "best", "pareto", "met", "missed", "failed", "unmeasured"
    result: str
    values: dict[str, float | None]
    goals: dict[str, tuple[bool, float]]  # key -> (met, target)
    configs: dict[str, tuple[str, Any]]  # step -> (what sets it apart, the full config; None: skipped)
    accelerator: str


@dataclass
class LineageStep:
    number: int
    entry: StepEntry | None
    model_id: str


@dataclass
class ReportContent:
    run: RunRecord
    title: str
    outcome: str  # "best", "closest", "failed", "empty"
    headline: str
    figures: list[Figure]
    plot: Plot | None
    metrics: list[Metric]
    input_row: Row | None
    rows: list[Row]
    steps: list[str]
    lineage_title: str
    lineage: list[LineageStep] = field(default_factory=list)


def build_content(run: RunRecord) -> ReportContent:
    """Everything the page shows, from ``run`` alone."""
    metrics = _metrics(run)
    objectives = _objectives(run, metrics)
    steps = _steps(run)
    varying = {step: _varying(run, step) for step in steps}
    outcome, shown, headline = _outcome(run)
    figures = _figures(run, shown, metrics, objectives) if shown is not None else []
    lineage_title, lineage = _lineage(run, shown, outcome)
    return ReportContent(
        run=run,
        title=_title(run),
        outcome=outcome,
        headline=headline,
        figures=figures,
        plot=_plot(run, metrics, objectives),
        metrics=metrics,
        input_row=_input_row(run, metrics),
        rows=[_row(run, c, varying) for c in sorted(run.candidates, key=lambda c: c.index)],
        steps=steps,
        lineage_title=lineage_title,
        lineage=lineage,
    )


# -- metrics and objectives ------------------------------------------------------------------


def _metric_types(run: RunRecord) -> dict[str, str]:
    """Metric name (the key's prefix) -> the registered type the workflow names."""
    declared = run.workflow.get("metrics")
    if not isinstance(declared, list):
        return {}
    return {str(m["name"]): str(m.get("type", "")) for m in declared if isinstance(m, dict) and "name" in m}


def _metrics(run: RunRecord) -> list[Metric]:
    """Every measured key, in the order the run measured them (input model first)."""
    types = _metric_types(run)
    found: dict[str, Metric] = {}
    for metrics in [run.input_model.metrics, *(c.metrics for c in run.candidates)]:
        if metrics is None:
            continue
        for key in metrics.values:
            if key not in found:
                name = next((n for n in sorted(types, key=len, reverse=True) if key.startswith(n + "-")), "")
                found[key] = Metric(key, metrics.directions.get(key, "min"), types.get(name, ""))
    return list(found.values())


def _objectives(run: RunRecord, metrics: list[Metric]) -> list[Metric]:
    """The search's objectives by priority; without any, the first measured metric (as the engine ranks)."""
    by_key = {m.key: m for m in metrics}
    search = run.workflow.get("search")
    declared = search.get("objectives", []) if isinstance(search, dict) else []
    ordered = sorted((o for o in declared if isinstance(o, dict) and "metric" in o), key=lambda o: o.get("priority", 1))
    chosen = [by_key[o["metric"]] for o in ordered if o["metric"] in by_key]
    return chosen or metrics[:1]


def _find(candidates: list[Metric], types: tuple[str, ...], words: re.Pattern[str]) -> Metric | None:
    """The first metric of one of ``types``, else the first whose key has one of ``words``."""
    return next((m for m in candidates if m.type in types), None) or next((m for m in candidates if words.search(m.key.lower())), None)


def _steps(run: RunRecord) -> list[str]:
    steps: list[str] = []
    for candidate in run.candidates:
        steps += [s for s in candidate.configs if s not in steps]
    return steps


# -- the headline ----------------------------------------------------------------------------


def _title(run: RunRecord) -> str:
    """The input model's name, or the workflow's where the model's path came from a variable."""
    name = run.input_model.path.rstrip("/").rsplit("/", 1)[-1] or run.input_model.path
    if "${" in name and run.workflow_file:
        name = run.workflow_file.rstrip("/").rsplit("/", 1)[-1]
    return f"{name}: {len(run.candidates)} candidate{'s' if len(run.candidates) != 1 else ''}"


def _outcome(run: RunRecord) -> tuple[str, CandidateRecord | None, str]:
    """Which candidate the headline and lineage are about, and the headline's first sentence."""
    if run.best:
        pointer = run.best[0]
        candidate = run.candidate(pointer.candidate)
        where = f" (written to {pointer.output}/)" if pointer.output else ""
        others = f"; {len(run.best) - 1} more kept" if len(run.best) > 1 else ""
        return "best", candidate, f"Best model: candidate #{candidate.index + 1}{where}{others}"
    if not run.candidates:
        return "empty", None, "No candidate was run"
    failed = [c for c in run.candidates if c.error is not None]
    if len(failed) == len(run.candidates):
        return "failed", None, f"No model produced: all {len(failed)} candidates failed (the table says why)"
    if run.closest:
        candidate = run.candidate(run.closest[0].candidate)
        return "closest", candidate, f"No candidate met every goal; the closest is candidate #{candidate.index + 1}"
    return "failed", None, "No model produced: no candidate met every goal"


def _figures(run: RunRecord, shown: CandidateRecord, metrics: list[Metric], objectives: list[Metric]) -> list[Figure]:
    figures = [Figure("chain", _chain(run, shown))]
    after = shown.metrics
    if after is None:
        return figures
    before = run.input_model.metrics
    preferred = objectives + [m for m in metrics if m not in objectives]
    used: list[Metric] = []
    speed = _find(preferred, SPEED_TYPES, SPEED_WORDS)
    if speed is not None:
        figures.append(_ratio_figure("speed", speed, before, after, ("faster", "slower")))
        used.append(speed)
    quality = _find(preferred, QUALITY_TYPES, QUALITY_WORDS)
    if quality is not None:
        figures.append(_value_figure("quality", quality, before, after))
        used.append(quality)
    size = _find([m for m in preferred if m.direction == "min"], SIZE_TYPES, SIZE_WORDS)
    if size is not None and size not in used:
        figures.append(_ratio_figure("size", size, before, after, ("smaller", "larger")))
        used.append(size)
    for objective in objectives:
        if objective not in used:
            figures.append(_value_figure("objective", objective, before, after))
    return figures


def _chain(run: RunRecord, candidate: CandidateRecord) -> str:
    names = []
    for model_id in candidate.lineage:
        entry = run.models.get(model_id)
        names.append(f"{entry.step} ({entry.pass_type})" if entry else model_id[:12])
    return " → ".join(names) if names else "the input model as it is (no pass ran)"


def _ratio_figure(label: str, metric: Metric, before: MetricsRecord | None, after: MetricsRecord, words: tuple[str, str]) -> Figure:
    """``2.1x faster``: the input's value over the model's where lower is better, else the inverse."""
    value = after.values.get(metric.key)
    reference = before.values.get(metric.key) if before is not None else None
    if value is None:
        return Figure(label, "not measured", metric.key)
    if reference is None:
        return Figure(label, f"{fmt(value)} (the input model was not measured: no ratio)", metric.key)
    if value == 0 or reference == 0:
        return Figure(label, f"{fmt(reference)} → {fmt(value)}", metric.key)
    ratio = reference / value if metric.direction == "min" else value / reference
    word = words[0] if ratio >= 1 else words[1]
    times = ratio if ratio >= 1 else 1 / ratio
    return Figure(label, f"{times:.2f}× {word} ({fmt(reference)} → {fmt(value)})", metric.key)


def _value_figure(label: str, metric: Metric, before: MetricsRecord | None, after: MetricsRecord) -> Figure:
    value = after.values.get(metric.key)
    if value is None:
        return Figure(label, "not measured", metric.key)
    parts = [fmt(value)]
    reference = before.values.get(metric.key) if before is not None else None
    if reference is not None:
        parts.append(f"input model {fmt(reference)}")
    goal = after.goals.get(metric.key)
    if goal is not None:
        parts.append(f"goal {'≤' if metric.direction == 'min' else '≥'} {fmt(goal.target)} {'met' if goal.met else 'missed'}")
    return Figure(label, f"{parts[0]} ({'; '.join(parts[1:])})" if len(parts) > 1 else parts[0], metric.key)


# -- the plot --------------------------------------------------------------------------------


def _plot(run: RunRecord, metrics: list[Metric], objectives: list[Metric]) -> Plot | None:
    """Candidates on the two first objectives; with one, against size or else a second metric."""
    if not objectives:
        return None
    x = objectives[0]
    if len(objectives) > 1:
        y: Metric | None = objectives[1]
        why = "the run's two first objectives"
    else:
        others = [m for m in metrics if m.key != x.key]
        y = _find(others, SIZE_TYPES, SIZE_WORDS) or (others[0] if others else None)
        why = "the run's objective" + (f" against {y.key}" if y else " (the only metric measured) by candidate")
    best = {p.candidate for p in run.best}
    pareto = {p.candidate for p in run.pareto}
    points, missing = [], []
    for candidate in sorted(run.candidates, key=lambda c: c.index):
        metrics_of = candidate.metrics
        if candidate.error is not None or metrics_of is None:
            missing.append((candidate.index, "failed" if candidate.error is not None else "not measured"))
            continue
        xv = metrics_of.values.get(x.key)
        yv = metrics_of.values.get(y.key) if y else float(candidate.index + 1)
        if not _finite(xv) or not _finite(yv):
            missing.append((candidate.index, "a plotted metric has no finite value"))
            continue
        met = all(g.met for g in metrics_of.goals.values())
        points.append(Point(candidate.index, xv, yv, met, candidate.index in pareto, candidate.index in best, _hover(candidate)))  # type: ignore[arg-type]
    before = run.input_model.metrics
    input_point = None
    if before is not None and _finite(before.values.get(x.key)):
        yv = before.values.get(y.key) if y else None
        input_point = (before.values[x.key], yv if _finite(yv) else None)  # type: ignore[assignment]
    return Plot(Axis(x, _goal(run, x)), Axis(y, _goal(run, y)) if y else None, points, input_point, missing, why)  # type: ignore[arg-type]


def _goal(run: RunRecord, metric: Metric) -> float | None:
    for candidate in run.candidates:
        if candidate.metrics is not None and metric.key in candidate.metrics.goals:
            return candidate.metrics.goals[metric.key].target
    return None


def _hover(candidate: CandidateRecord) -> str:
    parts = [f"{step}: skipped" if config is None else f"{step}: {_brief(config)}" for step, config in candidate.configs.items()]
    return "; ".join(parts)


def _brief(config: dict[str, Any], limit: int = 80) -> str:
    return _short(", ".join(f"{k}={json.dumps(v, default=str)}" for k, v in config.items()), limit)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


# -- the table -------------------------------------------------------------------------------


def _varying(run: RunRecord, step: str) -> list[str]:
    """The options of ``step`` whose values differ between candidates: what sets them apart."""
    configs = [c.configs[step] for c in run.candidates if c.configs.get(step) is not None]
    keys = sorted({k for config in configs for k in config})  # type: ignore[union-attr]
    return [k for k in keys if len({json.dumps(config.get(k), sort_keys=True, default=str) for config in configs}) > 1]  # type: ignore[union-attr]


def _row(run: RunRecord, candidate: CandidateRecord, varying: dict[str, list[str]]) -> Row:
    best = {p.candidate for p in run.best}
    pareto = {p.candidate for p in run.pareto}
    metrics = candidate.metrics
    if candidate.error is not None:
        status, result = "failed", f"failed: {candidate.error}"
    elif candidate.index in best:
        status, result = "best", "best"
    elif candidate.index in pareto:
        status, result = "pareto", "on the Pareto front"
    elif metrics is None:
        status, result = "unmeasured", "made (no metrics)"
    elif all(g.met for g in metrics.goals.values()):
        status, result = "met", "goals met"
    else:
        missed = [k for k, g in metrics.goals.items() if not g.met]
        status, result = "missed", "missed " + ", ".join(missed)
    configs: dict[str, tuple[str, Any]] = {}
    for step, options in varying.items():
        config = candidate.configs.get(step)
        if config is None:
            configs[step] = ("skipped", None)
            continue
        summary = ", ".join(f"{k}={_short(json.dumps(config[k], default=str), 40)}" for k in options if k in config)
        configs[step] = (_short(summary, 90) or "as written", config)
    return Row(
        candidate=candidate.index,
        status=status,
        result=result,
        values=dict(metrics.values) if metrics else {},
        goals={k: (g.met, g.target) for k, g in metrics.goals.items()} if metrics else {},
        configs=configs,
        accelerator=candidate.accelerator,
    )


def _input_row(run: RunRecord, metrics: list[Metric]) -> Row | None:
    before = run.input_model.metrics
    if before is None:
        return None
    return Row(-1, "input", "input model", dict(before.values), {}, {}, "")


# -- the lineage -----------------------------------------------------------------------------


def _lineage(run: RunRecord, shown: CandidateRecord | None, outcome: str) -> tuple[str, list[LineageStep]]:
    if shown is None:
        return "", []
    who = "the best model" if outcome == "best" else "the closest candidate"
    steps = [LineageStep(n, run.models.get(model_id), model_id) for n, model_id in enumerate(shown.lineage, start=1)]
    return f"How {who} (candidate #{shown.index + 1}) was made", steps


def fmt(value: float | None) -> str:
    """Four significant digits, as the console table shows them."""
    if value is None or not math.isfinite(value):
        return "–" if value is None else str(value)
    value = value or 0.0  # no "-0"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"
