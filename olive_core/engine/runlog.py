"""The run's log file, ``<output_dir>/run.log``: what olive logged and what libraries printed.

It belongs to the output folder, which a killed run must never leave inconsistent. The log is
written live to a hidden file of this run, ``.run.log.<run_id>``; each time run.json is written,
``run.log`` is first made that file (a hard link swapped in, else a copy), so run.json always
names a log of its own run, and a run killed before its first run.json leaves the previous
run's run.json and run.log as they were. At the end the hidden name goes.

Every text is scrubbed before it is written (the run's Redactor: no variable's value, no
secret field's value), log records and captured raw output alike.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

LOG_FILE = "run.log"
_LIVE_PREFIX = f".{LOG_FILE}."
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


class RunLog:
    """One run's log file; open while :meth:`recording` (re-entrant) is active."""

    def __init__(self, output_dir: Path, run_id: str, scrub: Callable[[str], str], level: str = "info") -> None:
        self.output_dir = output_dir
        self.run_id = run_id
        self.scrub = scrub
        self.level = _LEVELS[level]
        self.live = output_dir / f"{_LIVE_PREFIX}{run_id}"
        #: the file's name in the output folder once published (what run.json records), else None
        self.name: str | None = None
        self._file: TextIO | None = None
        self._lock = threading.Lock()
        self._depth = 0
        self._created_folder = False
        self._handler: logging.Handler | None = None
        #: called before each log record is written: a capture hands over the output before it
        self.before_record: Callable[[], None] = lambda: None
        self._restore_logging: Callable[[], None] = lambda: None

    @contextmanager
    def recording(self) -> Iterator[RunLog]:
        """Open the log and send log records to it; the outermost exit closes it."""
        if self._depth == 0:
            self._open()
        self._depth += 1
        try:
            yield self
        finally:
            self._depth -= 1
            if self._depth == 0:
                self._close()

    def write(self, text: str) -> None:
        """Append ``text`` (a line, or several) scrubbed; ignored while the log is closed."""
        line = self.scrub(text.rstrip("\n")) + "\n"
        with self._lock:
            if self._file is not None:
                self._file.write(line)
                self._file.flush()

    def publish(self) -> None:
        """Make ``run.log`` this run's log, atomically (before run.json names it)."""
        if self._file is None:
            return
        target = self.output_dir / LOG_FILE
        with self._lock:
            self._file.flush()
            if not _same_file(target, self.live):
                temp = self.output_dir / f"{_LIVE_PREFIX}{self.run_id}.publishing"
                temp.unlink(missing_ok=True)
                try:
                    os.link(self.live, temp)  # the same file: run.log grows with the run
                except OSError:  # a file system without hard links: a copy, refreshed at each publish
                    shutil.copyfile(self.live, temp)
                os.replace(temp, target)
        self.name = LOG_FILE

    # -- opening and closing -----------------------------------------------------------------

    def _open(self) -> None:
        self._created_folder = not self.output_dir.exists()
        self.output_dir.mkdir(parents=True, exist_ok=True)
        for stale in self.output_dir.glob(f"{_LIVE_PREFIX}*"):  # left by a killed run
            stale.unlink(missing_ok=True)
        self._file = open(self.live, "w", encoding="utf-8", errors="backslashreplace")  # noqa: SIM115 - closed in _close
        os.chmod(self.live, 0o644)
        self.name = None
        from olive_core.version import __version__

        self.write(f"olive-core {__version__}: run {self.run_id} started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        self._handler = _LogFileHandler(self)
        self._handler.setLevel(self.level)
        self._restore_logging = _route_records(self._handler, self.level)

    def _close(self) -> None:
        self._restore_logging()
        self._handler = None
        if self.name is not None:
            self.write(f"run {self.run_id} ended {time.strftime('%Y-%m-%d %H:%M:%S')}")
            self.publish()  # a copy needs its last lines; a link is already whole
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
        self.live.unlink(missing_ok=True)
        if self.name is None and self._created_folder:
            try:  # a run that wrote nothing leaves no folder behind
                self.output_dir.rmdir()
            except OSError:
                pass


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class _LogFileHandler(logging.Handler):
    """Log records into the run's log, scrubbed like everything else in it."""

    def __init__(self, log: RunLog) -> None:
        super().__init__()
        self.log = log
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.log.before_record()
            self.log.write(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never fail the run
            self.handleError(record)


class _BelowLevel(logging.Filter):
    """Keeps the other root handlers as quiet as before while the root logger lets more through."""

    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


def _route_records(handler: logging.Handler, level: int) -> Callable[[], None]:
    """Attach ``handler`` to the root logger, letting records of ``level`` reach it; returns the undo."""
    root = logging.getLogger()
    previous = root.level
    others = list(root.handlers)
    quiet = _BelowLevel(previous) if level < previous else None
    if quiet is not None:
        for other in others:
            other.addFilter(quiet)
        root.setLevel(level)
    root.addHandler(handler)

    def undo() -> None:
        root.removeHandler(handler)
        if quiet is not None:
            root.setLevel(previous)
            for other in others:
                other.removeFilter(quiet)

    return undo
