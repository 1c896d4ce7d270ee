"""``${VAR}`` expansion in workflow values, and redaction of secrets before anything is recorded.

The workflow is recorded in ``run.json`` as written, before expansion, so a secret passed as
``${AZURE_STORAGE_CONNECTION_STRING}`` never reaches the output; values under secret-looking
keys written in clear are redacted too.
"""

from __future__ import annotations

import os
import re
from typing import Any

from olive_core.errors import ConfigError

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_SECRET_KEY = re.compile(r"(password|secret|token|credential|connection_string|sas|account_key|api_key)", re.I)
REDACTED = "***"


def expand_variables(value: Any, path: str = "", source: str | None = None) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string of ``value``."""
    if isinstance(value, dict):
        return {key: expand_variables(item, f"{path}.{key}" if path else str(key), source) for key, item in value.items()}
    if isinstance(value, list):
        return [expand_variables(item, f"{path}.{index}", source) for index, item in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
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


def redact_secrets(value: Any) -> Any:
    """A copy of ``value`` with clear-text values under secret-looking keys replaced."""
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            # "<...>_env" names the variable holding a secret, not the secret: keep it readable
            secret = isinstance(key, str) and _SECRET_KEY.search(key) and not key.endswith("_env") and isinstance(item, str)
            result[key] = item if not secret or _VARIABLE.fullmatch(item) else REDACTED
            if not secret:
                result[key] = redact_secrets(item)
        return result
    if isinstance(value, list):
        return [redact_secrets(item) for item in value]
    return value
