"""``${VAR}`` expansion in workflow values.

Each value substituted from the environment is told to the run's :class:`Redactor`, so that it
never reaches what olive records (see :mod:`olive_core.redaction`); the workflow itself is
recorded as written, with its ``${VAR}`` references.
"""

from __future__ import annotations

import os
import re
from typing import Any

from olive_core.errors import ConfigError
from olive_core.redaction import Redactor

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def expand_variables(value: Any, path: str = "", source: str | None = None, redactor: Redactor | None = None) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of ``value``; ``redactor``
    learns each value taken from the environment."""
    if isinstance(value, dict):
        return {
            key: expand_variables(item, f"{path}.{key}" if path else str(key), source, redactor)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [expand_variables(item, f"{path}.{index}", source, redactor) for index, item in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            if redactor is not None:
                redactor.remember(name, os.environ[name])
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(
            f"environment variable '{name}' is not set",
            path=path,
            source=source,
            hint=f"export {name}=... or write ${{{name}:-default}}",
        )

    return _VARIABLE.sub(substitute, value)
