"""A workflow made ready to run: read, ``${VAR}`` expanded, validated, its cache opened and its
output folder checked. Both the engine's process (``api.py``) and a trial's worker process
(``trial.py``) start here, which is why this sits below both.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from olive_core.cache.backend import CacheBackend
from olive_core.config.environment import expand_variables
from olive_core.config.loading import parse_workflow, read_workflow_file
from olive_core.config.resolved import ResolvedWorkflow
from olive_core.config.validation import resolve_workflow
from olive_core.config.workflow import WorkflowConfig
from olive_core.errors import CacheError, ConfigError, OliveError
from olive_core.plugins import OlivePluginManager
from olive_core.redaction import Redactor


@dataclass
class LoadedWorkflow:
    resolved: ResolvedWorkflow
    raw: dict[str, Any]


def load_workflow(
    config: str | Path | dict[str, Any] | WorkflowConfig, manager: OlivePluginManager, executor_type: str | None = None
) -> LoadedWorkflow:
    """Read (if a path), expand ``${VAR}``, and validate in two phases.

    ``executor_type`` (``olive run --executor``) replaces ``search.executor``: its config is
    kept when the workflow names the same type, else the executor's defaults apply.
    """
    if isinstance(config, WorkflowConfig):
        config = config.model_dump(mode="json", exclude_unset=True) if executor_type else config
    if isinstance(config, WorkflowConfig):
        raw = config.model_dump(mode="json")
        return LoadedWorkflow(resolve_workflow(config, manager.registry, base_dir=Path.cwd()), raw)
    if isinstance(config, (str, Path)):
        path = Path(config)
        raw = with_executor(read_workflow_file(path), executor_type)
        return LoadedWorkflow(resolve_raw_workflow(raw, manager, str(path), path.resolve().parent), raw)
    raw = with_executor(dict(config), executor_type)
    return LoadedWorkflow(resolve_raw_workflow(raw, manager, None, Path.cwd()), raw)


def with_executor(raw: dict[str, Any], executor_type: str | None) -> dict[str, Any]:
    """The raw workflow with ``search.executor`` set to ``executor_type`` (unchanged when None)."""
    if executor_type is None:
        return raw
    search = raw.get("search")
    search = dict(search) if isinstance(search, dict) else {}
    current = search.get("executor")
    same = isinstance(current, dict) and current.get("type") == executor_type
    search["executor"] = current if same else {"type": executor_type}
    return {**raw, "search": search}


def resolve_raw_workflow(raw: dict[str, Any], manager: OlivePluginManager, source: str | None, base_dir: Path) -> ResolvedWorkflow:
    """Expand ``${VAR}`` and validate; an error never quotes a value taken from the environment."""
    redactor = Redactor()
    try:
        parsed = parse_workflow(expand_variables(raw, source=source, redactor=redactor), source)
        return resolve_workflow(parsed, manager.registry, source=source, base_dir=base_dir, redactor=redactor)
    except OliveError as exc:
        redactor.error(exc)
        raise


def open_cache(workflow: ResolvedWorkflow, cache_dir: str | Path | None = None) -> CacheBackend:
    """Create the workflow's cache backend; ``cache_dir`` (from --cache-dir) overrides its folder."""
    config = workflow.cache.config
    if cache_dir is not None:
        if "dir" not in type(config).model_fields:
            raise CacheError(f"cache backend '{workflow.cache.type}' has no local folder to set with --cache-dir")
        config = config.model_copy(update={"dir": str(cache_dir)})
    elif getattr(config, "dir", None) and not Path(config.dir).expanduser().is_absolute():
        config = config.model_copy(update={"dir": str(workflow.base_dir / config.dir)})
    return workflow.cache.cls(config)


def resolve_output_dir(workflow: ResolvedWorkflow, output_dir: str | Path | None) -> Path:
    """The output folder, checked before any work: a run must not fail at its very end."""
    if output_dir is not None:  # from --output-dir: no field of the workflow to name
        folder, field = Path(output_dir).resolve(), ""
    else:
        folder, field = (workflow.base_dir / workflow.config.engine.output_dir).resolve(), "engine.output_dir"
    check_output_dir(folder, workflow, field)
    return folder


def check_output_dir(folder: Path, workflow: ResolvedWorkflow, field: str = "") -> None:
    """Refuse an output folder that holds the workflow's own folder, or that cannot be written.

    A run replaces the output's model folders and run.json; the workflow's folder (its data,
    its loader, maybe its model) must never be among what it manages.
    """
    if workflow.source is not None and workflow.base_dir.resolve().is_relative_to(folder):
        raise ConfigError(
            f"the output folder '{folder}' holds the workflow's own folder '{workflow.base_dir}'",
            path=field,
            source=workflow.source,
            hint="write the output to a folder of its own, e.g. engine.output_dir: output",
        )
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    reason = None
    if not existing.is_dir():
        reason = f"'{existing}' is a file"
    else:
        try:
            probe, name = tempfile.mkstemp(prefix=".olive-write-probe-", dir=existing)
            os.close(probe)
            os.unlink(name)
        except OSError as exc:
            reason = exc.strerror or str(exc)
    if reason is not None:
        raise ConfigError(
            f"the output folder '{folder}' cannot be written: {reason}",
            path=field,
            source=workflow.source,
            hint="choose a writable folder with -o/--output-dir or engine.output_dir",
        )
