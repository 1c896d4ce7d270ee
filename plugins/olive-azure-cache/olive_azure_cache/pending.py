"""Uploads not yet done, remembered on local disk so a later run or ``olive cache push`` does them.

One small JSON file per entry, written (atomically) before the upload is queued and removed
once the remote has it. Files rather than a database: several processes (parallel trials) may
share one local cache, and creating or removing a file is atomic for each of them. The folder
is per remote (account, container, prefix), so a local cache used with two remotes keeps their
backlogs apart.

Each marker names its owner (host, process, cache instance). A run resumes only the markers
whose owner is gone: parallel trials open the cache in several processes at once, and each
must not upload again what a sibling is uploading right now.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Upload:
    """One entry to upload: a model (``kind='model'``) or a JSON record (``kind='record'``)."""

    kind: str
    key: str
    namespace: str = ""
    #: a model's info and creation time, as the local cache got them
    info: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    created: float = field(default=0.0, compare=False, hash=False)

    @property
    def marker(self) -> str:
        return hashlib.sha256(f"{self.kind}\0{self.namespace}\0{self.key}".encode()).hexdigest()[:32] + ".json"

    def describe(self) -> str:
        return f"model {self.key[:12]}" if self.kind == "model" else f"record {self.namespace}/{self.key[:12]}"


#: owners (see PendingUploads.owner) of the caches open in this process
_OPEN_OWNERS: set[str] = set()


def _owner_alive(owner: str | None) -> bool:
    """Whether the cache that wrote a marker may still be uploading it."""
    if not owner or owner.count(":") < 2:
        return False
    host, pid, _ = owner.rsplit(":", 2)
    if host != socket.gethostname() or not pid.isdigit():
        return False  # written on another machine (a shared folder): take it over
    if int(pid) == os.getpid():
        return owner in _OPEN_OWNERS
    if os.name == "nt":
        return False  # no cheap liveness check there; a duplicate upload only costs bandwidth
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PendingUploads:
    """The backlog of one local cache towards one remote."""

    def __init__(self, cache_root: Path, remote_location: str) -> None:
        remote = hashlib.sha256(remote_location.encode()).hexdigest()[:16]
        self.folder = cache_root / "remote-pending" / remote
        self.folder.mkdir(parents=True, exist_ok=True)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        _OPEN_OWNERS.add(self.owner)

    def release(self) -> None:
        """This cache is closing: what it left pending is free for others to take over."""
        _OPEN_OWNERS.discard(self.owner)

    def add(self, upload: Upload) -> None:
        data = json.dumps({
            "owner": self.owner,
            "kind": upload.kind,
            "key": upload.key,
            "namespace": upload.namespace,
            "info": upload.info,
            "created": upload.created,
        })
        handle, temporary = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        with os.fdopen(handle, "w") as stream:
            stream.write(data)
        os.replace(temporary, self.folder / upload.marker)

    def done(self, upload: Upload) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.folder / upload.marker).unlink()

    def all(self, orphaned_only: bool = False) -> list[Upload]:
        """Every pending upload (only those whose owner is gone, if asked), oldest first.

        Unreadable markers (a killed write) are dropped.
        """
        uploads = []
        for marker in sorted(self.folder.glob("*.json"), key=_mtime):
            try:
                raw = json.loads(marker.read_text())
                if orphaned_only and _owner_alive(raw.get("owner")):
                    continue
                namespace, info, created = raw.get("namespace", ""), raw.get("info", {}), raw.get("created", 0.0)
                uploads.append(Upload(raw["kind"], raw["key"], namespace, info, created))
            except FileNotFoundError:
                continue  # another process uploaded it meanwhile
            except (ValueError, KeyError, TypeError):
                marker.unlink(missing_ok=True)
        return uploads

    def count(self) -> int:
        return sum(1 for _ in self.folder.glob("*.json"))

    def clear(self) -> None:
        for marker in self.folder.glob("*"):
            marker.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:  # uploaded by another process since the listing
        return 0.0
