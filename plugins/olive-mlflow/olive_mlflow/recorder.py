"""What an olive run becomes in MLflow, written through ``mlflow.MlflowClient``.

- A parent run per olive run: the workflow as params (and as workflow.json), olive's, the
  plugins' and key libraries' versions and the CPU's speed flags as tags; at the end the input
  and best models' metrics, run.json and report.html.
- A nested run per candidate: its pass configs as params, every metric, its lineage as a tag,
  how each step was obtained (``olive.step.<step>``: ran, cached or failed), FAILED with the
  reason for a failed candidate.
- Work taken from the cache is logged as such: a candidate whose steps all came from the cache
  is tagged ``olive.work: cached`` and no step time is logged for it; a parent run repeating a
  workflow whose earlier run did not finish (killed, failed) names it in ``olive.resumed_from``.
- The best model's folder (and with ``log_models: pareto`` each Pareto model's) logged under
  ``model/`` of its candidate's run and, with ``register_model``, registered with its metrics.

This module imports mlflow; only the tracker's thread imports it, when a run starts.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunStatus, RunTag
from mlflow.exceptions import MlflowException
from mlflow.utils.time import get_current_time_millis

from olive_core.tracking import STOPPED_BY_ERROR, STOPPED_BY_INTERRUPT
from olive_mlflow.params import MAX_TAG_VALUE, flatten, key, value

if TYPE_CHECKING:
    from olive_core.engine.result import CandidateResult, StepRecord, WorkflowResult
    from olive_core.tracking import TrackerContext
    from olive_mlflow.tracker import MlflowTrackerConfig

#: MLflow's limit of params or tags in one log_batch call
BATCH = 100
#: the default store's folder inside the output folder
EMBEDDED_FOLDER = "mlflow"


def default_tracking_uri(output_dir: Path) -> str:
    return f"sqlite:///{(output_dir / EMBEDDED_FOLDER / 'mlflow.db').resolve()}"


def client_settings(timeout_s: float) -> None:
    """MLflow retries a failed request 7 times with growing pauses (minutes in all); a tracker
    that gives up after ``timeout_s`` needs far fewer. It also prints each run's URL on stdout,
    which is not olive's output. The user's own settings win."""
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(max(1, int(timeout_s))))


class MlflowRecorder:
    """One olive run's MLflow runs."""

    def __init__(self, config: MlflowTrackerConfig, context: TrackerContext) -> None:
        self.config = config
        self.context = context
        client_settings(config.timeout_s)
        self.embedded = config.tracking_uri is None
        uri = default_tracking_uri(context.output_dir) if self.embedded else config.tracking_uri
        if self.embedded:
            (context.output_dir / EMBEDDED_FOLDER).mkdir(parents=True, exist_ok=True)
        self.client = MlflowClient(tracking_uri=uri, registry_uri=uri)
        self.experiment_id = ""
        self.parent_id = ""
        #: candidate index -> its nested run's id
        self.children: dict[int, str] = {}
        self.steps_ran = 0
        self.steps_cached = 0

    # -- the parent run ----------------------------------------------------------------------

    def start(self, workflow: dict[str, Any]) -> None:
        self.experiment_id = self._experiment()
        digest = workflow_hash(workflow)
        tags = {
            "olive.kind": "workflow",
            "olive.run_id": self.context.run_id,
            "olive.workflow_hash": digest,
            "olive.output_dir": str(self.context.output_dir),
            **version_tags(self.context.versions),
            **cpu_tags(self.context.cpu),
        }
        if self.context.workflow_file:
            tags["olive.workflow_file"] = self.context.workflow_file
            tags["mlflow.source.name"] = self.context.workflow_file
        if workflow.get("description"):
            tags["mlflow.note.content"] = workflow["description"]
        previous = self._previous_run(digest)
        if previous is not None and previous.info.status != RunStatus.to_string(RunStatus.FINISHED):
            tags["olive.resumed_from"] = previous.info.run_id
        name = self.config.run_name or f"{Path(self.context.workflow_file or 'workflow').stem} {self.context.run_id}"
        run = self.client.create_run(self.experiment_id, run_name=name, tags=_tags(tags))
        self.parent_id = run.info.run_id
        self._log(self.parent_id, params=flatten(workflow))
        self.client.log_dict(self.parent_id, workflow, "workflow.json")

    def _experiment(self) -> str:
        name = self.config.experiment
        experiment = self.client.get_experiment_by_name(name)
        if experiment is None:
            location = (self.context.output_dir / EMBEDDED_FOLDER / "artifacts").resolve().as_uri() if self.embedded else None
            try:
                return self.client.create_experiment(name, artifact_location=location)
            except MlflowException:  # created meanwhile by another run
                experiment = self.client.get_experiment_by_name(name)
                if experiment is None:
                    raise
        if experiment.lifecycle_stage != "active":
            raise MlflowException(f"experiment '{name}' is deleted: restore it (mlflow experiments restore) or choose another")
        return experiment.experiment_id

    def _previous_run(self, digest: str) -> Any:
        runs = self.client.search_runs(
            [self.experiment_id],
            filter_string=f"tags.`olive.workflow_hash` = '{digest}'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        return runs[0] if runs else None

    # -- candidates --------------------------------------------------------------------------

    def candidate(self, candidate: CandidateResult, steps: list[StepRecord]) -> None:
        statuses = {record.step: record.status for record in steps}
        self.steps_ran += sum(status == "ran" for status in statuses.values())
        self.steps_cached += sum(status == "cached" for status in statuses.values())
        tags = {
            "mlflow.parentRunId": self.parent_id,
            "olive.kind": "candidate",
            "olive.candidate": str(candidate.index + 1),
            "olive.accelerator": candidate.accelerator,
            "olive.lineage": " > ".join(candidate.lineage),
            "olive.work": work_of(steps, candidate),
            **{f"olive.step.{step}": status for step, status in statuses.items()},
        }
        if candidate.model is not None:
            tags["olive.model_id"] = candidate.model.id
        if candidate.evaluation is not None:
            tags["olive.evaluation"] = "cached" if candidate.evaluation.cached else "measured"
        if candidate.error:
            tags["olive.error"] = candidate.error
            tags["mlflow.note.content"] = candidate.error
        params = {}
        for step, config in candidate.point.items():
            params[f"{step}.type"] = next((r.pass_type for r in steps if r.step == step), "skipped")
            if config is not None:
                params.update(flatten(config, step))
        metrics = dict(candidate.evaluation.values) if candidate.evaluation is not None else {}
        metrics.update({f"time_s/{r.step}": r.seconds for r in steps if r.status == "ran"})
        run = self.client.create_run(self.experiment_id, run_name=f"candidate {candidate.index + 1}", tags=_tags(tags))
        self.children[candidate.index] = run.info.run_id
        self._log(run.info.run_id, params=params, metrics=metrics)
        self.client.set_terminated(run.info.run_id, "FINISHED" if candidate.ok else "FAILED")

    # -- the end -----------------------------------------------------------------------------

    def end(self, result: WorkflowResult) -> None:
        metrics: dict[str, float] = {
            "olive.candidates": len(result.candidates),
            "olive.candidates_failed": sum(not c.ok for c in result.candidates),
            "olive.steps_ran": self.steps_ran,
            "olive.steps_cached": self.steps_cached,
        }
        if result.input_evaluation is not None:
            metrics.update({f"input/{k}": v for k, v in result.input_evaluation.values.items()})
        best = result.best_candidates
        if best and best[0].evaluation is not None:
            metrics.update({f"best/{k}": v for k, v in best[0].evaluation.values.items()})
        tags = {"olive.work": "cached" if self.steps_cached and not self.steps_ran else ("ran" if not self.steps_cached else "partly cached")}
        if best:
            tags["olive.best_candidate"] = " ".join(str(c.index + 1) for c in best)
        if result.stopped_early:
            tags["olive.stopped_early"] = result.stopped_early
        self._log(self.parent_id, metrics=metrics, tags=tags)
        for index in result.best:
            self._tag_child(index, "olive.best")
        for index in result.pareto:
            self._tag_child(index, "olive.pareto")
        for name in ("run.json", "report.html"):
            if (self.context.output_dir / name).is_file():
                self.client.log_artifact(self.parent_id, str(self.context.output_dir / name))
        self._log_models(result)
        if self.config.register_model and best:
            self._register(best[0])
        self.client.set_terminated(self.parent_id, final_status(result))

    def _tag_child(self, index: int, tag: str) -> None:
        if index in self.children:
            self.client.set_tag(self.children[index], tag, "true")

    def _log_models(self, result: WorkflowResult) -> None:
        """Each chosen model folder under ``model/`` of its candidate's run (once per candidate)."""
        if self.config.log_models == "none":
            return
        logged: set[int] = set()
        for folder, index in sorted(result.written.items()):
            chosen = folder == "model" or folder.startswith("model-") or (self.config.log_models == "pareto" and folder.startswith("pareto/"))
            path = self.context.output_dir / folder
            if not chosen or index in logged or not path.is_dir():
                continue
            run_id = self.children.get(index, self.parent_id)
            self.client.log_artifacts(run_id, str(path), "model" if run_id != self.parent_id else f"models/{folder}")
            logged.add(index)

    def _register(self, candidate: CandidateResult) -> None:
        run_id = self.children.get(candidate.index)
        if run_id is None:
            return
        name = self.config.register_model
        try:
            self.client.create_registered_model(name, description="olive-core models (olive-mlflow)")
        except MlflowException as exc:
            if exc.error_code != "RESOURCE_ALREADY_EXISTS":
                raise
        metrics = candidate.evaluation.values if candidate.evaluation is not None else {}
        tags = {f"olive.metric.{key(k)}": value(v) for k, v in metrics.items()}
        tags.update({"olive.run_id": self.context.run_id, "olive.candidate": str(candidate.index + 1)})
        if candidate.model is not None:
            tags["olive.model_id"] = candidate.model.id
        source = f"{self.client.get_run(run_id).info.artifact_uri}/model"
        summary = ", ".join(f"{k} {v:g}" for k, v in metrics.items())
        self.client.create_model_version(
            name,
            source,
            run_id=run_id,
            tags=tags,
            description=f"olive run {self.context.run_id}, candidate {candidate.index + 1}" + (f": {summary}" if summary else ""),
            await_creation_for=0,  # the registry copies nothing: the version points at the run's artifacts
        )

    # -- writing -----------------------------------------------------------------------------

    def _log(
        self, run_id: str, params: dict[str, str] | None = None, metrics: dict[str, float] | None = None, tags: dict[str, str] | None = None
    ) -> None:
        """log_batch within MLflow's limit of 100 params or tags per call."""
        now = get_current_time_millis()
        param_list = [Param(key(k), value(v)) for k, v in (params or {}).items()]
        tag_list = [RunTag(k, v) for k, v in _tags(tags or {}).items()]
        metric_list = [Metric(key(k), float(v), now, 0) for k, v in (metrics or {}).items()]
        for start in range(0, max(len(param_list), len(tag_list), 1), BATCH):
            self.client.log_batch(
                run_id,
                metrics=metric_list if start == 0 else [],
                params=param_list[start : start + BATCH],
                tags=tag_list[start : start + BATCH],
            )


def final_status(result: WorkflowResult) -> str:
    """KILLED for a run Ctrl-C stopped (the next run of the workflow resumes it), FAILED for one an
    error stopped or that found no model, else FINISHED."""
    if result.stopped_early == STOPPED_BY_INTERRUPT:
        return "KILLED"
    if not result.ok or (result.stopped_early or "").startswith(STOPPED_BY_ERROR):
        return "FAILED"
    return "FINISHED"


def workflow_hash(workflow: dict[str, Any]) -> str:
    """What makes two runs the same work: the workflow less how it is tracked and described."""
    same = {k: v for k, v in workflow.items() if k not in ("tracking", "description")}
    return hashlib.sha256(json.dumps(same, sort_keys=True, default=str).encode()).hexdigest()[:16]


def work_of(steps: list[StepRecord], candidate: CandidateResult) -> str:
    """``cached`` when nothing ran for this candidate, ``ran`` when nothing came from the cache."""
    statuses = {record.status for record in steps}
    evaluation_cached = candidate.evaluation is None or candidate.evaluation.cached
    if "ran" not in statuses and "failed" not in statuses and evaluation_cached:
        return "cached"
    if "cached" not in statuses and not (candidate.evaluation is not None and candidate.evaluation.cached):
        return "ran"
    return "partly cached"


def version_tags(versions: dict[str, Any]) -> dict[str, str]:
    tags = {"olive.version": str(versions.get("olive-core")), "olive.python": str(versions.get("python")), "olive.platform": str(versions.get("platform"))}
    tags.update({f"olive.plugin.{name}": str(v) for name, v in (versions.get("plugins") or {}).items()})
    tags.update({f"olive.library.{name}": str(v) for name, v in (versions.get("libraries") or {}).items()})
    return tags


def cpu_tags(cpu: dict[str, Any]) -> dict[str, str]:
    return {
        "olive.cpu.model": str(cpu.get("model")),
        "olive.cpu.cores": str(cpu.get("logical_cores")),
        "olive.cpu.flags": " ".join(cpu.get("flags") or []) or "unknown",
    }


def _tags(tags: dict[str, str]) -> dict[str, str]:
    return {key(k) if not k.startswith("mlflow.") else k: value(v, MAX_TAG_VALUE) for k, v in tags.items()}
