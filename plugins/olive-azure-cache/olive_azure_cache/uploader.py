"""Background uploads: a bounded queue and one worker thread, awaited when the cache closes.

The queue bounds how far uploads may lag behind the run: when it is full, storing a new entry
waits for the worker. Once the remote is down the worker stops uploading and only drains the
queue; the entries stay in the pending backlog for a later run or ``olive cache push``.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from olive_azure_cache.pending import Upload

logger = logging.getLogger("olive_azure_cache")


class Uploader:
    """Runs ``upload(job)`` for each submitted job on one daemon thread, in order."""

    def __init__(self, upload: Callable[[Upload], bool], is_up: Callable[[], bool], size: int) -> None:
        self._upload = upload
        self._is_up = is_up
        self._queue: queue.Queue[Upload | None] = queue.Queue(maxsize=size)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._outstanding = 0
        self._backlog: list[Upload] = []
        #: entries this uploader put on the remote
        self.uploaded = 0

    @property
    def outstanding(self) -> int:
        """Jobs queued or being uploaded."""
        return self._outstanding

    def start(self, backlog: list[Upload] | None = None) -> None:
        """Start the worker (once); it uploads ``backlog`` (left by earlier runs) before queued jobs."""
        with self._lock:
            if self._thread is not None:
                return
            self._backlog = list(backlog or [])
            self._outstanding += len(self._backlog)
            self._thread = threading.Thread(target=self._work, name="olive-azure-uploads", daemon=True)
            self._thread.start()

    def submit(self, job: Upload) -> None:
        """Queue one upload (waits while the queue is full)."""
        self.start()
        with self._lock:
            self._outstanding += 1
        self._queue.put(job)

    def _work(self) -> None:
        for job in self._backlog:
            self._run(job)
        while True:
            job = self._queue.get()
            if job is None:
                return
            self._run(job)

    def _run(self, job: Upload) -> None:
        try:
            if self._is_up() and self._upload(job):
                self.uploaded += 1
        except Exception:  # a bug: the entry stays pending, the run goes on
            logger.warning("upload of %s failed; it stays pending", job.describe())
        finally:
            with self._lock:
                self._outstanding -= 1

    def close(self, on_wait: Callable[[int], None], interval_s: float = 5.0) -> None:
        """Wait for every queued upload; ``on_wait(remaining)`` is called first, then every ``interval_s``."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        if self._outstanding:
            on_wait(self._outstanding)
        self._queue.put(None)
        while thread.is_alive():
            thread.join(timeout=interval_s)
            if thread.is_alive():
                on_wait(self._outstanding)
