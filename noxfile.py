"""One session per distribution, each in its own virtualenv, plus one with everything.

A plugin's session installs core, that plugin and the plugins it depends on only, so a hidden
import of another plugin fails its tests. Installs are non-editable (built wheels), which
catches packaging mistakes. Every install uses constraints.txt (it pins the CPU torch).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import nox

ROOT = Path(__file__).parent
#: every install: the pin file, and no byte-compiling. pip compiles every module it installs
#: (torch and transformers alone are ~5,000 files) in each session's fresh virtualenv; the tests
#: import a fraction of them, which Python compiles on first import and caches (TEST_ENV lets it
#: write that cache). Measured here: installing torch alone takes 27 s with compiling, 8 s without.
PIP_ARGS = ("-c", str(ROOT / "constraints.txt"), "--no-compile")
#: every pytest call: name the 10 slowest tests in the log (where make test's time goes), and
#: delete a passing test's temporary folder when it ends (the olive-onnx search alone leaves GBs
#: of candidate models; pytest's default keeps every test's folder of the last three runs)
PYTEST_ARGS = ("--durations=10", "-o", "tmp_path_retention_policy=failed")
#: set by `make test`: each session deletes its virtualenv (1-5 GB) when it ends, so the disk holds
#: one session's at a time. Sessions run by hand (`nox -R -s core`) keep theirs.
DISCARD_VENVS = bool(os.environ.get("OLIVE_NOX_DISCARD_VENVS"))

#: plugin -> the plugins it depends on (installed alongside it)
PLUGIN_DEPENDENCIES = {
    "olive-torch": [],
    "olive-onnx": ["olive-torch"],
    "olive-torch-quant": ["olive-torch"],
    "olive-diffusion": ["olive-torch", "olive-onnx"],
    "olive-azure-cache": [],
    "olive-genai": ["olive-torch", "olive-onnx"],
    "olive-qnn": ["olive-torch", "olive-onnx"],
    "olive-mlflow": [],
    # its shared-cache test runs workers on the azure backend
    "olive-dask": ["olive-azure-cache"],
}
PLUGINS = [name for name in PLUGIN_DEPENDENCIES if (ROOT / "plugins" / name / "pyproject.toml").exists()]
EXAMPLE_PLUGIN = ROOT / "examples" / "olive-example-plugin"

nox.options.sessions = ["core", "plugin", "example_plugin", "everything"]
nox.options.reuse_existing_virtualenvs = False
nox.options.error_on_missing_interpreters = True

TEST_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "OLIVE_STRICT_PLUGINS": "1",
    # Python caches the bytecode of what the tests import (the installs compile nothing, see
    # PIP_ARGS); a machine that sets PYTHONDONTWRITEBYTECODE would recompile it in every process
    "PYTHONDONTWRITEBYTECODE": "",
    # the Azurite emulator installed by `make test` (olive-azure-cache tests start it)
    "AZURITE_BLOB": os.environ.get("AZURITE_BLOB", str(ROOT / ".tools/azurite/node_modules/.bin/azurite-blob")),
}


@contextlib.contextmanager
def _session_venv(session: nox.Session) -> Iterator[None]:
    """Delete the session's virtualenv when it ends, passed or failed, if DISCARD_VENVS."""
    try:
        yield
    finally:
        if DISCARD_VENVS:
            shutil.rmtree(session.virtualenv.location, ignore_errors=True)


def _install(session: nox.Session, *targets: str, torch: bool = True) -> None:
    """Install torch first and alone, from the pin, so that nothing resolves a CUDA build."""
    if torch:
        session.install(*PIP_ARGS, "torch==2.13.0")
    session.install(*PIP_ARGS, *targets)


def _needs_torch(plugin: str) -> bool:
    return plugin == "olive-torch" or "olive-torch" in PLUGIN_DEPENDENCIES[plugin]


def _plugin_target(name: str, extras: str = "test") -> str:
    return f"{ROOT / 'plugins' / name}[{extras}]"


@nox.session
def core(session: nox.Session) -> None:
    """Core alone: no plugin, no torch, no onnx."""
    with _session_venv(session):
        session.install(*PIP_ARGS, f"{ROOT}[test]")
        session.run("pytest", "tests", *PYTEST_ARGS, *session.posargs, env=TEST_ENV)


@nox.session
@nox.parametrize("plugin", PLUGINS)
def plugin(session: nox.Session, plugin: str) -> None:
    """Core + one plugin (+ the plugins it depends on)."""
    targets = [str(ROOT)] + [str(ROOT / "plugins" / dep) for dep in PLUGIN_DEPENDENCIES[plugin]]
    with _session_venv(session):
        _install(session, *targets, _plugin_target(plugin), torch=_needs_torch(plugin))
        session.run("pytest", str(ROOT / "plugins" / plugin / "tests"), *PYTEST_ARGS, *session.posargs, env=TEST_ENV)


@nox.session
def example_plugin(session: nox.Session) -> None:
    """The example third-party plugin, installed as a built wheel and used in a real `olive run`."""
    if not EXAMPLE_PLUGIN.exists():
        session.skip("no example plugin")
    with _session_venv(session):
        wheels = Path(session.create_tmp()) / "wheels"
        session.run("python", "-m", "pip", "wheel", "--no-deps", "-w", str(wheels), str(EXAMPLE_PLUGIN))
        wheel = next(wheels.glob("olive_example_plugin-*.whl"))
        targets = [str(ROOT), str(ROOT / "plugins" / "olive-torch"), str(ROOT / "plugins" / "olive-onnx")]
        _install(session, *targets, "pytest", str(wheel))
        session.run("pytest", str(EXAMPLE_PLUGIN / "tests"), *PYTEST_ARGS, *session.posargs, env=TEST_ENV)


@nox.session
def everything(session: nox.Session) -> None:
    """Core and every plugin installed together, with the `data` extra, in one pytest call: core's
    tests again (import-cost checks, the parquet/HF-dataset loaders, the whole suite collected at
    once), the tests that cross plugins, and every benchmark script on its smallest setting
    (bench/tests), so that none can rot. The root pyproject's ``--import-mode=importlib`` lets the
    plugins' same-named test files and conftests sit side by side."""
    with _session_venv(session):
        _test_everything(session)


def _test_everything(session: nox.Session) -> None:
    # the `data` extra makes the parquet and HF-dataset loader tests run here (they skip in `core`)
    _install(session, f"{ROOT}[test,data]", *(_plugin_target(name) for name in PLUGINS))
    expect = {"OLIVE_EXPECT_PLUGINS": ",".join(PLUGINS), "OLIVE_EXPECT_EXTRAS": "data"}
    # tests that cross plugins (they skip in a single plugin's session)
    cross = [
        ROOT / "plugins" / "olive-torch-quant" / "tests" / "test_example_onnx.py",
        ROOT / "plugins" / "olive-torch" / "tests" / "test_loading_extras.py",
    ]
    paths = [str(ROOT / "tests"), *(str(path) for path in cross if path.exists()), str(ROOT / "bench" / "tests")]
    session.run("pytest", *paths, *PYTEST_ARGS, *session.posargs, env={**TEST_ENV, **expect})


if os.environ.get("CI"):
    nox.options.stop_on_first_error = False
