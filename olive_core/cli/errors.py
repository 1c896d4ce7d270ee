"""One-screen errors for user mistakes (tracebacks only with --debug or for real bugs), and how
log records reach the console."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

EXIT_USER_ERROR = 2
EXIT_RUN_FAILED = 1


def debug_option(function: F) -> F:
    return click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")(function)


def handle_errors(function: F) -> F:
    """Turn an OliveError into a short message on stderr and a non-zero exit."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from olive_core.errors import OliveError

        debug = kwargs.get("debug", False)
        _configure_logging(debug, kwargs.get("quiet", False))
        try:
            return function(*args, **kwargs)
        except OliveError as exc:
            if debug:
                raise
            click.secho("error: ", fg="red", bold=True, err=True, nl=False)
            click.echo(str(exc), err=True)
            sys.exit(EXIT_USER_ERROR)
        except KeyboardInterrupt:
            click.echo("interrupted: finished steps are in the cache and will be reused", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _configure_logging(debug: bool, quiet: bool) -> None:
    """Log records on the console through one handler of olive's (set again by each command)."""
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    root = logging.getLogger()
    handler = next((h for h in root.handlers if isinstance(h, ConsoleLogHandler)), None)
    if handler is None:
        handler = ConsoleLogHandler()
        root.addHandler(handler)
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s") if debug else _Short())
    root.setLevel(level)


class _Short(logging.Formatter):
    """``warning: <message>``: how a user is told, without the logger's name."""

    def format(self, record: logging.LogRecord) -> str:
        text = f"{record.levelname.lower()}: {record.getMessage()}"
        return f"{text}\n{self.formatException(record.exc_info)}" if record.exc_info else text


class ConsoleLogHandler(logging.Handler):
    """Log records on stderr, or through the console a run shows its progress on (so a record
    does not tear the live progress line). During a run without --debug, only olive's own
    records are shown: libraries' records go to the run's log only (see :func:`console_logging`)."""

    def __init__(self) -> None:
        super().__init__()
        self.console: Any = None
        self.only_olive = False

    def filter(self, record: logging.LogRecord) -> bool:
        if self.only_olive and not record.name.startswith("olive"):
            return False
        return super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
            if self.console is not None:
                self.console.print(text, markup=False, highlight=False, soft_wrap=True)
            else:
                sys.stderr.write(text + "\n")
                sys.stderr.flush()
        except Exception:  # noqa: BLE001 - a record that cannot be shown must not fail the command
            self.handleError(record)


@contextmanager
def console_logging(console: Any, only_olive: bool) -> Iterator[None]:
    """While a run shows progress on ``console``: log records go through it, olive's only
    unless --debug."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, ConsoleLogHandler)]
    for handler in handlers:
        handler.console, handler.only_olive = console, only_olive
    try:
        yield
    finally:
        for handler in handlers:
            handler.console, handler.only_olive = None, False
