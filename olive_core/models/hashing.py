"""Content hashes: the identity of input models and the keys of cached steps."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

_CHUNK = 1 << 20


def hash_path(path: Path) -> str:
    """sha256 over the relative names and bytes of a file or of every file under a folder."""
    digest = hashlib.sha256()
    path = Path(path)
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    for file in files:
        relative = file.name if file == path else file.relative_to(path).as_posix()
        digest.update(relative.encode() + b"\0")
        with file.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        digest.update(b"\0")
    return digest.hexdigest()


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no whitespace: equal configs give equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def hash_json(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode()).hexdigest()


def derived_model_id(
    parent_id: str,
    pass_type: str,
    pass_version: str,
    config: dict[str, Any],
    accelerator: str,
    data: dict[str, str] | None = None,
) -> str:
    """The id of a model made by a pass: a full sha256 of everything that determines it.

    ``data`` maps the data configs the pass reads (calibration, training) to their content keys.
    """
    key: dict[str, Any] = {"parent": parent_id, "pass": pass_type, "version": pass_version, "config": config, "accelerator": accelerator}
    if data:
        key["data"] = data
    return hash_json(key)
