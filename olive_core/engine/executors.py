"""InlineExecutor: a ``concurrent.futures`` executor that runs each call at once, in this process.

With it, sequential and parallel trials go through one engine loop, and the in-process path
keeps the caller's plugin manager (plugins registered on it in tests or by an application).
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")


class InlineExecutor(Executor):
    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # delivered through the future, like any executor
            future.set_exception(exc)
        return future
