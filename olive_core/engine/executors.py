"""Where a search's trials run: the executor contract, and core's ``inline`` and ``process``.

A :class:`TrialExecutor` is a registered component (``search.executor: {type, config}``) that
starts a ``concurrent.futures`` executor for one run and stops it at the end. Trials sent to
another process travel as a picklable :class:`~olive_core.engine.trial.TrialRequest`, from
which the worker rebuilds plugins, workflow and cache, so an executor needs nothing else.

:class:`InlineExecutor` runs each call at once, in this process: with it, sequential and
parallel trials go through one engine loop, and the in-process path keeps the caller's plugin
manager (plugins registered on it in tests or by an application).
"""

from __future__ import annotations

import multiprocessing
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, Field

from olive_core.bounds import STRICT_CONFIG

T = TypeVar("T")


class InlineExecutor(Executor):
    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered through the future, like any executor
            future.set_exception(exc)
        return future


class ExecutorConfig(BaseModel):
    model_config = STRICT_CONFIG


class TrialExecutor(ABC):
    """A backend that runs trials: started once per run, stopped when the run ends.

    Subclasses set ``Config`` (their options), implement :meth:`start`, and say where their
    workers run (:meth:`on_this_machine`), which decides the caches they can share.
    """

    Config: ClassVar[type[ExecutorConfig]] = ExecutorConfig
    #: trials run in the engine's own process, with its plugin manager and open cache
    in_process: ClassVar[bool] = False
    #: the config field with which a user says every worker runs on this machine, if any
    same_machine_option: ClassVar[str | None] = None

    def __init__(self, config: ExecutorConfig | None = None) -> None:
        self.config = config if config is not None else self.Config()
        #: trials to keep in flight, known once started
        self.slots = 1

    @classmethod
    def on_this_machine(cls, config: ExecutorConfig) -> bool:
        """Whether every worker runs on this machine, so that a local cache folder (its file
        locks and SQLite records) is shared safely; False sends results across machines only
        through a cache backend with a remote tier."""
        return True

    @abstractmethod
    def start(self, parallel_trials: int | None) -> Executor:
        """Start (or connect to) the backend and return the executor trials are submitted to;
        set :attr:`slots`. ``parallel_trials`` is ``search.parallel_trials`` when the workflow
        sets it, else None (the backend chooses, e.g. one trial per worker thread). A backend
        that cannot start raises :class:`~olive_core.errors.ExecutorError` before any trial runs."""

    def close(self) -> None:
        """Stop what :meth:`start` started; cancel trials not yet begun."""

    def describe(self) -> dict[str, Any]:
        """What run.json records about where the trials ran."""
        return {"slots": self.slots}


class InlineTrialExecutor(TrialExecutor):
    """One trial at a time, in this process (the default with ``parallel_trials: 1``)."""

    in_process = True

    def start(self, parallel_trials: int | None) -> Executor:
        self.slots = 1
        return InlineExecutor()


class RenewingProcessPool(Executor):
    """A pool of spawned processes that starts afresh when one of them dies (killed for memory,
    a crash in native code). ``ProcessPoolExecutor`` then fails every trial in flight and refuses
    all later ones; here the trials in flight are lost, and the next one starts a new pool."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.max_workers, mp_context=multiprocessing.get_context("spawn"))

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        try:
            return self._pool.submit(fn, *args, **kwargs)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._new_pool()
            return self._pool.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=cancel_futures)


class ProcessExecutorConfig(ExecutorConfig):
    max_workers: int | None = Field(
        default=None, ge=1, le=256, description="worker processes; default: search.parallel_trials, else the CPU count"
    )


class ProcessTrialExecutor(TrialExecutor):
    """A pool of fresh (spawned) processes on this machine (the default with ``parallel_trials`` > 1)."""

    Config = ProcessExecutorConfig

    def __init__(self, config: ExecutorConfig | None = None) -> None:
        super().__init__(config)
        self._pool: RenewingProcessPool | None = None
        self._workers = 0

    def start(self, parallel_trials: int | None) -> Executor:
        import os

        self._workers = self.config.max_workers or parallel_trials or os.cpu_count() or 1  # type: ignore[attr-defined]
        self.slots = parallel_trials or self._workers
        self._pool = RenewingProcessPool(self._workers)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def describe(self) -> dict[str, Any]:
        return {"slots": self.slots, "workers": self._workers}
