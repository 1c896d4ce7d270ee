"""JSON records in one SQLite file: what the local cache knows about its entries.

Caches are shared by teams and copied between machines, so reading one must never run code:
values are JSON text read with ``json.loads`` (no pickle, unlike diskcache's default disk), and
a value that does not parse as a JSON object is reported as damaged, never trusted. SQLite
gives transactions and locking across the processes of parallel trials.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

#: bumped when the table layout changes; a store of another format is not read
FORMAT_VERSION = 1


class DamagedStoreError(Exception):
    """The SQLite file cannot be used: truncated, not SQLite, or another format."""


class JsonRecords:
    """``key -> JSON object`` with transactional writes, safe to share between processes."""

    def __init__(self, path: Path, timeout_s: float = 60.0) -> None:
        self.path = path
        self._lock = threading.Lock()  # one connection, used by the engine and upload threads
        try:
            self._db = sqlite3.connect(str(path), timeout=timeout_s, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise DamagedStoreError(str(exc)) from exc
        try:
            self._prepare()
        except (sqlite3.DatabaseError, DamagedStoreError) as exc:
            self._db.close()
            raise DamagedStoreError(str(exc)) from exc

    def _prepare(self) -> None:
        """Create the table in a new file, or check the format of an existing one.

        One write transaction, so that processes opening a new cache together see either an
        empty file or a finished one.
        """
        self._db.execute("PRAGMA journal_mode = WAL")  # persistent; a non-SQLite file fails here
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if version == 0 and not tables:
                self._db.execute("CREATE TABLE records (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self._db.execute(f"PRAGMA user_version = {FORMAT_VERSION}")
            elif version != FORMAT_VERSION or "records" not in tables:
                raise DamagedStoreError(f"not an olive record store of format {FORMAT_VERSION} (format {version})")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def get(self, key: str) -> dict[str, Any] | None:
        """The record under ``key``; None when absent or damaged (a damaged one is logged)."""
        with self._lock:
            row = self._db.execute("SELECT value FROM records WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            value = json.loads(row[0]) if isinstance(row[0], str) else None
        except ValueError:
            value = None
        if not isinstance(value, dict):
            logger.warning("cache record %s in %s is damaged (not a JSON object); it is ignored", key[:40], self.path)
            return None
        return value

    def set(self, key: str, value: dict[str, Any]) -> None:
        text = json.dumps(value, separators=(",", ":"))
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO records (key, value) VALUES (?, ?)", (key, text))

    def delete(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM records WHERE key = ?", (key,))

    def keys(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix``, read up front so callers may delete while iterating."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key FROM records WHERE substr(key, 1, ?) = ? ORDER BY key", (len(prefix), prefix)
            ).fetchall()
        yield from (row[0] for row in rows if isinstance(row[0], str))

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM records")

    def close(self) -> None:
        with self._lock:
            self._db.close()
