"""The ``mlflow`` tracker: its config, and the calls it turns into MLflow runs.

This module is imported when a workflow naming the tracker is validated, so it imports nothing
of mlflow: :mod:`olive_mlflow.recorder` (which does) loads on the tracker's own thread when the
run starts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, model_validator

from olive_core.tracking import Tracker, TrackerConfig

if TYPE_CHECKING:
    from olive_core.engine.result import CandidateResult, StepRecord, WorkflowResult
    from olive_mlflow.recorder import MlflowRecorder


class MlflowTrackerConfig(TrackerConfig):
    """Where the runs go and what is logged besides params, metrics and tags."""

    tracking_uri: str | None = Field(
        default=None,
        min_length=1,
        max_length=2000,
        description="an MLflow server (http://127.0.0.1:5000), a database (sqlite:///runs.db) or 'databricks'; "
        "credentials come from MLflow's own variables (MLFLOW_TRACKING_TOKEN, ...) or a ${VAR}. "
        "Default: an embedded SQLite store in the output folder (mlflow/mlflow.db), which needs no server",
    )
    experiment: str = Field(default="olive", min_length=1, max_length=500, description="the MLflow experiment runs go to (created if missing)")
    run_name: str | None = Field(
        default=None, min_length=1, max_length=250, description="name of the run's parent run; default: the workflow file's name and olive's run id"
    )
    register_model: str | None = Field(
        default=None,
        min_length=1,
        max_length=250,
        description="register the best model in the MLflow model registry under this name (a new version each run), "
        "with its metrics as version tags",
    )
    log_models: Literal["best", "pareto", "none"] = Field(
        default="best",
        description="model folders logged as artifacts of their candidate's run: the best model's, also every "
        "Pareto model's, or none",
    )

    @model_validator(mode="after")
    def _registering_needs_the_files(self) -> MlflowTrackerConfig:
        if self.register_model is not None and self.log_models == "none":
            raise ValueError("register_model needs the model's files in MLflow: set log_models to 'best' or 'pareto'")
        return self


class MlflowTracker(Tracker):
    """One parent run per olive run, one nested run per candidate (see the plugin's README)."""

    Config = MlflowTrackerConfig

    recorder: MlflowRecorder | None = None

    def on_workflow_start(self, workflow: dict[str, Any]) -> None:
        from olive_mlflow.recorder import MlflowRecorder

        self.recorder = MlflowRecorder(self.config, self.context)  # type: ignore[arg-type]
        self.recorder.start(workflow)

    def on_candidate_end(self, candidate: CandidateResult, steps: list[StepRecord]) -> None:
        if self.recorder is not None:
            self.recorder.candidate(candidate, steps)

    def on_workflow_end(self, result: WorkflowResult) -> None:
        if self.recorder is not None:
            self.recorder.end(result)
