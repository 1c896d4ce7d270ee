"""Read a workflow file (JSON or YAML) and check its shape: phase one of validation.

A workflow file is small and plain. Files that are not (megabytes of text, thousands of nested
levels, YAML aliases that expand into millions of values or refer to themselves) are refused
with one error before anything walks them, rather than ending in a hang or a RecursionError.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from olive_core.config.errors import config_errors_from
from olive_core.config.workflow import WorkflowConfig
from olive_core.errors import ConfigError, ConfigErrors

YAML_SUFFIXES = {".yaml", ".yml"}
#: a workflow file larger than this is not a workflow (the biggest examples are a few KB)
MAX_FILE_BYTES = 4 * 1024 * 1024
#: nesting deeper than this is not a workflow (real ones nest fewer than 10 levels)
MAX_DEPTH = 64
#: values a workflow may hold once YAML aliases are expanded
MAX_VALUES = 100_000


def read_workflow_file(path: Path) -> dict[str, Any]:
    """Parse the file into plain data; a missing, malformed or oversized file is a ConfigError naming it."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"workflow file '{path}' does not exist", hint="check the path you passed to `olive run`")
    if path.is_dir():
        raise ConfigError(f"'{path}' is a folder, not a workflow file")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(
                f"the file is {size:,} bytes; a workflow file is at most {MAX_FILE_BYTES:,}",
                source=str(path),
                hint="is this the workflow file, and not a model or data file?",
            )
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read workflow file '{path}': {exc}") from exc
    if path.suffix.lower() in YAML_SUFFIXES:
        data = _parse_yaml(text, path)
    else:
        data = _parse_json(text, path)
    if data is None:
        raise ConfigError("the file is empty", source=str(path), hint="a workflow needs at least 'input_model'")
    if not isinstance(data, dict):
        raise ConfigError(
            f"the workflow must be an object with 'input_model' and 'passes', not {type(data).__name__}",
            source=str(path),
        )
    _check_depth(data, path)
    return data


def _parse_json(text: str, path: Path) -> Any:
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}",
            source=str(path),
            hint="YAML files must end in .yaml or .yml" if path.suffix.lower() != ".json" else None,
        ) from exc
    except RecursionError:
        raise _too_deep(path) from None


def _parse_yaml(text: str, path: Path) -> Any:
    import yaml

    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:  # empty, or comments only
            return None
        _check_yaml_size(node, path)
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"invalid YAML{where}: {problem}", source=str(path)) from exc
    except RecursionError:
        raise _too_deep(path) from None


def _check_yaml_size(root: Any, path: Path) -> None:
    """Count the values the node graph expands to, each shared (aliased) node once per use.

    The count is computed per node once (memoized), so a billion-laughs file is measured in
    linear time; a node reached again while it is being counted is an alias to itself.
    """
    import yaml

    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[key] = 1
            continue
        children = [item for pair in node.value for item in pair] if isinstance(node, yaml.MappingNode) else list(node.value)
        if not children_done:
            if key in open_nodes:
                raise ConfigError(
                    "a YAML alias refers to the value that contains it (a recursive alias)",
                    source=str(path),
                    hint="write the value out instead of using an alias to itself",
                )
            open_nodes.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        open_nodes.discard(key)
        sizes[key] = 1 + sum(sizes[id(child)] for child in children)
        if sizes[key] > MAX_VALUES:
            raise ConfigError(
                f"the file expands to more than {MAX_VALUES:,} values (YAML aliases repeat what they point to)",
                source=str(path),
                hint="use fewer aliases; a workflow file is a few hundred values",
            )


def _check_depth(data: Any, path: Path) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _too_deep(path)
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)


def _too_deep(path: Path) -> ConfigError:
    return ConfigError(
        f"values are nested more than {MAX_DEPTH} levels deep",
        source=str(path),
        hint="a workflow nests a few levels: is this the right file?",
    )


def parse_workflow(data: dict[str, Any], source: str | None = None) -> WorkflowConfig:
    """Check the workflow's shape; all shape errors are reported together."""
    try:
        return WorkflowConfig.model_validate(data)
    except ValidationError as exc:
        errors = config_errors_from(exc, source=source, model=WorkflowConfig)
        raise (errors[0] if len(errors) == 1 else ConfigErrors(errors)) from None
