"""Write the output folder without ever leaving it half-written.

Each model folder is assembled beside its final place and swapped in; ``run.json`` is written
to a temporary file and renamed. A run killed mid-write leaves the previous output intact.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from olive_core.engine.gather import gather_model
from olive_core.errors import OliveError
from olive_core.models.handler import ModelHandler
from olive_core.models.model_type import ModelType

METADATA_FILE = "model.json"


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, default=str) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` beside ``path`` and rename it into place: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temp, 0o644)  # mkstemp makes it private; the output is meant to be shared
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_model(model_type: ModelType, handle: ModelHandler, destination: Path, metadata: dict[str, Any]) -> ModelHandler:
    """Copy the model's files into ``destination`` with a ``model.json``; return the new handle."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the output is meant to be shared
    try:
        handle = model_type.package(handle, staging)  # what the handle names besides its model files
        gathered = gather_model(model_type, handle, staging)
        main = Path(gathered.path).resolve().relative_to(staging.resolve()).as_posix()  # "." for a folder model
        if (staging / METADATA_FILE).exists():
            raise OliveError(
                f"the model has a file named {METADATA_FILE}, which the output folder reserves for its description",
                hint="rename that file in the model (or the pass that writes it)",
            )
        relative_files = [name for name in sorted(p.name for p in staging.iterdir()) if name != main]
        packaged = handle.model_copy(update={"path": main, "files": relative_files})
        write_json_atomic(staging / METADATA_FILE, {**packaged.model_dump(mode="json"), **metadata})
        _swap_in(staging, destination)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return packaged.model_copy(
        update={"path": str(destination / main) if main != "." else str(destination), "files": [str(destination / f) for f in relative_files]}
    )


def _swap_in(staging: Path, destination: Path) -> None:
    old = None
    if destination.exists():
        old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(destination, old)
    os.replace(staging, destination)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
