"""TrackerContract: what a plugin's tracker tests subclass.

    class TestMlflowTracker(TrackerContract):
        tracker_type = "mlflow"
        client_modules = ("mlflow",)

        @pytest.fixture
        def tracker_config(self, tmp_path):
            return {"experiment": "contract"}
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar

import pytest

from olive_core.plugins import OlivePluginManager, create_plugin_manager
from olive_core.testing.contracts.checks import check_config, heavy_modules_after_import
from olive_core.tracking import Tracker, TrackerConfig

TOY_PLUGIN = "olive_core.testing.toy"


class TrackerContract:
    """Subclass with ``tracker_type`` and, when the tracker needs more than its defaults, a
    ``tracker_config`` fixture returning the ``config`` a workflow would give it."""

    tracker_type: ClassVar[str] = ""
    #: the service's client modules, which importing the tracker's module must not import
    client_modules: ClassVar[tuple[str, ...]] = ()

    @pytest.fixture
    def tracker_config(self) -> dict[str, Any]:
        return {}

    @pytest.fixture
    def manager(self) -> OlivePluginManager:
        """Installed plugins and the toy plugin (a model type and passes to run)."""
        return create_plugin_manager(extra_plugins=[TOY_PLUGIN])

    @pytest.fixture
    def tracker_class(self, manager: OlivePluginManager) -> type[Tracker]:
        return manager.registry.load("tracker", self.tracker_type)

    def test_config_is_strict_documented_and_bounded(self, tracker_class: type[Tracker]) -> None:
        check_config(tracker_class.Config)

    def test_config_has_the_timeout_of_every_tracker(self, tracker_class: type[Tracker]) -> None:
        assert issubclass(tracker_class.Config, TrackerConfig), "derive the config from olive_core.tracking.TrackerConfig"

    def test_its_module_imports_no_client_library(self, tracker_class: type[Tracker]) -> None:
        loaded = heavy_modules_after_import(tracker_class.__module__)
        assert loaded == [], f"importing {tracker_class.__module__} loads {loaded}"
        if self.client_modules:
            import subprocess
            import sys

            code = f"import sys, {tracker_class.__module__}; print([m for m in {self.client_modules!r} if m in sys.modules])"
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            assert out.strip() == "[]", f"importing {tracker_class.__module__} loads {out.strip()}: import it inside the methods"

    def test_a_toy_run_is_tracked_without_a_warning(
        self, manager: OlivePluginManager, tracker_config: dict[str, Any], tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        from olive_core.engine.api import run
        from olive_core.testing.toy import write_toy_model

        model = write_toy_model(tmp_path / "input" / "weights.json", [[1.5, -2.0]], [0.25])
        workflow = {
            "input_model": {"type": "toy", "config": {"model_path": str(model)}},
            "passes": {
                "scale": {"type": "ToyScale", "config": [{"factor": 2.0}, {"factor": 0.5}]},
                "fail": {"type": "ToyFlaky", "config": {}, "optional": True},
            },
            "engine": {"output_dir": "out", "cache": {"type": "local", "config": {"dir": "cache"}}},
            "tracking": [{"type": self.tracker_type, "config": tracker_config}],
        }
        path = tmp_path / "workflow.json"
        path.write_text(json.dumps(workflow))
        with caplog.at_level(logging.WARNING, logger="olive_core.tracking"):
            result = run(path, manager=manager)
        assert result.ok and len(result.candidates) == 4
        warnings = [r.getMessage() for r in caplog.records if r.name == "olive_core.tracking"]
        assert warnings == [], warnings
