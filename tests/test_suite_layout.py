"""Every test folder of the repository collects in one pytest call.

That holds while no test imports a conftest or another test module by name: a helper a test
imports lives in an importable module (olive_core.testing, a plugin's ``testing`` module, a
sibling helper module), and conftests only define fixtures. Otherwise two plugins' same-named
conftests clash, and under ``--import-mode=importlib`` such imports do not resolve at all.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: the folders of tests and the scripts that share their helpers
FOLDERS = ["tests", "plugins/*/tests", "plugins/*/docs", "examples/*/tests", "bench"]


def _test_folders() -> list[Path]:
    return sorted(folder for pattern in FOLDERS for folder in ROOT.glob(pattern) if folder.is_dir())


def _imports(source: str) -> list[str]:
    """The modules the source imports, as written (``from . import x`` gives ``.x``)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level
            found += [prefix + node.module] if node.module else [prefix + alias.name for alias in node.names]
    return found


def _imported_test_modules(source: str) -> list[str]:
    """The conftest and test_* modules that the source imports."""
    last = [(name, name.rsplit(".", 1)[-1]) for name in _imports(source)]
    return [name for name, module in last if module == "conftest" or module.startswith("test_")]


def test_the_scan_sees_every_form_of_import() -> None:
    source = "import conftest\nfrom conftest import TOY\nfrom .conftest import x\nfrom . import conftest, helpers\nfrom test_workflow import w\nimport olive_core.testing\n"
    assert _imported_test_modules(source) == ["conftest", "conftest", ".conftest", ".conftest", "test_workflow"]


def test_no_test_imports_a_conftest_or_a_test_module() -> None:
    offenders = []
    for folder in _test_folders():
        for path in sorted(folder.rglob("*.py")):
            if any(part.startswith(".") or part == "__pycache__" for part in path.relative_to(ROOT).parts):
                continue
            for name in _imported_test_modules(path.read_text(encoding="utf-8")):
                offenders.append(f"{path.relative_to(ROOT)}: imports {name}")
    assert not offenders, (
        "move what these import into an importable module (olive_core.testing, the plugin's "
        "<package>/testing.py, or a helper module next to the tests):\n" + "\n".join(offenders)
    )


def test_no_package_module_imports_a_testing_module() -> None:
    """olive_core.testing and each plugin's ``testing`` module are for tests: importing one from a
    package module would load pytest (and a plugin's test models) into every run."""
    packages = [ROOT / "olive_core", *(p.parent for p in ROOT.glob("plugins/*/*/__init__.py"))]
    offenders = []
    for package in packages:
        for path in sorted(package.rglob("*.py")):
            if path.name == "testing.py" or "testing" in path.relative_to(package).parts:
                continue
            testing = [name for name in _imports(path.read_text(encoding="utf-8")) if "testing" in name.split(".")]
            offenders += [f"{path.relative_to(ROOT)}: imports {name}" for name in testing]
    assert not offenders, "\n".join(offenders)


def test_every_test_folder_collects_in_one_call() -> None:
    """With every plugin installed: core, plugin, example and bench tests gather without error."""
    if not os.environ.get("OLIVE_EXPECT_PLUGINS"):
        pytest.skip("OLIVE_EXPECT_PLUGINS not set (set by the nox session with every plugin)")
    folders = [str(folder.relative_to(ROOT)) for folder in _test_folders() if folder.name == "tests"] + ["bench/tests"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *folders],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-2000:]}"


def test_every_nox_session_frees_its_disk_under_make_test() -> None:
    """`make test` makes a dozen virtualenvs of 1-5 GB and tests that write GBs of models: each
    session deletes its virtualenv when it ends (``OLIVE_NOX_DISCARD_VENVS``, set by the Makefile)
    and pytest deletes a passing test's folder (``PYTEST_ARGS``), so the disk holds one session's
    at a time. A session written without them filled a CI machine's disk."""
    tree = ast.parse((ROOT / "noxfile.py").read_text(encoding="utf-8"))
    sessions = [
        node for node in tree.body
        if isinstance(node, ast.FunctionDef) and any("nox.session" in ast.unparse(d) for d in node.decorator_list)
    ]  # fmt: skip
    assert {session.name for session in sessions} >= {"core", "plugin", "example_plugin", "everything"}
    for session in sessions:
        guarded = [w for w in ast.walk(session) if isinstance(w, ast.With) and "_session_venv(session)" in ast.unparse(w.items[0])]
        assert guarded, f"nox session {session.name} does not run inside `with _session_venv(session):`"
    for function in (node for node in tree.body if isinstance(node, ast.FunctionDef)):
        for call in ast.walk(function):
            if isinstance(call, ast.Call) and call.args and ast.unparse(call.args[0]) == "'pytest'":
                assert "*PYTEST_ARGS" in ast.unparse(call), f"{function.name}: pytest runs without PYTEST_ARGS"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "OLIVE_NOX_DISCARD_VENVS=1 $(VENV)/bin/nox" in makefile
