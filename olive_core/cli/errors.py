"""One-screen errors for user mistakes; tracebacks only with --debug or for real bugs."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
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
    level = logging.DEBUG if debug else logging.ERROR if quiet else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
