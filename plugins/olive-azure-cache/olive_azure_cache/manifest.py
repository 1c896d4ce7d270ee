"""What the remote tier stores about each entry, and how a download is checked before use.

A model's manifest lists every artifact file with its sha256 and size, the model handle with
paths relative to the artifact folder (``$artifact/...``, as the local cache stores them), and
the upload id its files were written under. A record is wrapped with the sha256 of its value.
Nothing downloaded is used until it matches what the manifest or wrapper says.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from olive_core.models.handler import ModelHandler

FORMAT = 1


class ManifestError(ValueError):
    """A manifest or record that cannot be trusted (malformed, unsafe names, wrong checksum)."""


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def describe_folder(folder: Path) -> dict[str, dict[str, Any]]:
    """relative posix path -> {"sha256", "size"} for every file under ``folder``."""
    return {
        path.relative_to(folder).as_posix(): {"sha256": file_sha256(path), "size": path.stat().st_size}
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def is_safe_relative(name: str) -> bool:
    """A manifest file name that stays inside the folder it is downloaded into."""
    path = PurePosixPath(name)
    if not name or "\\" in name or path.is_absolute():
        return False
    return ".." not in path.parts and ":" not in path.parts[0]



@dataclass
class ModelManifest:
    model_id: str
    upload_id: str
    handle: dict[str, Any]
    files: dict[str, dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    format: int = FORMAT

    @property
    def size_bytes(self) -> int:
        return sum(int(item["size"]) for item in self.files.values())

    def metadata(self) -> dict[str, str]:
        """Blob metadata, so that listing the remote tier needs no manifest downloads."""
        return {
            "type": str(self.handle.get("type", "")),
            "pass_type": str(self.info.get("pass_type", "")),
            "size": str(self.size_bytes),
            "created": repr(self.created),
        }

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes, model_id: str) -> ModelManifest:
        try:
            raw = json.loads(data)
            manifest = cls(**raw)
            ModelHandler.model_validate(manifest.handle)
            checks = all(
                is_safe_relative(name) and len(str(item["sha256"])) == 64 and int(item["size"]) >= 0
                for name, item in manifest.files.items()
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise ManifestError(f"malformed manifest: {exc}") from None
        if manifest.model_id != model_id or not is_safe_relative(manifest.upload_id) or not checks:
            raise ManifestError("manifest names another model, or files outside its folder")
        return manifest


def _value_sha256(value: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def wrap_record(namespace: str, key: str, value: dict[str, Any]) -> bytes:
    return json.dumps({"namespace": namespace, "key": key, "sha256": _value_sha256(value), "value": value}).encode()


def unwrap_record(data: bytes, namespace: str, key: str) -> dict[str, Any]:
    """The record's value, once its namespace, key and checksum match."""
    try:
        raw = json.loads(data)
        value = raw["value"]
        ok = raw["namespace"] == namespace and raw["key"] == key and raw["sha256"] == _value_sha256(value)
    except (ValueError, TypeError, KeyError) as exc:
        raise ManifestError(f"malformed record: {exc}") from None
    if not ok or not isinstance(value, dict):
        raise ManifestError("record does not match its checksum")
    return value
