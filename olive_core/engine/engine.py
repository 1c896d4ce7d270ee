"""The engine: run candidates' pass chains through the cache, evaluate, choose, write.

Data flow: input model handle -> search space -> strategy proposes a point -> each step runs
(or comes from the cache) -> the output is evaluated -> the strategy learns -> the best model
so far and run.json are written after every trial, so a stopped run keeps what it found.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from olive_core.accelerators import AcceleratorSpec
from olive_core.cache.backend import CacheBackend
from olive_core.config.resolved import ResolvedWorkflow
from olive_core.engine.output import write_json_atomic, write_model
from olive_core.engine.result import RUN_FORMAT, CandidateResult, StepRecord, WorkflowResult, stopped_by
from olive_core.engine.runlog import RunLog
from olive_core.engine.events import EventSink, TrialDone, TrialPlan, planned_trials
from olive_core.engine.executors import InlineExecutor, TrialExecutor
from olive_core.engine.machine import describe_cpu
from olive_core.engine.selection import closest, objective_keys, pareto_front, pick_best, score, violation
from olive_core.engine.steps import StepRunner
from olive_core.engine.tracking import RunTrackers
from olive_core.engine.trial import TrialOutcome, TrialRequest, TrialRunner, run_trial_in_worker
from olive_core.engine.versions import collect_versions
from olive_core.errors import ConfigError, ExecutorError, OliveError
from olive_core.models.handler import ModelHandler
from olive_core.models.model_type import ModelType
from olive_core.plugins import OlivePluginManager
from olive_core.search.build import build_search_space, check_point
from olive_core.search.exhaustive import ExhaustiveSearch
from olive_core.tracking import TrackerContext
from olive_core.search.space import PASS_TYPE_KEY

logger = logging.getLogger(__name__)

@dataclass
class PlannedStep:
    step: str
    pass_type: str
    model_id: str
    cached: bool
    #: the step's full config for this candidate (redacted), to show what sets candidates apart
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class Trials:
    """Where this run's trials go: an executor, how many trials to keep in flight, and whether
    they run in this process (then with this engine's plugin manager and cache)."""

    executor: Executor
    slots: int
    in_process: bool
    #: the workflow's executor component, None for an executor the caller passed in
    backend: TrialExecutor | None = None

    def describe(self) -> dict[str, Any]:
        if self.backend is None:
            return {"type": type(self.executor).__name__, "slots": self.slots, "given_by_caller": True}
        return self.backend.describe()

    def close(self) -> None:
        if self.backend is not None:
            self.backend.close()


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class Engine:
    """Runs one resolved workflow."""

    def __init__(
        self,
        workflow: ResolvedWorkflow,
        manager: OlivePluginManager,
        output_dir: Path,
        cache: CacheBackend,
        raw_workflow: dict[str, Any] | None = None,
        on_event: EventSink | None = None,
        executor: Executor | None = None,
        cache_dir: str | None = None,
    ) -> None:
        self.workflow = workflow
        self.manager = manager
        self.output_dir = output_dir
        self.cache = cache
        self.redact = workflow.redactor
        self.raw_workflow_unredacted = raw_workflow or workflow.config.model_dump(mode="json")
        self.raw_workflow = self.redact(self.raw_workflow_unredacted)
        self.executor = executor
        self.cache_dir = cache_dir
        self.on_event = on_event or (lambda *args: None)
        self.model_type: ModelType = workflow.input_model.cls()
        self.run_id = new_run_id()
        self.started = time.time()
        #: the run's log file: log records and, from the CLI, the third-party output it captured
        self.log = RunLog(output_dir, self.run_id, self.redact.text, workflow.config.engine.log_level)
        self._trial_started: dict[int, float] = {}
        #: where trials ran, as run.json records it
        self._executor_info: dict[str, Any] | None = None

    # -- the input model ---------------------------------------------------------------------

    def input_model(self) -> ModelHandler:
        handle = self.model_type.create_handle("input_model", self.workflow.input_model.config, self.workflow.base_dir)
        if Path(handle.path).exists() and Path(handle.path).resolve().is_relative_to(self.output_dir):
            raise ConfigError(
                f"the input model '{handle.path}' lies in the output folder '{self.output_dir}', whose "
                "model folders every run replaces",
                path="input_model.config",
                source=self.workflow.source,
                hint="copy the model elsewhere, or write the output to another folder",
            )
        self.model_type.check(handle)
        return handle.model_copy(update={"id": self.model_type.content_id(handle)})

    def model_type_of(self, handle: ModelHandler) -> ModelType:
        return self.manager.registry.load("model_type", handle.type)()

    # -- dry run -----------------------------------------------------------------------------

    @contextmanager
    def _guarded(self) -> Iterator[None]:
        """Logs and errors of the run never quote a value from a variable."""
        with self.redact.guarding_logs():
            try:
                yield
            except OliveError as exc:
                self.redact.error(exc)
                raise

    @contextmanager
    def _tracking(self) -> Iterator[None]:
        """The workflow's trackers (``tracking``) get this run's lifecycle calls while it runs; at
        the end the run waits for them at most their ``timeout_s``."""
        if not self.workflow.trackers:
            yield
            return
        plugins = {source.distribution: source.version for source in self.manager.sources.values()}
        context = TrackerContext(self.run_id, self.output_dir, self.workflow.source, collect_versions(plugins), describe_cpu())
        trackers = RunTrackers.start(self.workflow.trackers, context, self.redact.text)
        self.manager.register(trackers, name=f"olive-tracking-{self.run_id}")
        try:
            yield
        finally:
            self.manager.unregister(trackers)
            trackers.finish()

    def plan(self) -> tuple[ModelHandler, list[list[PlannedStep]], int | None]:
        """The candidates a run would try (for discrete spaces), with what the cache holds."""
        with self._guarded():
            return self._plan()

    def _plan(self) -> tuple[ModelHandler, list[list[PlannedStep]], int | None]:
        input_model = self.input_model()
        space = build_search_space(self.workflow.steps, searching=self.workflow.search is not None)
        evaluator = self._evaluator(self.workflow.accelerators[0], input_model)
        runner = StepRunner(
            self.cache, self.manager.hook, self.run_id, data_key=evaluator.data_key if evaluator else None, redact=self.redact
        )
        plans: list[list[PlannedStep]] = []
        size = space.size()
        if size is not None and size <= 1000:
            for accelerator in self.workflow.accelerators:
                for point in space.enumerate():
                    configs = check_point(self.workflow.steps, point)
                    parent, chain = input_model, []
                    for step in self.workflow.steps:
                        chosen = configs[step.name]
                        if chosen is None:
                            continue
                        the_pass, step_config = chosen
                        model_id = runner.model_id(parent, the_pass, step_config, accelerator)
                        cached = self.cache.get_model(model_id) is not None
                        config = self.redact(step_config.model_dump(mode="json"))
                        if len(step.passes) > 1:  # which pass runs is what sets these apart
                            config = {PASS_TYPE_KEY: the_pass.type, **config}
                        chain.append(PlannedStep(step.name, the_pass.type, model_id, cached, config))
                        parent = parent.model_copy(update={"id": model_id})
                    plans.append(chain)
        return input_model, plans, size

    # -- the run -----------------------------------------------------------------------------

    def run(self) -> WorkflowResult:
        with self.log.recording(), self._guarded(), self._tracking():
            return self._run()

    def _run(self) -> WorkflowResult:
        input_model = self.input_model()
        trials = self._start_trials()  # first: an executor that cannot start stops the run before any work
        try:
            result = WorkflowResult(run_id=self.run_id, output_dir=self.output_dir, input_model=input_model)
            self.manager.hook.on_workflow_start(run_id=self.run_id, workflow=self.raw_workflow)
            try:
                for accelerator in self.workflow.accelerators:
                    self._run_accelerator(accelerator, input_model, result, trials)
            except BaseException as exc:  # run.json, the report and trackers say what stopped the run
                result.stopped_early = stopped_by(exc, self.redact.text)
                raise
            finally:
                self._finish(result)
                self.manager.hook.on_workflow_end(run_id=self.run_id, result=result.redacted(self.redact))
        finally:
            trials.close()
        return result

    def _run_accelerator(
        self, accelerator: AcceleratorSpec, input_model: ModelHandler, result: WorkflowResult, trials: Trials
    ) -> None:
        evaluator = self._evaluator(accelerator, input_model)
        if evaluator is not None and self.workflow.metrics and self.workflow.config.engine.evaluate_input_model:
            self.on_event("evaluating", "input model")
            evaluation = evaluator.evaluate(input_model)
            result.input_evaluation = result.input_evaluation or evaluation
            self.manager.hook.on_evaluation_end(run_id=self.run_id, model=self.redact.handle(input_model), metrics=evaluation.values)
        search = self.workflow.config.search
        space = build_search_space(self.workflow.steps, searching=self.workflow.search is not None)
        if space.size() is None and search.max_trials is None and search.max_time_s is None:
            raise ConfigError(
                "the search space has continuous ranges: set search.max_trials or search.max_time_s",
                path="search.max_trials",
                source=self.workflow.source,
            )
        keys = objective_keys(search.objectives, [f"{m.name}-{s}" for m in self.workflow.metrics for s in m.sub_metrics])
        if self.workflow.search is not None:
            strategy = self.workflow.search.cls(space, self.workflow.search.config, seed=search.seed, max_trials=search.max_trials)
        else:
            strategy = ExhaustiveSearch(space, None)
        total = planned_trials(strategy.planned_trials(), search.max_trials, len(self.workflow.accelerators))
        self.on_event("trials_planned", TrialPlan(total, accelerator.key(), keys, search.max_time_s, trials.slots))
        runner = TrialRunner(
            self.workflow,
            self.cache,
            self.manager.hook,
            self.run_id,
            accelerator,
            input_model,
            evaluator,
            self.on_event,
            registry=self.manager.registry,
        )
        deadline = time.monotonic() + search.max_time_s if search.max_time_s else None
        asked, exhausted = 0, False
        pending: dict[Future[TrialOutcome], tuple[int, dict[str, dict[str, Any]]]] = {}
        try:
            while True:
                while not exhausted and result.stopped_early is None and len(pending) < trials.slots:
                    if search.max_trials is not None and asked >= search.max_trials:
                        break
                    if deadline is not None and time.monotonic() > deadline:
                        result.stopped_early = f"reached max_time_s={search.max_time_s}"
                        break
                    point = strategy.ask()
                    if point is None:
                        exhausted = True
                        break
                    index = len(result.candidates) + len(pending)
                    pending[self._submit(trials, runner, accelerator, input_model, index, point)] = (index, point)
                    asked += 1
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: pending[f][0]):
                    index, point = pending.pop(future)
                    self._record(self._outcome(future, index, point, accelerator, trials), point, strategy, keys, result)
        finally:
            for future in pending:  # a run stopped by an error: trials not yet begun are dropped
                future.cancel()
        if not exhausted and result.stopped_early is None and search.max_trials is not None and asked >= search.max_trials:
            result.stopped_early = f"reached max_trials={search.max_trials}"

    def _start_trials(self) -> Trials:
        """The executor trials run on: the caller's, else the workflow's (``search.executor``)."""
        search = self.workflow.config.search
        if self.executor is not None:
            trials = Trials(self.executor, search.parallel_trials, isinstance(self.executor, InlineExecutor))
        else:
            component = self.workflow.executor
            assert component is not None, "a resolved workflow names its executor"
            backend: TrialExecutor = component.cls(component.config)
            explicit = search.parallel_trials if "parallel_trials" in search.model_fields_set else None
            try:
                executor = backend.start(explicit)
            except ExecutorError:
                backend.close()
                raise
            except Exception as exc:  # a backend's own failure to start, told as one error
                backend.close()
                raise ExecutorError(
                    f"executor '{component.type}' could not start: {type(exc).__name__}: {exc}",
                    hint="check search.executor.config, or run with --executor inline",
                ) from exc
            trials = Trials(executor, max(1, backend.slots), backend.in_process, backend)
            self._executor_info = {"type": component.type, **trials.describe()}
        if self._executor_info is None:
            self._executor_info = trials.describe()
        return trials

    def _outcome(
        self,
        future: Future[TrialOutcome],
        index: int,
        point: dict[str, dict[str, Any]],
        accelerator: AcceleratorSpec,
        trials: Trials,
    ) -> TrialOutcome:
        """A finished trial's outcome; a trial its executor lost (a worker killed, a pool broken)
        is a failed candidate with the reason, and the search goes on. An error the user can fix
        (a pass's check_input asking for data the workflow lacks) stops the run wherever the trial
        ran, as it does in this process, where any exception is raised as it is."""
        try:
            return future.result()
        except Exception as exc:
            if trials.in_process or isinstance(exc, OliveError):
                raise
            reason = f"{type(exc).__name__}: {exc}".strip().rstrip(":")
            logger.warning("trial %d was lost by its executor: %s", index + 1, reason)
            candidate = CandidateResult(index=index, accelerator=accelerator.key(), point=point)
            candidate.error = f"the executor could not run this trial: {reason}"
            return TrialOutcome(candidate)

    def _submit(
        self,
        trials: Trials,
        runner: TrialRunner,
        accelerator: AcceleratorSpec,
        input_model: ModelHandler,
        index: int,
        point: dict[str, dict[str, Any]],
    ) -> Future[TrialOutcome]:
        self._trial_started[index] = time.monotonic()
        logger.info("trial %d started on %s", index + 1, accelerator.key())
        self.on_event("trial_started", index)
        if trials.in_process:
            return trials.executor.submit(runner.run, index, point)
        request = TrialRequest(
            raw_workflow=self.raw_workflow_unredacted,
            source=self.workflow.source,
            base_dir=str(self.workflow.base_dir),
            manager_recipe=self.manager.recipe,
            cache_dir=self.cache_dir,
            run_id=self.run_id,
            accelerator=accelerator,
            input_model=input_model,
            index=index,
            point=point,
        )
        try:
            return trials.executor.submit(run_trial_in_worker, request)
        except Exception as exc:  # noqa: BLE001 - e.g. a broken process pool: this trial fails, the run goes on
            failed: Future[TrialOutcome] = Future()
            failed.set_exception(exc)
            return failed

    def _record(
        self,
        outcome: TrialOutcome,
        point: dict[str, dict[str, Any]],
        strategy: Any,
        keys: list[str],
        result: WorkflowResult,
    ) -> None:
        candidate = outcome.candidate
        for entry in outcome.logs:  # what the worker logged, into this run's log and console
            logging.getLogger(entry.name).log(entry.level, "%s", entry.message)
        for record in outcome.records:
            result.steps.setdefault(record.model_id, record)  # first use tells how it was made
        result.candidates.append(candidate)
        result.candidates.sort(key=lambda c: c.index)
        strategy.tell(point, score(candidate, keys), violation(candidate))
        shown = candidate.redacted(self.redact)
        self.on_event("candidate_done", shown)
        seconds = time.monotonic() - self._trial_started.pop(candidate.index, time.monotonic())
        if candidate.ok:
            logger.info("trial %d done after %.1fs", candidate.index + 1, seconds)
        else:  # a search expects some failures: INFO with the reason (run.json and the table keep it too)
            logger.info("trial %d failed after %.1fs: %s", candidate.index + 1, seconds, candidate.error)
        steps = [record.redacted(self.redact) for record in outcome.records]
        self.on_event("trial_done", TrialDone(shown, steps, seconds))
        self.manager.hook.on_candidate_end(run_id=self.run_id, candidate=shown, steps=steps)
        self._update_outputs(result, keys)
        search = self.workflow.config.search
        if search.stop_when_goals_met and candidate.evaluation is not None and candidate.evaluation.all_goals_met:
            result.stopped_early = "a candidate met every goal (stop_when_goals_met)"

    def _evaluator(self, accelerator: AcceleratorSpec, input_model: ModelHandler) -> Any:
        if not self.workflow.metrics and not self.workflow.data:
            return None
        from olive_core.evaluation.evaluator import Evaluator

        return Evaluator(self.workflow, self.manager.registry, self.cache, accelerator, input_model)

    # -- output ------------------------------------------------------------------------------

    def _update_outputs(self, result: WorkflowResult, keys: list[str]) -> None:
        """Rewrite the output folders whose content changed, then run.json."""
        result.best = pick_best(result.candidates, keys)
        result.pareto = pareto_front(result.candidates, keys)
        result.closest = closest(result.candidates)
        folders = {("model" if len(result.best) == 1 else f"model-{rank + 1}"): index for rank, index in enumerate(result.best)}
        folders.update({f"pareto/{rank + 1}": index for rank, index in enumerate(result.pareto)})
        folders.update({f"closest/{rank + 1}": index for rank, index in enumerate(result.closest)})
        if folders != result.written:
            self._write_models(result, folders)
        self._write_run_json(result)

    def _write_models(self, result: WorkflowResult, folders: dict[str, int]) -> None:
        for stale in set(result.written) - set(folders):
            shutil.rmtree(self.output_dir / stale, ignore_errors=True)
        for group in ("pareto", "closest"):
            if not any(folder.startswith(group + "/") for folder in folders):
                shutil.rmtree(self.output_dir / group, ignore_errors=True)
        for folder, index in folders.items():
            if result.written.get(folder) == index:
                continue
            candidate = result.candidate(index)
            metadata = {
                "olive": {
                    "run_id": self.run_id,
                    "candidate": index,
                    "lineage": candidate.lineage,
                    "metrics": candidate.evaluation.values if candidate.evaluation else None,
                }
            }
            model = self.redact.handle(candidate.model)  # type: ignore[arg-type]
            write_model(self.model_type_of(model), model, self.output_dir / folder, self.redact(metadata))
        result.written = folders

    @staticmethod
    def _pointer(result: WorkflowResult, index: int, group: str = "") -> dict[str, Any]:
        model = result.candidate(index).model
        output = next((f for f, i in result.written.items() if i == index and f.startswith(group)), None)
        return {"candidate": index, "model_id": model.id if model else None, "output": output}

    def _write_run_json(self, result: WorkflowResult) -> None:
        self.log.publish()  # first, so that the run.json written names this run's log
        write_json_atomic(self.output_dir / "run.json", self.redact(self.run_json(result)))

    def _finish(self, result: WorkflowResult) -> None:
        self._write_run_json(result)
        self._write_report()

    def _write_report(self) -> None:
        """report.html from the run.json just written; a report that cannot be made never fails
        the run, and a previous run's report is removed rather than left beside this run.json."""
        try:
            from olive_core.report import write_report

            write_report(self.output_dir / "run.json")
        except Exception as exc:  # noqa: BLE001 - the run's models and run.json are already written
            (self.output_dir / "report.html").unlink(missing_ok=True)
            logger.warning("report.html was not written: %s", exc)

    def run_json(self, result: WorkflowResult) -> dict[str, Any]:
        plugins = {source.distribution: source.version for source in self.manager.sources.values()}
        return {
            "format": RUN_FORMAT,
            "run_id": self.run_id,
            "started": self.started,
            "finished": time.time(),
            "workflow_file": self.workflow.source,
            "workflow": self.raw_workflow,
            "versions": collect_versions(plugins),
            "cpu": describe_cpu(),
            "accelerators": [_describe(a) for a in self.workflow.accelerators],
            "input_model": {
                **result.input_model.model_dump(mode="json"),
                "metrics": result.input_evaluation.to_json() if result.input_evaluation else None,
            },
            "models": {model_id: record.to_json() for model_id, record in result.steps.items()},
            "candidates": [c.to_json() for c in result.candidates],
            "best": [self._pointer(result, index, "model") for index in result.best],
            "pareto": [self._pointer(result, index, "pareto/") for index in result.pareto],
            "closest": [
                {**self._pointer(result, index, "closest/"), "violation": violation(result.candidate(index))}
                for index in result.closest
            ],
            "stopped_early": result.stopped_early,
            "executor": self._executor_info,
            "log": self.log.name,
        }


def _describe(accelerator: AcceleratorSpec) -> dict[str, Any]:
    """An accelerator as run.json records it; a simulated device says so, so that no figure
    measured on it passes for the device's speed."""
    return {
        "key": accelerator.key(),
        "device": accelerator.device,
        "provider": accelerator.execution_provider,
        "provider_options": accelerator.options(),
        "provider_version": accelerator.version,
        "simulated": accelerator.simulated,
    }


__all__ = ["Engine", "OliveError", "StepRecord"]
