"""Trackers: observers a workflow names in ``tracking: [{type, config}]`` (MLflow, a dashboard).

A plugin registers a :class:`Tracker` subclass with ``register_trackers``; a workflow that names
it gets one instance for its run, which receives that run's lifecycle hook calls as methods of
the same names and arguments, less ``run_id`` (see ``olive_core/hookspecs.py``).

A tracker must never cost the run anything. Core calls it on a thread of its own, in the order
the calls were made, so a slow or unreachable service never holds the run up. A tracker that
raises, or does not answer within its ``timeout_s``, is switched off for the rest of the run
with one warning, and the run goes on: run.json holds everything a tracker could have recorded.
At the end the run waits for what the tracker still has to send, at most ``timeout_s``.

What a tracker receives is scrubbed of variables' values and secret fields. Its own ``config``
is not (it may need a token to connect): never send or log it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, Field

from olive_core.bounds import STRICT_CONFIG

if TYPE_CHECKING:
    from olive_core.engine.result import CandidateResult, StepRecord, WorkflowResult
    from olive_core.models.handler import ModelHandler


#: ``result.stopped_early`` in ``on_workflow_end`` of a run stopped by Ctrl-C (KeyboardInterrupt)
STOPPED_BY_INTERRUPT = "interrupted"
#: the start of ``result.stopped_early`` of a run stopped by an error, followed by the error
STOPPED_BY_ERROR = "stopped by an error: "


class TrackerConfig(BaseModel):
    """Every tracker's config has a ``timeout_s``; subclasses add their own fields."""

    model_config = STRICT_CONFIG

    timeout_s: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="longest the run waits for this tracker: a call without an answer for this long switches "
        "the tracker off, and at the end the run waits at most this long for what it still has to send",
    )


@dataclass(frozen=True)
class TrackerContext:
    """What a tracker knows of its run besides the hook calls."""

    run_id: str
    #: the run's output folder: run.json, report.html and the chosen models land here
    output_dir: Path
    #: the workflow file, None for a workflow given as data
    workflow_file: str | None = None
    #: olive-core, plugin and key library versions, as run.json records them
    versions: dict[str, Any] = field(default_factory=dict)
    #: the CPU's model and speed flags, as run.json records them
    cpu: dict[str, Any] = field(default_factory=dict)


class Tracker:
    """Base class of trackers; override the calls you need (the others do nothing).

    The constructor runs on the tracker's thread and should only keep its arguments; connect in
    :meth:`on_workflow_start`. Import the service's client library inside the methods, never at
    module level: validating a workflow imports the tracker's module.
    """

    Config: ClassVar[type[TrackerConfig]] = TrackerConfig

    def __init__(self, config: TrackerConfig, context: TrackerContext) -> None:
        self.config = config
        self.context = context

    def on_workflow_start(self, workflow: dict[str, Any]) -> None:
        """The run begins; ``workflow`` is the validated workflow as JSON data, secrets removed."""

    def on_pass_start(self, step: str, pass_type: str, model: ModelHandler, config: dict[str, Any]) -> None:
        """A pass is about to run in this process (not when its result comes from the cache)."""

    def on_pass_end(
        self, step: str, pass_type: str, model: ModelHandler | None, error: str | None, cached: bool
    ) -> None:
        """A step of a chain ran, came from the cache (``cached``) or failed (``error``), in this process."""

    def on_evaluation_end(self, model: ModelHandler, metrics: dict[str, float]) -> None:
        """A model was evaluated in this process (the input model, or a candidate's output)."""

    def on_candidate_end(self, candidate: CandidateResult, steps: list[StepRecord]) -> None:
        """A candidate's trial finished, wherever it ran: its configs, metrics or error, and the
        record of each step of its chain (``status``: ran, cached or failed)."""

    def on_workflow_end(self, result: WorkflowResult) -> None:
        """The run ended (run.json and report.html are written), successful or not. A run that
        Ctrl-C stopped has ``result.stopped_early == STOPPED_BY_INTERRUPT``; one an error stopped,
        a reason starting with ``STOPPED_BY_ERROR``."""

    def close(self) -> None:
        """Release connections; called last, also after a failure."""


__all__ = ["STOPPED_BY_ERROR", "STOPPED_BY_INTERRUPT", "Tracker", "TrackerConfig", "TrackerContext"]
