"""Turn pydantic validation errors into one :class:`ConfigError` per bad field."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from olive_core.config.workflow import PASS_STEP_TAGS
from olive_core.errors import ConfigError, did_you_mean

_MAX_SHOWN = 60


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _join(prefix: str, loc: tuple[Any, ...]) -> str:
    parts = [prefix] if prefix else []
    parts += [str(part) for part in loc]
    return ".".join(parts)


def config_errors_from(
    error: ValidationError,
    *,
    prefix: str = "",
    source: str | None = None,
    model: type[BaseModel] | None = None,
    label: str | None = None,
) -> list[ConfigError]:
    """One ConfigError per pydantic error, each naming its full path in the workflow; ``label``
    starts each message (which of a step's several passes refused the config)."""
    about = f"{label}: " if label else ""
    result: list[ConfigError] = []
    for item in error.errors(include_url=False):
        loc = tuple(part for part in item["loc"] if part not in PASS_STEP_TAGS)  # a union's tag is no field
        kind = item["type"]
        if kind == "extra_forbidden":
            field = str(loc[-1])
            allowed = _allowed_fields(model, loc[:-1])
            message = f"{about}unknown field '{field}'"
            suggestion = did_you_mean(field, allowed) if allowed else None
            hint = suggestion or (f"allowed fields: {', '.join(sorted(allowed))}" if allowed else None)
            result.append(ConfigError(message, path=_join(prefix, loc), source=source, hint=hint))
            continue
        if kind == "missing":
            result.append(ConfigError(f"{about}required field is missing", path=_join(prefix, loc), source=source))
            continue
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if kind not in {"value_error", "assertion_error"} and "input" in item:
            message += f" (got {_short(item['input'])})"
        result.append(ConfigError(about + message, path=_join(prefix, loc), source=source))
    return result


def _allowed_fields(model: type[BaseModel] | None, loc: tuple[Any, ...]) -> list[str]:
    """Walk ``loc`` through nested pydantic models to list the fields allowed at that place."""
    current: Any = model
    for part in loc:
        if current is None:
            return []
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            current = _inner_model(current)
            if isinstance(part, int):
                continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        current = _inner_model(field.annotation) if field is not None else None
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _inner_model(annotation: Any) -> Any:
    """The pydantic model inside ``X``, ``list[X]``, ``dict[str, X]`` or ``X | None``."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None
