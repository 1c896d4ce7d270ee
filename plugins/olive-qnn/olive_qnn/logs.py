"""ORT's QNN tools log expected notices as warnings on the root logger; keep them for the report."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


class _Catch(logging.Filter):
    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.prefixes = prefixes
        self.caught: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(self.prefixes):
            self.caught.append(message)
            return False
        return True


@contextmanager
def root_notices(*prefixes: str) -> Iterator[list[str]]:
    """Collect (and keep off the console) root-logger messages that start with ``prefixes``.

    They are notices of what the tool did on purpose (naming unnamed nodes, upgrading the opset for
    16-bit types); the pass reports them instead of printing one line per node.
    """
    catch = _Catch(prefixes)
    root = logging.getLogger()
    root.addFilter(catch)
    try:
        yield catch.caught
    finally:
        root.removeFilter(catch)
