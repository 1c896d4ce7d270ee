"""Read a workflow file (JSON or YAML) and check its shape: phase one of validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from olive_core.config.errors import config_errors_from
from olive_core.config.workflow import WorkflowConfig
from olive_core.errors import ConfigError, ConfigErrors

YAML_SUFFIXES = {".yaml", ".yml"}


def read_workflow_file(path: Path) -> dict[str, Any]:
    """Parse the file into plain data; a missing or malformed file is a ConfigError naming it."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"workflow file '{path}' does not exist", hint="check the path you passed to `olive run`")
    if path.is_dir():
        raise ConfigError(f"'{path}' is a folder, not a workflow file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read workflow file '{path}': {exc}") from exc
    if path.suffix.lower() in YAML_SUFFIXES:
        data = _parse_yaml(text, path)
    else:
        data = _parse_json(text, path)
    if not isinstance(data, dict):
        raise ConfigError(
            f"the workflow must be an object with 'input_model' and 'passes', not {type(data).__name__}",
            source=str(path),
        )
    return data


def _parse_json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            source=str(path),
            hint="YAML files must end in .yaml or .yml" if path.suffix.lower() != ".json" else None,
        ) from exc


def _parse_yaml(text: str, path: Path) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"invalid YAML{where}: {problem}", source=str(path)) from exc


def parse_workflow(data: dict[str, Any], source: str | None = None) -> WorkflowConfig:
    """Check the workflow's shape; all shape errors are reported together."""
    try:
        return WorkflowConfig.model_validate(data)
    except ValidationError as exc:
        errors = config_errors_from(exc, source=source, model=WorkflowConfig)
        raise (errors[0] if len(errors) == 1 else ConfigErrors(errors)) from None
