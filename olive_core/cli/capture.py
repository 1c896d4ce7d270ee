"""Keep libraries' output off the console during a run: into the run's log instead.

ONNX Runtime's C++ logger, torch's exporter and native code write to file descriptors 1 and 2
directly, below ``sys.stdout``; progress bars and ``print`` go through ``sys.stdout`` and
``sys.stderr``. So both descriptors are pointed at an anonymous temporary file for the run
(no name on disk: it vanishes with the process, even a killed one), and a thread copies what
arrives into the run's log line by line, through a sink that scrubs it. Writes never wait on
the reader (a pipe would block a library that writes a lot while holding the GIL). olive's own
output goes to the terminal through the streams :func:`capture_output` hands back.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TextIO

#: how often the reader looks for new output, in seconds
POLL_S = 0.1
#: a line longer than this (a progress bar redrawn without a newline) is written in parts
MAX_LINE = 64 * 1024
#: terminal control sequences (colours, cursor moves) that libraries write even to a file
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass
class Terminal:
    """Where olive's own output goes while libraries' output is captured."""

    stdout: TextIO
    stderr: TextIO
    #: hands what was captured so far to the sink now (so that a log record written next
    #: follows the output that came before it)
    drain: Callable[[], None] = lambda: None


@contextmanager
def capture_output(sink: Callable[[str], None], enabled: bool = True) -> Iterator[Terminal]:
    """Send everything written to descriptors 1 and 2 (and ``sys.stdout``/``sys.stderr``) to
    ``sink``, one line per call, until the block ends; yields the streams of the real terminal.

    Disabled (``--debug``), or where descriptors cannot be redirected, nothing is captured.
    """
    if not enabled:
        yield Terminal(sys.stdout, sys.stderr)
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    try:
        raw = tempfile.TemporaryFile(buffering=0)  # noqa: SIM115 - closed when the block ends
        saved = {fd: os.dup(fd) for fd in (1, 2)}
    except OSError:  # no descriptors to redirect (a closed stdout): nothing to keep quiet
        yield Terminal(sys.stdout, sys.stderr)
        return
    originals = (sys.stdout, sys.stderr)
    _set_append(raw.fileno())
    reader = _Reader(raw.fileno(), sink)
    terminal = Terminal(_terminal_stream(sys.stdout, 1, saved[1]), _terminal_stream(sys.stderr, 2, saved[2]), reader.drain)
    for fd in (1, 2):
        os.dup2(raw.fileno(), fd)
    sys.stdout, sys.stderr = _descriptor_stream(1, originals[0]), _descriptor_stream(2, originals[1])
    reader.start()
    try:
        yield terminal
    finally:
        for stream in (sys.stdout, sys.stderr, terminal.stdout, terminal.stderr):
            _flush(stream)
        _flush_c_streams()
        sys.stdout, sys.stderr = originals
        for fd in (1, 2):
            os.dup2(saved[fd], fd)
            os.close(saved[fd])
        for stream, original in zip((terminal.stdout, terminal.stderr), originals):
            if stream is not original:
                stream.close()
        reader.stop()
        raw.close()


def _terminal_stream(stream: TextIO, fd: int, saved: int) -> TextIO:
    """A stream to the terminal that ``stream`` writes to: a copy of its descriptor when it
    writes to ``fd`` (about to be redirected), else ``stream`` itself (a test runner's buffer)."""
    try:
        uses_fd = stream.fileno() == fd
    except (AttributeError, OSError, ValueError):
        uses_fd = False
    if not uses_fd:
        return stream
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return open(os.dup(saved), "w", encoding=encoding, errors="replace", buffering=1)  # closed by capture_output


def _descriptor_stream(fd: int, like: TextIO) -> TextIO:
    """``sys.stdout``/``sys.stderr`` for the run: text written straight to the (redirected) descriptor."""
    encoding = getattr(like, "encoding", None) or "utf-8"
    return io.TextIOWrapper(
        io.FileIO(fd, "w", closefd=False), encoding=encoding, errors="backslashreplace", line_buffering=True, write_through=True
    )


def _set_append(fd: int) -> None:
    """Writers sharing the file (this process, its children) each append, never overwrite."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
    except (ImportError, OSError):
        pass


def _flush(stream: TextIO) -> None:
    try:
        stream.flush()
    except (OSError, ValueError):
        pass


def _flush_c_streams() -> None:
    """C's stdio buffers (printf from native code) are flushed into the capture, not after it."""
    try:
        import ctypes

        ctypes.CDLL(None).fflush(None)
    except (OSError, AttributeError, TypeError):
        pass


class _Reader(threading.Thread):
    """Copies complete lines from the capture file to the sink as they arrive."""

    def __init__(self, fd: int, sink: Callable[[str], None]) -> None:
        super().__init__(name="olive-output-capture", daemon=True)
        self.fd = fd
        self.sink = sink
        self.offset = 0
        self.pending = ""
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.stopping.wait(POLL_S):
            self.drain()

    def stop(self) -> None:
        self.stopping.set()
        self.join()
        self.drain(final=True)

    def drain(self, final: bool = False) -> None:
        """Hand every complete line written so far to the sink (and, when final, the rest)."""
        with self.lock:
            self._drain(final)

    def _drain(self, final: bool) -> None:
        for stream in (sys.stdout, sys.stderr):
            _flush(stream)
        while True:
            chunk = os.pread(self.fd, 1 << 16, self.offset)
            if not chunk:
                break
            self.offset += len(chunk)
            self._take(self.decoder.decode(chunk))
        if final:
            self._take(self.decoder.decode(b"", final=True))
            if self.pending.strip():
                self._emit(self.pending)
            self.pending = ""

    def _take(self, text: str) -> None:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self._emit(line)
        if "\r" in self.pending:  # a bar redrawn in place: only its latest state matters
            self.pending = self.pending[self.pending.rindex("\r") :]
        if len(self.pending) > MAX_LINE:
            self._emit(self.pending)
            self.pending = ""

    def _emit(self, line: str) -> None:
        """One line as a terminal would show it, without colour codes: a bar redrawn with
        carriage returns, its last state."""
        line = _ESCAPES.sub("", line)
        shown = next((part for part in reversed(line.rstrip("\r").split("\r")) if part.strip()), "")
        if not shown.strip():
            return
        with contextlib.suppress(Exception):  # losing a line of library output must not stop the run
            self.sink(shown.rstrip())
