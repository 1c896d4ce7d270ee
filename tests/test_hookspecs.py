"""The contract is tested mechanically: every hook documented, every hook tested by name."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from olive_core import hookspecs

HOOKS = [name for name, fn in vars(hookspecs).items() if callable(fn) and hasattr(fn, "olive_core_spec")]
TESTS = Path(__file__).parent


def test_hooks_are_found():
    assert set(HOOKS) == set(hookspecs.REGISTRATION_HOOKS) | set(hookspecs.LIFECYCLE_HOOKS)


def test_every_hook_has_a_docstring():
    undocumented = [name for name in HOOKS if len(inspect.getdoc(getattr(hookspecs, name)) or "") < 40]
    assert not undocumented


def test_every_hook_has_a_test_named_after_it():
    sources = "\n".join(path.read_text() for path in TESTS.rglob("test_*.py"))
    missing = [name for name in HOOKS if not re.search(rf"def test_hook_{name}\b", sources)]
    assert not missing, f"add a test_hook_<name> for: {missing}"


def test_hookspecs_module_imports_nothing_heavy():
    source = inspect.getsource(hookspecs)
    runtime_imports = [line for line in source.splitlines() if line.startswith(("import ", "from ")) and "TYPE_CHECKING" not in line]
    assert all(any(ok in line for ok in ("__future__", "typing", "pluggy")) for line in runtime_imports), runtime_imports
