"""What ``olive run`` prints: live progress, the dry-run plan and the final metrics table."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from olive_core.engine.result import CandidateResult, WorkflowResult


class Progress:
    """Shows the step being worked on; used as the engine's event sink."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._status: Any = None

    def __enter__(self) -> Progress:
        self._status = self.console.status("starting")
        self._status.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._status is not None:
            self._status.__exit__(*exc)
            self._status = None

    def event(self, kind: str, detail: Any) -> None:
        if kind == "step_started":
            self._update(f"running [bold]{detail}[/]")
        elif kind == "step_cached":
            self.console.print(f"  [dim]{detail}: from cache[/]")
        elif kind == "step_finished":
            self.console.print(f"  {detail}: done")
        elif kind == "evaluating":
            self._update(f"evaluating {detail}")
        elif kind == "candidate_done":
            self._candidate(detail)

    def _update(self, text: str) -> None:
        if self._status is not None:
            self._status.update(text)

    def _candidate(self, candidate: CandidateResult) -> None:
        if candidate.ok:
            self.console.print(f"[green]candidate {candidate.index + 1} done[/]")
        else:
            self.console.print(f"[red]candidate {candidate.index + 1} failed:[/] {candidate.error}")


def print_plan(console: Console, engine: Any, input_model: Any, plans: list[list[Any]], size: int | None) -> None:
    path = engine.redact.text(input_model.path)
    console.print(f"workflow is valid; input model: {input_model.type} {path} (id {input_model.id[:12]})")
    console.print(f"accelerators: {', '.join(a.key() for a in engine.workflow.accelerators)}")
    if size is None:
        console.print("search space: continuous (the strategy decides how many trials)")
    else:
        console.print(f"candidates: {len(plans)}")
    for number, chain in enumerate(plans[:20], start=1):
        steps = " -> ".join(f"{s.step} ({s.pass_type}{', cached' if s.cached else ''})" for s in chain)
        console.print(f"  {number}. {steps}")
    if len(plans) > 20:
        console.print(f"  ... and {len(plans) - 20} more")
    console.print(f"output folder: {engine.output_dir}")


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"


#: candidates shown as columns of the final table; the rest are in run.json
MAX_COLUMNS = 6


def _shown_candidates(result: WorkflowResult) -> list[CandidateResult]:
    """Best first, then the Pareto front and near misses, then the rest in order."""
    order = [*result.best, *result.pareto, *result.closest, *(c.index for c in result.candidates)]
    shown: list[CandidateResult] = []
    for index in dict.fromkeys(order):
        shown.append(result.candidate(index))
    return shown[:MAX_COLUMNS]


def describe_candidates(candidates: list[CandidateResult], shown: list[CandidateResult]) -> dict[int, str]:
    """What sets each shown candidate apart: skipped steps and the options that vary."""
    if len(candidates) < 2:
        return {}
    varying: dict[str, set[str]] = {}
    for step in candidates[0].point:
        configs = [config for c in candidates if (config := c.point.get(step)) is not None]
        keys = {k for config in configs for k in config}
        varying[step] = {k for k in keys if len({repr(config.get(k)) for config in configs}) > 1}
    descriptions = {}
    for candidate in shown:
        parts = []
        for step, config in candidate.point.items():
            if config is None:
                parts.append(f"{step}: skipped")
            elif varying.get(step):
                options = ", ".join(f"{k}={config.get(k)}" for k in sorted(varying[step]) if k in config)
                parts.append(f"{step}: {options}")
        descriptions[candidate.index] = "; ".join(parts) or "(same options)"
    return descriptions


def print_result(console: Console, result: WorkflowResult) -> None:
    """A metrics table: one row per measured value, one column per model."""
    keys: list[str] = []
    for evaluation in [result.input_evaluation, *(c.evaluation for c in result.candidates)]:
        if evaluation is not None:
            keys += [k for k in evaluation.values if k not in keys]
    if keys:
        shown = _shown_candidates(result)
        table = Table(title="metrics")
        table.add_column("metric")
        if result.input_evaluation is not None:
            table.add_column("input", justify="right")
        for candidate in shown:
            tag = " best" if candidate.index in result.best else " pareto" if candidate.index in result.pareto else ""
            table.add_column(f"#{candidate.index + 1}{tag}", justify="right")
        for key in keys:
            cells = [key]
            if result.input_evaluation is not None:
                cells.append(_fmt(result.input_evaluation.values.get(key)))
            for candidate in shown:
                evaluation = candidate.evaluation
                if evaluation is None:
                    cells.append("failed" if not candidate.ok else "-")
                    continue
                cell = _fmt(evaluation.values.get(key))
                goal = evaluation.goals.get(key)
                if goal is not None:
                    cell = f"[green]{cell}[/]" if goal.met else f"[red]{cell}[/] (goal {_fmt(goal.target)})"
                cells.append(cell)
            table.add_row(*cells)
        console.print(table)
        for index, text in describe_candidates(result.candidates, shown).items():
            console.print(f"  #{index + 1}: {text}")
        hidden = len(result.candidates) - len(shown)
        if hidden > 0:
            console.print(f"({hidden} more candidate(s) in run.json)")
    failed = [c for c in result.candidates if not c.ok]
    if result.ok:
        folders = ", ".join(str(result.output_dir / f) for f in result.written if f.startswith("model"))
        console.print(f"[green]done[/]: {len(result.candidates)} candidate(s), {len(failed)} failed; best model in {folders}")
    elif not result.candidates:
        console.print("[red]no model produced[/]: no candidate was run")
    elif len(failed) == len(result.candidates):
        console.print(f"[red]no model produced[/]: all {len(failed)} candidate(s) failed; see {result.output_dir / 'run.json'}")
    else:
        console.print(f"[red]no model produced[/]: no candidate met every goal; see {result.output_dir / 'run.json'}")
    if result.stopped_early:
        console.print(f"stopped early: {result.stopped_early}")
