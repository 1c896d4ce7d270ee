"""Whether the remote tier is usable for the rest of this run, and the one message that says not.

Remote trouble never costs a run: the first failure marks the remote down until the cache is
closed, is reported once (an error for refused credentials, a warning otherwise), and the run
goes on with the local cache. What was not uploaded stays pending for the next run.
"""

from __future__ import annotations

import logging
import threading

from olive_azure_cache.remote import RemoteError

logger = logging.getLogger("olive_azure_cache")


class RemoteStatus:
    """Up until the first failure; thread-safe, so the uploader and the run share one."""

    def __init__(self, remote_location: str, local_location: str, credentials: str) -> None:
        self.remote_location = remote_location
        self.local_location = local_location
        self.credentials = credentials
        self._up = True
        self.reason: str | None = None
        self._lock = threading.Lock()

    @property
    def up(self) -> bool:
        return self._up

    def is_up(self) -> bool:
        return self._up

    def failed(self, error: RemoteError) -> None:
        """Mark the remote down; only the first failure of a run is reported."""
        with self._lock:
            if not self._up:
                return
            self._up, self.reason = False, str(error)
        if error.kind == "auth":
            logger.error(
                "remote cache %s refused the credentials from %s (%s); this run goes on with the local cache "
                "at %s only. Fix the credentials, then `olive cache push --workflow FILE` uploads what it made.",
                self.remote_location,
                self.credentials,
                error,
                self.local_location,
            )
        else:
            logger.warning(
                "remote cache %s is unavailable (%s); this run goes on with the local cache at %s, and what it "
                "makes is uploaded by the next run or `olive cache push --workflow FILE`.",
                self.remote_location,
                error,
                self.local_location,
            )
