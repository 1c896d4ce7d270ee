"""Errors a person can act on.

Every error a user can cause derives from :class:`OliveError`: the CLI prints its message on one
screen, without a traceback, and exits non-zero. Anything else escaping a run is a bug in olive
or a plugin, and is shown with its traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any


class OliveError(Exception):
    """A mistake the user can fix; ``hint`` says how."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"

    def __reduce__(self) -> tuple[Any, ...]:
        """Cross to another process whole (a trial raised in a worker, told by the engine): pickle's
        default calls ``cls(*args)``, which a subclass taking other arguments refuses, and a
        process pool that cannot read a worker's reply breaks."""
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))


def _rebuild(cls: type[OliveError], args: tuple[Any, ...], state: dict[str, Any]) -> OliveError:
    error = cls.__new__(cls, *args)
    error.__dict__.update(state)
    return error


class ConfigError(OliveError):
    """A workflow file that cannot be used as written: names the file and the field path."""

    def __init__(
        self,
        message: str,
        *,
        path: str = "",
        source: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ": ".join(part for part in (source, path) if part)
        super().__init__(f"{where}: {message}" if where else message, hint=hint)
        self.path = path
        self.source = source


class ConfigErrors(OliveError):
    """Several independent config errors found in one validation pass, reported together."""

    def __init__(self, errors: list[ConfigError]) -> None:
        self.errors = errors
        lines = [f"the workflow has {len(errors)} error(s):"] + [
            "  - " + str(error).replace("\n", "\n    ") for error in errors
        ]
        super().__init__("\n".join(lines))


class PluginError(OliveError):
    """A plugin that cannot be loaded, registers a clashing name or targets another core API."""


class ModelLoadError(OliveError):
    """A model file or folder that cannot be read as the model type it claims to be."""


class PassError(OliveError):
    """A pass that failed on its input model; carries the pass name and the reason."""

    def __init__(self, pass_name: str, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"pass '{pass_name}' failed: {reason}", hint=hint)
        self.pass_name = pass_name
        self.reason = reason


class IncompatibleModelError(OliveError):
    """A pass handed a model it cannot work on (wrong type, already quantized, FP16, ...)."""


class DataError(OliveError):
    """Evaluation or calibration data that does not fit the model's inputs."""


class CacheError(OliveError):
    """A cache that cannot be opened or written."""


class ExecutorError(OliveError):
    """An executor that cannot start or be reached (a cluster's scheduler), told before any trial runs."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """Return ``"did you mean 'x'?"`` for the closest candidate, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in candidates}
        if name.lower() in lowered:
            matches = [lowered[name.lower()]]
    return f"did you mean '{matches[0]}'?" if matches else None
