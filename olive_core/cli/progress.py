"""What ``olive run`` shows while it runs: the engine's events (olive_core.engine.events) as
"trial i of N", the step at work, the time spent and the time left, and one line per finished
trial with its key metrics (the objectives, then the goals).

On a terminal a status line is redrawn in place under the finished trials' lines; elsewhere
(CI, a pipe) every change is a plain line of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from olive_core.engine.events import TrialDone, TrialPlan
from olive_core.evaluation.result import Evaluation


def format_value(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3e}"


def format_against(value: float, target: float) -> str:
    """``value`` with the digits it takes to read apart from a goal's ``target`` it differs from
    (0.98996 against a goal of 0.99, never "0.99 ... missed")."""
    for digits in range(4, 16):
        text = f"{value:.{digits}g}"
        if value == target or text != f"{target:.{digits}g}":
            return text
    return repr(value)


def format_duration(seconds: float) -> str:
    """``12.3s`` under a minute, else ``m:ss`` or ``h:mm:ss``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def key_metrics(evaluation: Evaluation, objectives: list[str]) -> str:
    """The objectives, then the goals not among them: ``loss 0.25 (goal <= 3: met)``."""
    parts = []
    for key in dict.fromkeys([*objectives, *evaluation.goals]):
        if key not in evaluation.values:
            continue
        goal = evaluation.goals.get(key)
        value = evaluation.values[key]
        shown = format_against(value, goal.target) if goal is not None and value is not None and abs(value) < 1e5 else format_value(value)
        text = f"{key} {shown}"
        if goal is not None:
            bound = "<=" if evaluation.directions.get(key) == "min" else ">="
            text += f" (goal {bound} {format_value(goal.target)}: {'met' if goal.met else 'missed'})"
        parts.append(text)
    return ", ".join(parts)


class Progress:
    """The engine's event sink for the console; a context manager around the run."""

    def __init__(self, console: Console, clock: Callable[[], float] = time.monotonic) -> None:
        self.console = console
        self.live = console.is_terminal
        self.clock = clock
        self.started = clock()
        self.plan: TrialPlan | None = None
        self.first_trial: float | None = None
        self.finished = 0
        #: trials under way -> what each is doing (a step's name, "evaluating")
        self.running: dict[int, str] = {}
        self.current: int | None = None
        self.activity = "starting"
        self._step_started = 0.0
        self._spinner = Spinner("dots")
        self._display: Live | None = None

    def __enter__(self) -> Progress:  # noqa: PYI034 - a final class
        if self.live:
            self._display = Live(
                console=self.console,
                get_renderable=self._render,
                refresh_per_second=4,
                transient=True,
                redirect_stdout=False,  # what libraries print is captured, not shown
                redirect_stderr=False,
            )
            self._display.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._display is not None:
            self._display.__exit__(*exc)
            self._display = None

    # -- events ------------------------------------------------------------------------------

    def event(self, kind: str, detail: Any) -> None:
        handler = getattr(self, f"_on_{kind}", None)
        if handler is not None:
            handler(detail)

    def _on_trials_planned(self, plan: TrialPlan) -> None:
        first = self.plan is None
        self.plan = plan
        if not first:
            return
        if plan.total is not None:
            self._line(f"{plan.total} trial{'s' if plan.total != 1 else ''} planned")
        elif plan.max_time_s is not None:
            self._line(f"trials until the time limit (max_time_s={plan.max_time_s:g})")

    def _on_trial_started(self, index: int) -> None:
        now = self.clock()
        self.first_trial = self.first_trial if self.first_trial is not None else now
        self.running[index] = "starting"
        self.current = index
        self._line(f"{self._trial(index)} started ({self._times(now)})", style="bold", live=False)

    def _on_step_started(self, step: str) -> None:
        self._step_started = self.clock()
        self._doing(step)
        self._line(f"  {step}: running", live=False)

    def _on_step_cached(self, step: str) -> None:
        self._line(f"  {step}: from cache", style="dim", live=False)

    def _on_step_finished(self, step: str) -> None:
        self._line(f"  {step}: done in {format_duration(self.clock() - self._step_started)}", live=False)

    def _on_evaluating(self, what: str) -> None:
        if what == "input model":
            self.activity = "evaluating the input model"
            self._line("evaluating the input model", live=False)
            return
        self._doing("evaluating")
        self._line("  evaluating", live=False)

    def _on_trial_done(self, done: TrialDone) -> None:
        self.finished += 1
        candidate = done.candidate
        self.running.pop(candidate.index, None)
        cached = done.cached_steps
        from_cache = ""
        if cached:
            every = len(cached) == len(done.steps)
            from_cache = " (all steps from cache)" if every else f" ({', '.join(cached)} from cache)"
        if candidate.ok:
            metrics = key_metrics(candidate.evaluation, self.plan.objectives if self.plan else []) if candidate.evaluation else ""
            text = f"{self._trial(candidate.index)} done in {format_duration(done.seconds)}{from_cache}"
            self._line(f"{text}: {metrics}" if metrics else text, style="green")
        else:
            text = f"{self._trial(candidate.index)} failed after {format_duration(done.seconds)}{from_cache}: {candidate.error}"
            self._line(text, style="red")

    # -- text --------------------------------------------------------------------------------

    def _doing(self, what: str) -> None:
        if self.current is not None and self.current in self.running:
            self.running[self.current] = what

    def _trial(self, index: int) -> str:
        total = self.plan.total if self.plan is not None else None
        return f"trial {index + 1} of {total}" if total is not None else f"trial {index + 1}"

    def _times(self, now: float) -> str:
        elapsed = f"{format_duration(now - self.started)} elapsed"
        left = self._left(now)
        return f"{elapsed}, {left}" if left else elapsed

    def _left(self, now: float) -> str:
        """The time left, from the pace of the trials finished so far."""
        plan = self.plan
        if plan is None or self.first_trial is None:
            return ""
        if self.finished == 0:
            return "estimating time left"
        spent = now - self.first_trial
        estimates = []
        if plan.total is not None and self.finished >= plan.total:
            return ""
        if plan.total is not None:
            estimates.append(max(plan.total - self.finished, 0) * spent / self.finished)
        if plan.max_time_s is not None:
            estimates.append(max(plan.max_time_s - spent, 0.0))
        return f"about {format_duration(min(estimates))} left" if estimates else ""

    def status(self) -> str:
        """The live status line: the trials under way and what they do, and the times."""
        now = self.clock()
        if not self.running:
            doing = self.activity if self.first_trial is None else "writing the output"
            return f"{doing} ({self._times(now)})"
        if len(self.running) == 1:
            index, doing = next(iter(self.running.items()))
            return f"{self._trial(index)}: {doing} ({self._times(now)})"
        numbers = ", ".join(str(i + 1) for i in sorted(self.running))
        total = f" of {self.plan.total}" if self.plan is not None and self.plan.total is not None else ""
        return f"trials {numbers}{total} running ({self._times(now)})"

    def _render(self) -> Spinner:
        self._spinner.update(text=Text(self.status()))
        return self._spinner

    def _line(self, text: str, style: str = "", live: bool = True) -> None:
        """Print a line; ``live=False`` ones only without a terminal, where no status line shows them."""
        if self.live and not live:
            return
        self.console.print(Text(text, style=style), soft_wrap=True)
