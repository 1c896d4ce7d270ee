"""Read a run.json for the report, refusing anything it cannot show truthfully.

A file from another run.json format, a damaged one (not JSON, truncated, wrong shape) or one
whose pointers name candidates it lacks is one clear error naming the file - never a blank
or half-filled page. Only the fields the report shows are checked; extra fields are kept, so
that additions within a format version need no change here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from olive_core.engine.result import RUN_FORMAT
from olive_core.errors import OliveError

RUN_FILE = "run.json"


class _Record(BaseModel):
    model_config = ConfigDict(extra="allow")


class GoalRecord(_Record):
    met: bool
    target: float
    missed_by: float


class MetricsRecord(_Record):
    values: dict[str, float | None]  # None: a non-finite value written by an older writer
    directions: dict[str, Literal["min", "max"]]
    goals: dict[str, GoalRecord] = Field(default_factory=dict)


class StepEntry(_Record):
    model_id: str
    parent_id: str
    step: str
    pass_type: str
    status: str
    seconds: float = 0.0
    config: dict[str, Any] = Field(default_factory=dict)
    report: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    error: str | None = None
    attempts: int = 1
    used_fallback: bool = False


class CandidateRecord(_Record):
    index: int
    accelerator: str
    configs: dict[str, dict[str, Any] | None]
    lineage: list[str]
    model_id: str | None
    error: str | None
    metrics: MetricsRecord | None


class Pointer(_Record):
    candidate: int
    model_id: str | None = None
    output: str | None = None


class InputModelRecord(_Record):
    type: str
    path: str
    id: str
    metrics: MetricsRecord | None = None


class VersionsRecord(_Record):
    olive_core: str | None = Field(alias="olive-core")
    plugins: dict[str, str | None] = Field(default_factory=dict)
    libraries: dict[str, str] = Field(default_factory=dict)
    python: str = ""
    platform: str = ""


class CpuRecord(_Record):
    model: str | None = None
    architecture: str | None = None
    logical_cores: int | None = None
    flags: list[str] | None = None


class RunRecord(_Record):
    """The parts of run.json the report shows."""

    format: int
    run_id: str
    started: float
    finished: float
    workflow_file: str | None = None
    workflow: dict[str, Any]
    versions: VersionsRecord
    cpu: CpuRecord | None = None
    accelerators: list[dict[str, Any]] = Field(default_factory=list)
    input_model: InputModelRecord
    models: dict[str, StepEntry]
    candidates: list[CandidateRecord]
    best: list[Pointer]
    pareto: list[Pointer] = Field(default_factory=list)
    closest: list[Pointer] = Field(default_factory=list)
    stopped_early: str | None = None
    #: the run's log file, beside run.json
    log: str | None = None

    def candidate(self, index: int) -> CandidateRecord:
        return next(c for c in self.candidates if c.index == index)


def load_run(path: Path) -> RunRecord:
    """The run.json at ``path`` (or in the folder ``path``), checked; OliveError otherwise."""
    path = Path(path)
    if path.is_dir():
        path = path / RUN_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise OliveError(f"{path}: no such file", hint="name the run.json an olive run wrote (it is in the run's output folder)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise OliveError(f"{path}: cannot be read: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _damaged(path, f"not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}); the file may be truncated") from None
    return parse_run(data, str(path))


def parse_run(data: Any, source: str) -> RunRecord:
    """Check a loaded run.json: its format version first, then its shape and its pointers."""
    if not isinstance(data, dict):
        raise _damaged(source, f"expected a JSON object, found {type(data).__name__}")
    written = data.get("format")
    if written is None:
        if "run_id" in data and "candidates" in data:
            raise OliveError(
                f"{source}: this run.json has no format version: an olive-core older than the report wrote it",
                hint="run the workflow again (finished steps come from the cache) to write a run.json and report.html",
            )
        raise _damaged(source, "it has no 'format' field: not a run.json olive run wrote")
    if written != RUN_FORMAT:
        version = data.get("versions", {}).get("olive-core") if isinstance(data.get("versions"), dict) else None
        raise OliveError(
            f"{source}: run.json format {written!r} (written by olive-core {version or 'unknown'}); "
            f"this olive-core reads format {RUN_FORMAT}",
            hint="make the report with the olive-core that wrote the run, or run the workflow again",
        )
    try:
        record = RunRecord.model_validate(data)
    except ValidationError as exc:
        raise _damaged(source, _first_errors(exc)) from None
    _check_pointers(record, source)
    return record


def _check_pointers(record: RunRecord, source: str) -> None:
    indices = {c.index for c in record.candidates}
    if len(indices) != len(record.candidates):
        raise _damaged(source, "two candidates share an index")
    for group in ("best", "pareto", "closest"):
        for pointer in getattr(record, group):
            if pointer.candidate not in indices:
                raise _damaged(source, f"{group} names candidate {pointer.candidate}, which the file does not hold")


def _first_errors(exc: ValidationError, shown: int = 3) -> str:
    errors = exc.errors()
    lines = [f"{'.'.join(str(p) for p in e['loc']) or '(top level)'}: {e['msg']}" for e in errors[:shown]]
    more = f" (and {len(errors) - shown} more)" if len(errors) > shown else ""
    return "; ".join(lines) + more


def _damaged(source: str | Path, reason: str) -> OliveError:
    return OliveError(
        f"{source}: not a run.json the report can read: {reason}",
        hint="make the report from the run.json an olive run wrote, or run the workflow again to rewrite it",
    )
