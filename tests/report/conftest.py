"""A finished toy run shaped like a real one (tests/report/toy_search.py), made once per module."""

from __future__ import annotations

from pathlib import Path

import pytest

from olive_core.engine.api import run
from olive_core.testing import workflows

from .toy_search import toy_sections


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The output folder of a finished toy run: 8 candidates, 4 failed; run.json and report.html
    in it. Made once per module: the tests only read it."""
    folder = tmp_path_factory.mktemp("toy-run")
    workflow = workflows.toy_workflow(workflows.write_toy_input(folder), **toy_sections(folder))
    path = workflows.write_workflow(folder / "workflow.json", workflow)
    with pytest.MonkeyPatch.context() as env:  # as tests/conftest.py isolates each test
        for name in ("OLIVE_DISABLE_PLUGINS", "OLIVE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS"):
            env.delenv(name, raising=False)
        result = run(path, manager=workflows.toy_manager())
    assert len(result.candidates) == 8 and sum(not c.ok for c in result.candidates) == 4
    return result.output_dir
