"""The run's trackers: each fed the run's lifecycle hook calls on a thread of its own.

A tracker's failure never reaches the run. Its calls are queued and the hook returns at once;
a tracker that raises, or whose call has gone unanswered for longer than its ``timeout_s``, is
switched off with one warning and gets nothing more. At the end the run waits, for all trackers
together, at most the longest ``timeout_s``; a tracker still busy then is left behind (its thread
is a daemon) with the same one warning.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from olive_core import hookimpl
from olive_core.config.resolved import ResolvedComponent
from olive_core.tracking import Tracker, TrackerContext

logger = logging.getLogger("olive_core.tracking")

_STOP = object()


class TrackerThread:
    """One tracker, its queue of calls and the thread that makes them."""

    def __init__(self, label: str, make: Callable[[], Tracker], timeout_s: float, scrub: Callable[[str], str]) -> None:
        self.label = label
        self.timeout_s = timeout_s
        self._make = make
        self._scrub = scrub
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        #: why the tracker was switched off; None while it is on
        self.off: str | None = None
        self._busy_since: float | None = None
        self._thread = threading.Thread(target=self._work, name=f"olive-tracker-{label}", daemon=True)
        self._thread.start()

    def send(self, method: str, arguments: dict[str, Any]) -> None:
        """Queue a call; never blocks, never raises."""
        if self.off is not None:
            return
        busy_since = self._busy_since
        if busy_since is not None and time.monotonic() - busy_since > self.timeout_s:
            self._switch_off(f"a call got no answer within timeout_s={self.timeout_s:g}")
            return
        self._queue.put((method, arguments))

    def finish(self, deadline: float) -> None:
        """Let the tracker send what it has queued until ``deadline`` (a monotonic time), then
        leave it: a tracker still busy is switched off."""
        self._queue.put(_STOP)
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            self._switch_off(f"it had not sent everything after timeout_s={self.timeout_s:g}; the rest is dropped")

    def _work(self) -> None:
        tracker: Tracker | None = None
        try:
            tracker = self._call(self._make)
            while tracker is not None and self.off is None:
                item = self._queue.get()
                if item is _STOP:
                    break
                method, arguments = item
                self._call(partial(getattr(tracker, method), **arguments))
        finally:
            if tracker is not None:
                self._call(tracker.close)

    def _call(self, function: Callable[[], Any]) -> Any:
        """Run one call of the tracker; a failure switches it off (returns None then)."""
        self._busy_since = time.monotonic()
        try:
            return function()
        except BaseException as exc:  # a tracker's failure must never reach the run
            logger.debug("tracker %s raised", self.label, exc_info=True)
            first_line = (str(exc).strip().splitlines() or [""])[0][:500]
            self._switch_off(f"{type(exc).__name__}: {first_line}".rstrip(": "))
            return None
        finally:
            self._busy_since = None

    def _switch_off(self, reason: str) -> None:
        with self._lock:
            if self.off is not None:
                return
            self.off = reason
        logger.warning(
            "tracker %s is off for the rest of this run: %s (the run goes on; run.json records everything)",
            self.label,
            self._scrub(reason),
        )


class RunTrackers:
    """The pluggy plugin object that hands one run's lifecycle calls to that run's trackers.

    Registered on the plugin manager for the run only; calls of other runs (a manager shared
    by several engines) are ignored.
    """

    olive_plugin_api = "1.0"

    def __init__(self, run_id: str, threads: list[TrackerThread]) -> None:
        self.run_id = run_id
        self.threads = threads

    @classmethod
    def start(cls, components: list[ResolvedComponent], context: TrackerContext, scrub: Callable[[str], str]) -> RunTrackers:
        threads = []
        for index, component in enumerate(components):

            def make(component: ResolvedComponent = component) -> Tracker:
                return component.cls(component.config, context)

            label = f"'{component.type}' (tracking.{index})"
            threads.append(TrackerThread(label, make, component.config.timeout_s, scrub))
        return cls(context.run_id, threads)

    def finish(self) -> None:
        """Wait for the trackers together, at most the longest ``timeout_s`` in all."""
        started = time.monotonic()
        for thread in self.threads:
            thread.finish(started + thread.timeout_s)

    def _send(self, run_id: str, method: str, **arguments: Any) -> None:
        if run_id != self.run_id:
            return
        for thread in self.threads:
            thread.send(method, arguments)

    @hookimpl
    def on_workflow_start(self, run_id: str, workflow: dict[str, Any]) -> None:
        self._send(run_id, "on_workflow_start", workflow=workflow)

    @hookimpl
    def on_pass_start(self, run_id: str, step: str, pass_type: str, model: Any, config: dict[str, Any]) -> None:
        self._send(run_id, "on_pass_start", step=step, pass_type=pass_type, model=model, config=config)

    @hookimpl
    def on_pass_end(self, run_id: str, step: str, pass_type: str, model: Any, error: str | None, cached: bool) -> None:
        self._send(run_id, "on_pass_end", step=step, pass_type=pass_type, model=model, error=error, cached=cached)

    @hookimpl
    def on_evaluation_end(self, run_id: str, model: Any, metrics: dict[str, float]) -> None:
        self._send(run_id, "on_evaluation_end", model=model, metrics=dict(metrics))

    @hookimpl
    def on_candidate_end(self, run_id: str, candidate: Any, steps: list[Any]) -> None:
        self._send(run_id, "on_candidate_end", candidate=candidate, steps=list(steps))

    @hookimpl
    def on_workflow_end(self, run_id: str, result: Any) -> None:
        self._send(run_id, "on_workflow_end", result=result)
