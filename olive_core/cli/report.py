"""What ``olive run`` prints before and after running: the dry-run plan and the metrics table.

Both say what sets candidates apart (the options whose values differ between them) rather
than repeating what they share. On a terminal the table fits the screen by wrapping cells,
never by cutting a metric's name; without a terminal it is as wide as its content.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from olive_core.cli.progress import format_value
from olive_core.engine.result import CandidateResult, WorkflowResult
from olive_core.search.space import PASS_TYPE_KEY

Point = dict[str, "dict[str, Any] | None"]

#: candidates listed one per line by --dry-run; the options they differ in are listed for all
MAX_PLAN_LINES = 20
#: candidates shown as columns of the final table; the rest are in run.json
MAX_COLUMNS = 6
#: a value longer than this is shown abbreviated (uniquely) where candidates are compared
MAX_VALUE_CHARS = 24
_MISSING = object()


# -- what sets candidates apart ----------------------------------------------------------------


def varying_options(points: list[Point]) -> dict[str, list[str]]:
    """Per step, the options whose values differ between the points (sorted)."""
    varying: dict[str, list[str]] = {}
    for step in dict.fromkeys(step for point in points for step in point):
        configs = [config for point in points if (config := point.get(step)) is not None]
        keys = sorted({key for config in configs for key in config}, key=lambda key: (key != PASS_TYPE_KEY, key))
        varying[step] = [key for key in keys if len({_canonical(config.get(key, _MISSING)) for config in configs}) > 1]
    return varying


def flatten(config: dict[str, Any]) -> dict[str, Any]:
    """An option whose value is an object (``exclude: {most_sensitive: 2, ...}``) as one option
    per key (``exclude.most_sensitive``), so what differs inside it shows by name."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, dict) and value:
            flat.update({f"{key}.{inner}": item for inner, item in flatten(value).items()})
        else:
            flat[key] = value
    return flat


def flatten_point(point: Point) -> Point:
    return {step: None if config is None else flatten(config) for step, config in point.items()}


def skipped_sometimes(points: list[Point]) -> set[str]:
    """Optional steps some points run and others skip."""
    steps = {step for point in points for step in point}
    return {step for step in steps if len({point.get(step) is None for point in points}) > 1}


class ValueNames:
    """Short names for option values, unique per option: a long list becomes ``[6 items]``, and
    when two different values would read alike each gets a digest, ``[6 items]#a1b2``."""

    def __init__(self, points: list[Point], varying: dict[str, list[str]]) -> None:
        self._names: dict[tuple[str, str, str], str] = {}
        for step, keys in varying.items():
            for key in keys:
                values = {_canonical(c[key]): c[key] for p in points if (c := p.get(step)) is not None and key in c}
                short = {canonical: _abbreviate(value) for canonical, value in values.items()}
                for canonical, name in short.items():
                    clash = sum(1 for other in short.values() if other == name) > 1
                    digest = hashlib.sha256(canonical.encode()).hexdigest()[:4]
                    self._names[(step, key, canonical)] = f"{name}#{digest}" if clash else name

    def __call__(self, step: str, key: str, value: Any) -> str:
        canonical = _canonical(value)
        return self._names.get((step, key, canonical), _abbreviate(value))


def describe_point(point: Point, varying: dict[str, list[str]], names: ValueNames) -> str:
    """``quantize: per_channel=True, reduce_range=False; fuse: skipped``, or ``(same options)``."""
    parts = []
    for step, config in point.items():
        if config is None:
            parts.append(f"{step}: skipped")
        elif varying.get(step):
            options = ", ".join(f"{key}={names(step, key, config[key])}" for key in varying[step] if key in config)
            parts.append(f"{step}: {options}")
    return "; ".join(parts) or "(same options)"


def _canonical(value: Any) -> str:
    if value is _MISSING:
        return "<unset>"
    return json.dumps(value, sort_keys=True, default=str)


def _abbreviate(value: Any) -> str:
    text = str(value) if not isinstance(value, (list, dict)) else json.dumps(value, default=str)
    if len(text) <= MAX_VALUE_CHARS:
        return text
    if isinstance(value, list):
        return f"[{len(value)} items]"
    if isinstance(value, dict):
        return f"{{{len(value)} keys}}"
    return text[: MAX_VALUE_CHARS - 3] + "..."


# -- the dry-run plan --------------------------------------------------------------------------


