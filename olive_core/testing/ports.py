"""A free local port, for tests that start real servers (MLflow, Dask, Azurite) on 127.0.0.1."""

from __future__ import annotations

import socket

#: the only address test servers listen on
HOST = "127.0.0.1"


def free_port(host: str = HOST) -> int:
    """A port nothing listens on now (the OS picks it; another process could take it before you do)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
