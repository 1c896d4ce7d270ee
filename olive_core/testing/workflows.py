"""Toy workflows for tests: the toy plugin's manager, its input model, workflow files, the CLI.

These are plain functions, not fixtures. ``olive_core.testing.fixtures`` is loaded into every
pytest run of every project that installs olive-core (the ``pytest11`` entry point), so only
generic fixtures live there, each named ``olive_*``. Which toy model and workflow a suite
wants is its own choice: its conftest wraps these functions in fixtures named as it likes
(tests/conftest.py: ``toy_manager``, ``toy_model``, ``write_workflow``, ``invoke``), and tests
and scripts import them from here, never from a conftest, so that every test folder of the
repository collects in one pytest call.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.plugins import OlivePluginManager, create_plugin_manager
from olive_core.testing.toy import write_toy_model

if TYPE_CHECKING:
    from click.testing import Result

#: the toy plugin's import path, for ``extra_plugins`` and ``OLIVE_PLUGINS``
TOY = "olive_core.testing.toy"
#: the toy input model: ``y = x @ TOY_WEIGHTS + TOY_BIAS``
TOY_WEIGHTS = [[1.23456, -2.5], [0.125, 3.75]]
TOY_BIAS = [0.5, -0.25]


def toy_manager() -> OlivePluginManager:
    """A fresh plugin manager: the installed plugins and the toy plugin."""
    return create_plugin_manager(extra_plugins=[TOY])


def write_toy_input(folder: Path) -> Path:
    """Write the toy input model to ``folder/input/weights.json``; return its path."""
    return write_toy_model(folder / "input" / "weights.json", TOY_WEIGHTS, TOY_BIAS)


def toy_workflow(model: Path, cache: dict[str, Any] | None = None, **sections: Any) -> dict[str, Any]:
    """A workflow over the toy model: scale by 2, then round to 1 decimal, output in ``out``.

    ``cache`` is the engine's cache section (default: a local cache in ``cache``); keyword
    arguments replace whole top-level sections (``engine=...`` replaces ``cache`` too).
    """
    workflow: dict[str, Any] = {
        "input_model": {"type": "toy", "config": {"model_path": str(model)}},
        "passes": {
            "scale": {"type": "ToyScale", "config": {"factor": 2.0}},
            "round": {"type": "ToyRound", "config": {"decimals": 1}},
        },
        "engine": {"output_dir": "out", "cache": cache or {"type": "local", "config": {"dir": "cache"}}},
    }
    workflow.update(sections)
    return workflow


def write_workflow(path: Path, workflow: dict[str, Any]) -> Path:
    """Write a workflow as JSON; return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(workflow))
    return path


def invoke_olive(*args: str) -> Result:
    """``olive ARGS...`` in this process, through click's CliRunner; exceptions are not caught.

    The plugins are those of the environment: set ``OLIVE_PLUGINS`` to :data:`TOY` for the toy's.
    """
    from click.testing import CliRunner

    from olive_core.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def run_olive(*args: Any, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``olive ARGS...`` in a subprocess, as a user runs it (its own console and exit code): the
    ``olive`` next to this interpreter, none of the caller's ``OLIVE_*`` variables, the Hugging
    Face hub offline; ``env`` is added. Arguments may be paths."""
    executable = shutil.which("olive", path=str(Path(sys.executable).parent)) or "olive"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OLIVE_")}
    environment.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})})
    return subprocess.run([executable, *map(str, args)], capture_output=True, text=True, env=environment, cwd=cwd, check=False)