def print_plan(console: Console, engine: Any, input_model: Any, plans: list[list[Any]], size: int | None) -> None:
    """The candidates a run would try: the options that set them apart, and the cached steps."""
    path = engine.redact.text(input_model.path)
    console.print(f"workflow is valid; input model: {input_model.type} {path} (id {input_model.id[:12]})", markup=False)
    accelerators = [a.key() for a in engine.workflow.accelerators]
    console.print(f"accelerators: {', '.join(accelerators)}", markup=False)
    steps = engine.workflow.steps
    chain = " -> ".join(f"{s.name} ({' or '.join(s.types)}{', optional' if s.optional else ''})" for s in steps)
    console.print(f"steps: {chain or '(none: the input model is the output)'}", markup=False)
    if size is None:
        console.print("search space: continuous (the strategy decides how many trials)")
        console.print(f"output folder: {engine.output_dir}", markup=False)
        return
    points: list[Point] = []
    for planned in plans:
        ran = {p.step: flatten(p.config) for p in planned}
        points.append({s.name: ran.get(s.name) for s in steps})
    varying = varying_options(points)
    skippable = skipped_sometimes(points)
    names = ValueNames(points, varying)
    _print_differences(console, points, varying, skippable, names)
    _print_cached(console, plans, steps)
    per_accelerator = len(plans) // max(len(accelerators), 1)
    for number, (planned, point) in enumerate(zip(plans[:MAX_PLAN_LINES], points), start=1):
        label = f"[{accelerators[(number - 1) // per_accelerator]}] " if len(accelerators) > 1 and per_accelerator else ""
        console.print(f"  {number}. {label}{_plan_line(planned, point, varying, names)}", markup=False)
    if len(plans) > MAX_PLAN_LINES:
        console.print(f"  ... and {len(plans) - MAX_PLAN_LINES} more")
    console.print(f"output folder: {engine.output_dir}", markup=False)


def _print_differences(
    console: Console, points: list[Point], varying: dict[str, list[str]], skippable: set[str], names: ValueNames
) -> None:
    count = len(points)
    if count < 2 or not (skippable or any(varying.values())):
        console.print(f"candidates: {count}")
        return
    console.print(f"candidates: {count}, differing in:")
    for step, keys in varying.items():
        parts = []
        for key in keys:
            values = list(dict.fromkeys(names(step, key, c[key]) for p in points if (c := p.get(step)) is not None and key in c))
            shown = ", ".join(values) if len(values) <= 6 else f"{len(values)} values"
            parts.append(f"{key} ({shown})")
        if step in skippable:
            parts.append("run or skipped")
        if parts:
            console.print(f"  {step}: {'; '.join(parts)}", markup=False)


def _print_cached(console: Console, plans: list[list[Any]], steps: list[Any]) -> None:
    """Which steps' models the cache already holds, and how many candidates need no pass run."""
    counts = {s.name: [0, 0] for s in steps}  # step -> [cached, planned]
    for planned in plans:
        for p in planned:
            counts[p.step][1] += 1
            counts[p.step][0] += int(p.cached)
    cached = [
        f"{name} ({'all' if done == total else f'{done} of {total}'})" for name, (done, total) in counts.items() if done
    ]
    whole = sum(1 for planned in plans if all(p.cached for p in planned))
    if not cached:
        console.print("cached: nothing yet")
        return
    console.print(f"cached: {', '.join(cached)}; {whole} of {len(plans)} candidate(s) entirely", markup=False)


def _plan_line(planned: list[Any], point: Point, varying: dict[str, list[str]], names: ValueNames) -> str:
    parts = []
    for p in planned:
        config = flatten(p.config)
        options = [f"{key}={names(p.step, key, config[key])}" for key in varying.get(p.step, []) if key in config]
        text = f"{p.step} [{', '.join(options)}]" if options else p.step
        parts.append(text + (" (cached)" if p.cached else ""))
    skipped = [step for step, config in point.items() if config is None]
    line = " -> ".join(parts) or "(no step)"
    return f"{line}; skips {', '.join(skipped)}" if skipped else line


# -- the final table ---------------------------------------------------------------------------


def _shown_candidates(result: WorkflowResult) -> list[CandidateResult]:
    """Best first, then the Pareto front and near misses, then the rest in order."""
    order = [*result.best, *result.pareto, *result.closest, *(c.index for c in result.candidates)]
    return [result.candidate(index) for index in dict.fromkeys(order)][:MAX_COLUMNS]


def describe_candidates(candidates: list[CandidateResult], shown: list[CandidateResult]) -> dict[int, str]:
    """What sets each shown candidate apart: skipped steps and the options that vary."""
    if len(candidates) < 2:
        return {}
    points = [flatten_point(c.point) for c in candidates]
    varying = varying_options(points)
    names = ValueNames(points, varying)
    return {c.index: describe_point(flatten_point(c.point), varying, names) for c in shown}


