"""A plugin for the kill-mid-run test: after the first candidate, once the MLflow server has stored
the run's params (read from its SQLite database), it kills the server (its process group, by the PID the test gives)."""

from __future__ import annotations

import os
import signal
import sqlite3
import time

from olive_core import hookimpl

olive_plugin_api = "1.0"


def _params_stored(database: str, run_id: str) -> bool:
    """Whether the server has stored params of the parent run of olive run ``run_id``."""
    query = (
        "SELECT count(*) FROM params JOIN tags ON params.run_uuid = tags.run_uuid "
        "WHERE tags.key = 'olive.run_id' AND tags.value = ?"
    )
    try:
        with sqlite3.connect(database) as connection:
            return connection.execute(query, (run_id,)).fetchone()[0] > 0
    except sqlite3.Error:
        return False


@hookimpl
def on_candidate_end(run_id, candidate, steps):
    pid = int(os.environ["OLIVE_MLFLOW_TEST_SERVER_PID"])
    if candidate.index != 0:
        return
    deadline = time.monotonic() + 120
    while not _params_stored(os.environ["OLIVE_MLFLOW_TEST_SERVER_DB"], run_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(pid, signal.SIGKILL)
