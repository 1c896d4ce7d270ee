"""Nested JSON data as MLflow params and tags: flat keys, values within MLflow's limits.

MLflow refuses a key longer than 250 characters or with characters other than letters, digits,
``_ - . / : `` and space, a param value over 6,000 characters and a tag value over 8,000; a
run's param cannot change once logged. Everything olive records goes through here first.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

MAX_KEY = 250
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_\-./: ]")


def key(text: str) -> str:
    """A valid MLflow key for ``text``; a long one keeps its start and a hash of the whole."""
    cleaned = _NOT_ALLOWED.sub("_", text) or "_"
    if len(cleaned) <= MAX_KEY:
        return cleaned
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    return f"{cleaned[: MAX_KEY - 14]}..{digest}"


def value(item: Any, limit: int = MAX_PARAM_VALUE) -> str:
    """A scalar as written in the workflow (JSON for lists, null, booleans), cut to ``limit``."""
    text = item if isinstance(item, str) else json.dumps(item, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    """``{"passes": {"q": {"config": {"bits": 8}}}}`` -> ``{"passes.q.config.bits": "8"}``.

    Lists of objects are indexed (``metrics.0.name``); lists of scalars, empty containers and
    scalars are values.
    """
    flat: dict[str, str] = {}
    if isinstance(data, dict) and data:
        for name, item in data.items():
            flat.update(flatten(item, f"{prefix}.{name}" if prefix else str(name)))
    elif isinstance(data, list) and data and any(isinstance(item, (dict, list)) for item in data):
        for index, item in enumerate(data):
            flat.update(flatten(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        flat[key(prefix or "value")] = value(data)
    return flat


__all__ = ["flatten", "key", "value"]