def _goal_cell(value: str, candidate: CandidateResult, key: str) -> Text:
    evaluation = candidate.evaluation
    goal = evaluation.goals.get(key) if evaluation is not None else None
    if goal is None:
        return Text(value)
    if goal.met:
        return Text(value, style="green")
    bound = "<=" if evaluation.directions.get(key) == "min" else ">="  # type: ignore[union-attr]
    return Text.assemble((value, "red"), f" (goal {bound} {format_value(goal.target)})")


@dataclass
class _Column:
    header: str
    cells: list[Text]
    candidate: CandidateResult | None = None

    @property
    def width(self) -> int:
        return max(len(self.header), *(len(cell.plain) for cell in self.cells)) + 3  # padding and a border


def metrics_table(result: WorkflowResult, shown: list[CandidateResult], keys: list[str], width: int | None = None) -> tuple[Table, list[CandidateResult]]:
    """One row per measured value, one column per model; names are never cut short. Returns the
    table and the candidates it shows.

    Without a ``width`` (no terminal) the table is as wide as its content. Within one, it shows
    the candidates whose columns fit beside the full metric names (one at least; the rest are in
    run.json), and a cell wraps rather than lose characters.
    """
    fixed = [_Column("metric", [Text(key) for key in keys])]
    if result.input_evaluation is not None:
        fixed.append(_Column("input", [Text(format_value(result.input_evaluation.values.get(key))) for key in keys]))
    candidates = []
    for candidate in shown:
        tag = " best" if candidate.index in result.best else " pareto" if candidate.index in result.pareto else ""
        candidates.append(_Column(f"#{candidate.index + 1}{tag}", [_cell(candidate, key) for key in keys], candidate))
    if width is not None:
        used = 1 + sum(column.width for column in fixed)
        for number, column in enumerate(candidates):
            if number > 0 and used + column.width > width:
                candidates = candidates[:number]
                break
            used += column.width
    table = Table(title="metrics", box=box.MARKDOWN if width is None else box.HEAVY_HEAD)
    longest = max(len(key) for key in keys)
    table.add_column("metric", overflow="fold", min_width=longest if width is None else min(longest, width // 2))
    for column in [*fixed[1:], *candidates]:
        table.add_column(column.header, justify="right", overflow="fold")
    for row in zip(*(column.cells for column in [*fixed, *candidates])):
        table.add_row(*row)
    return table, [column.candidate for column in candidates if column.candidate is not None]


def _cell(candidate: CandidateResult, key: str) -> Text:
    if candidate.evaluation is None:
        return Text("failed" if not candidate.ok else "-")
    return _goal_cell(format_value(candidate.evaluation.values.get(key)), candidate, key)


def _print_table(console: Console, table: Table) -> None:
    """On a terminal as rich draws it; elsewhere without the blank edges and trailing spaces."""
    if console.is_terminal:
        console.print(table)
        return
    with console.capture() as captured:
        console.print(table)
    for line in captured.get().splitlines():
        if line.strip():
            console.print(line.rstrip(), markup=False, highlight=False)


def print_result(console: Console, result: WorkflowResult, log: str | None = None) -> None:
    """The metrics table, what sets the shown candidates apart, and where the output went."""
    keys: list[str] = []
    for evaluation in [result.input_evaluation, *(c.evaluation for c in result.candidates)]:
        if evaluation is not None:
            keys += [k for k in evaluation.values if k not in keys]
    if keys:
        table, shown = metrics_table(result, _shown_candidates(result), keys, console.width if console.is_terminal else None)
        _print_table(console, table)
        for index, text in describe_candidates(result.candidates, shown).items():
            console.print(f"  #{index + 1}: {text}", markup=False)
        hidden = len(result.candidates) - len(shown)
        if hidden > 0:
            console.print(f"({hidden} more candidate(s) in run.json)")
    failed = [c for c in result.candidates if not c.ok]
    see = f"{result.output_dir / 'run.json'}" + (f" and {log}" if log else "")
    if result.ok:
        folders = ", ".join(str(result.output_dir / f) for f in result.written if f.startswith("model"))
        console.print(Text.assemble(("done", "green"), f": {len(result.candidates)} candidate(s), {len(failed)} failed; best model in {folders}"))
    elif not result.candidates:
        console.print(Text.assemble(("no model produced", "red"), ": no candidate was run"))
    elif len(failed) == len(result.candidates):
        console.print(Text.assemble(("no model produced", "red"), f": all {len(failed)} candidate(s) failed; see {see}"))
    else:
        console.print(Text.assemble(("no model produced", "red"), f": no candidate met every goal; see {see}"))
    if result.stopped_early:
        console.print(f"stopped early: {result.stopped_early}", markup=False)
    if log and result.ok:
        console.print(f"log: {log}", markup=False)
