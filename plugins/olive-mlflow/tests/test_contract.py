"""The mlflow tracker meets core's tracker contract (a toy run into the embedded store)."""

from __future__ import annotations

import pytest

from olive_core.testing import TrackerContract


class TestMlflowTracker(TrackerContract):
    tracker_type = "mlflow"
    client_modules = ("mlflow",)

    @pytest.fixture
    def tracker_config(self):
        return {"experiment": "contract"}
