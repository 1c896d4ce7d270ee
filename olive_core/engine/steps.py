"""Run one pass step through the cache: look up, else run (with retries and fallback) and store."""

from __future__ import annotations

import logging
import time
import traceback
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from olive_core.accelerators import AcceleratorSpec
from olive_core.cache.backend import CacheBackend
from olive_core.config.resolved import ResolvedPass
from olive_core.engine.gather import gather_model
from olive_core.engine.result import StepRecord
from olive_core.errors import IncompatibleModelError, OliveError
from olive_core.models.handler import ModelHandler
from olive_core.models.hashing import derived_model_id
from olive_core.passes.base import PassContext, PassRecords
from olive_core.redaction import Redactor
from olive_core.registry import Registry

logger = logging.getLogger(__name__)


@dataclass
class StepOutcome:
    model: ModelHandler | None
    record: StepRecord


class StepRunner:
    """Runs pass steps with caching; the engine owns one per run."""

    def __init__(
        self,
        cache: CacheBackend,
        hooks: Any,
        run_id: str,
        retries: int = 0,
        data: Any = None,
        on_event: Any = None,
        runtime_settings: dict[str, Any] | None = None,
        data_key: Any = None,
        redact: Redactor | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.cache = cache
        self.registry = registry
        self.hooks = hooks
        self.run_id = run_id
        self.retries = retries
        self.data = data
        self.on_event = on_event or (lambda *args: None)
        self.runtime_settings = runtime_settings or {}
        #: ``data_key(name)``: the content key of a data config, for passes that read data
        self.data_key = data_key
        #: what hooks and the cache get is scrubbed of variables' values and secret fields
        self.redact = redact or Redactor()

    def model_id(self, parent: ModelHandler, step: ResolvedPass, config: BaseModel, accelerator: AcceleratorSpec) -> str:
        names = step.cls.data_names(config)
        data = {name: self.data_key(name) for name in names.values()} if names and self.data_key else None
        return derived_model_id(parent.id, step.type, step.cls.version, config.model_dump(mode="json"), accelerator.key(), data)

    def run(self, parent: ModelHandler, step: ResolvedPass, config: BaseModel, accelerator: AcceleratorSpec) -> StepOutcome:
        model_id = self.model_id(parent, step, config, accelerator)
        outcome = self._from_cache(parent, step, config, accelerator, model_id)
        if outcome is not None:
            return outcome
        # Parallel trials sharing a prefix: the second waits for the first, then reuses its result.
        with self.cache.step_lock(model_id):
            return self._from_cache(parent, step, config, accelerator, model_id) or self._compute(
                parent, step, config, accelerator, model_id
            )

    def _record(self, parent: ModelHandler, step: ResolvedPass, config: BaseModel, accelerator: AcceleratorSpec, model_id: str) -> StepRecord:
        return StepRecord(
            model_id=model_id,
            parent_id=parent.id,
            step=step.name,
            pass_type=step.type,
            pass_version=step.cls.version,
            config=config.model_dump(mode="json"),
            accelerator=accelerator.key(),
            status="cached",
        )

    def _from_cache(
        self, parent: ModelHandler, step: ResolvedPass, config: BaseModel, accelerator: AcceleratorSpec, model_id: str
    ) -> StepOutcome | None:
        cached = self.cache.get_model(model_id)
        if cached is None:
            return None
        if self.registry is not None:
            cached = self.registry.load("model_type", cached.type)().from_cache(cached, parent)
        record = self._record(parent, step, config, accelerator, model_id)
        info = self.cache.get_record("step", model_id) or {}
        record.report, record.warnings = info.get("report", {}), info.get("warnings", [])
        logger.info("%s (%s): from the cache (%s)", step.name, step.type, model_id[:12])
        self.on_event("step_cached", step.name)
        self._pass_end(step, cached, None, cached=True)
        return StepOutcome(cached, record)

    def _compute(
        self, parent: ModelHandler, step: ResolvedPass, config: BaseModel, accelerator: AcceleratorSpec, model_id: str
    ) -> StepOutcome:
        record = self._record(parent, step, config, accelerator, model_id)
        attempts: list[tuple[BaseModel, bool]] = [(config, False)] * (1 + self.retries)
        if step.fallback is not None:
            attempts.append((step.fallback, True))
        error = "no attempt was made"
        for number, (attempt_config, is_fallback) in enumerate(attempts, start=1):
            attempt_id = model_id if not is_fallback else self.model_id(parent, step, attempt_config, accelerator)
            record.attempts, record.used_fallback = number, is_fallback
            if is_fallback:
                record.model_id, record.config = attempt_id, attempt_config.model_dump(mode="json")
                logger.warning("%s: retrying with the fallback config after: %s", step.name, error)
            model, error, retryable = self._attempt(parent, step, attempt_config, accelerator, attempt_id, record)
            if model is not None:
                record.status, record.error = "ran", None
                self._pass_end(step, model, None, cached=False)
                return StepOutcome(model, record)
            if not retryable:
                break
        record.status, record.error = "failed", error
        self._pass_end(step, None, error, cached=False)
        return StepOutcome(None, record)

    def _self_contained(self, produced: ModelHandler, output_dir: Any) -> ModelHandler:
        """The output with the files it still shares with its input copied into its own folder."""
        if self.registry is None:
            return produced
        return gather_model(self.registry.load("model_type", produced.type)(), produced, output_dir)

    def _pass_end(self, step: ResolvedPass, model: ModelHandler | None, error: str | None, cached: bool) -> None:
        self.hooks.on_pass_end(
            run_id=self.run_id,
            step=step.name,
            pass_type=step.type,
            model=self.redact.handle(model) if model is not None else None,
            error=self.redact.text(error) if error else error,
            cached=cached,
        )

    def _attempt(
        self,
        parent: ModelHandler,
        step: ResolvedPass,
        config: BaseModel,
        accelerator: AcceleratorSpec,
        model_id: str,
        record: StepRecord,
    ) -> tuple[ModelHandler | None, str, bool]:
        """Run the pass once; returns (model, error, whether a retry may help)."""
        the_pass = step.cls()
        context = PassContext(
            accelerator=accelerator,
            step=step.name,
            data=self.data,
            runtime_settings=dict(self.runtime_settings),
            data_key=self.data_key,
            records=PassRecords(self.cache.get_record, self.cache.put_record, f"pass:{step.type}"),
        )
        self.on_event("step_started", step.name)
        logger.info("%s (%s): running", step.name, step.type)
        started = time.perf_counter()
        try:
            the_pass.check_input(parent, config, context)
        except IncompatibleModelError as exc:
            return None, str(exc), False
        self.hooks.on_pass_start(
            run_id=self.run_id,
            step=step.name,
            pass_type=step.type,
            model=self.redact.handle(parent),
            config=self.redact(config.model_dump(mode="json")),
        )
        with self.cache.staging() as output_dir:
            try:
                produced = the_pass.run(parent, config, output_dir, context)
            except OliveError as exc:
                return None, str(exc), True
            except Exception as exc:  # a pass's own failure: keep the reason, log the traceback
                logger.debug("pass %s raised:\n%s", step.name, traceback.format_exc())
                return None, f"{type(exc).__name__}: {exc}", True
            if not isinstance(produced, ModelHandler):
                return None, f"{step.type}.run returned {type(produced).__name__}, not a ModelHandler", False
            if produced.type != step.cls.output_type_for(parent.type):
                declared = step.cls.output_type_for(parent.type)
                return None, f"{step.type} declares '{declared}' outputs but returned a '{produced.type}' model", False
            try:
                produced = self._self_contained(produced, output_dir)
            except OliveError as exc:
                return None, str(exc), False
            # what is cached never holds a variable's value or a secret: later steps (and later
            # runs, from the cache) see the same scrubbed handle
            produced = self.redact.handle(produced.model_copy(update={"id": model_id}))
            record.seconds = time.perf_counter() - started
            record.report, record.warnings = self.redact(dict(context.report)), self.redact(list(context.warnings))
            info = {"pass_type": step.type, "step": step.name, "parent": parent.id}
            stored = self.cache.put_model(model_id, produced, output_dir, info)
            self.cache.put_record("step", model_id, {"report": record.report, "warnings": record.warnings})
        logger.info("%s (%s): done in %.1fs", step.name, step.type, record.seconds)
        self.on_event("step_finished", step.name)
        return stored, "", True
