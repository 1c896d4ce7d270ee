"""Plugins meet only at public seams: another plugin's ``api`` module, and core's public names.

A plugin that imports another plugin's internals (``olive_torch.io``) breaks whenever that
plugin reorganizes itself, and a private name (``_x``) is private for the same reason. So this
test reads the source of every plugin package (``plugins/*/olive_*``) and every example plugin
package (``examples/*/<package>``), imports none of it, and refuses:

- an import of another distribution's package other than its ``api`` module
  (``from olive_torch.api import dummy_inputs`` is the way in; olive-core itself is open);
- an import of a private name or module of another distribution, core included
  (``from olive_core.cache.local import _handle_of``), or an attribute ``_x`` read from such an
  imported name (``LocalCache._drop``); a private attribute of an instance is out of its reach;
- an import of a distribution that the importing plugin's pyproject does not depend on.

A plugin's ``testing`` module (test helpers it ships for tests: tiny-model builders) is test
code, as ``tests/`` is: it may import another plugin's ``testing`` module and internals, and
the dependencies of its pyproject's extras count for it. Runtime code never imports a
``testing`` module of another plugin: the api rule refuses it.

It reads files relative to the repository root, so it runs wherever ``plugins/`` is beside
``tests/`` (the core nox session included) and skips elsewhere.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not (ROOT / "plugins").is_dir(), reason="plugins/ is not beside tests/ (an installed copy of the tests)"
)

CORE = "olive-core"
CORE_PACKAGE = "olive_core"


@dataclass(frozen=True)
class Distribution:
    name: str
    folder: Path
    packages: tuple[str, ...]
    dependencies: frozenset[str]
    #: the dependencies of its extras (``test``, ...) too: what its testing module may import
    extra_dependencies: frozenset[str] = frozenset()


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _distribution(folder: Path) -> Distribution:
    project = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    packages = tuple(sorted(p.parent.name for p in folder.glob("*/__init__.py") if p.parent.name != "tests"))
    extras = [r for group in project.get("optional-dependencies", {}).values() for r in group]
    return Distribution(
        _normalized(project["name"]),
        folder,
        packages,
        _names(project.get("dependencies", [])),
        _names(extras),
    )


def _names(requirements: list[str]) -> frozenset[str]:
    return frozenset(_normalized(re.match(r"[A-Za-z0-9_.-]+", r).group(0)) for r in requirements)


def distributions() -> list[Distribution]:
    """Every plugin and example plugin distribution of this checkout (those with a pyproject)."""
    projects = [*ROOT.glob("plugins/*/pyproject.toml"), *ROOT.glob("examples/*/pyproject.toml")]
    folders = sorted(project.parent for project in projects)
    return [_distribution(folder) for folder in folders]


def owners(found: list[Distribution]) -> dict[str, str]:
    """Top-level package -> the distribution that ships it."""
    return {CORE_PACKAGE: CORE, **{package: d.name for d in found for package in d.packages}}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_test_support(path: Path) -> bool:
    """A plugin's ``testing`` module or package: helpers it ships for tests."""
    return "testing" in path.with_suffix("").parts


def violations(
    source: str, where: str, own: Distribution, owner_of: dict[str, str], test_support: bool = False
) -> list[str]:
    """What ``source`` (a module of ``own``; ``test_support``: its testing module) does across a
    seam that it should not."""
    tree = ast.parse(source)
    dependencies = own.dependencies | own.extra_dependencies if test_support else own.dependencies
    found: list[str] = []
    #: names this module binds to another distribution's modules, classes and functions
    foreign: dict[str, str] = {}

    def check(module: str, names: list[str], line: int) -> None:
        top = module.split(".")[0]
        other = owner_of.get(top)
        if other is None or top in own.packages:
            return
        at = f"{where}:{line}"
        if other not in dependencies:
            found.append(f"{at}: imports {module} ({other}), which {own.name}'s pyproject does not depend on")
        private = [part for part in module.split(".") if _is_private(part)] + [n for n in names if _is_private(n)]
        is_api = module == f"{top}.api" or (module == top and names == ["api"])
        if private:
            found.append(f"{at}: imports the private {', '.join(private)} of {other} ({module})")
        elif other != CORE and not (is_api or test_support):
            found.append(
                f"{at}: imports {module} (inside {other}); import from {top}.api, its public surface "
                "(or ask for the name to be added there)"
            )

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                check(alias.name, [], node.lineno)
                if alias.name.split(".")[0] in owner_of:
                    foreign[alias.asname or alias.name.split(".")[0]] = alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            check(node.module, [alias.name for alias in node.names], node.lineno)
            if node.module.split(".")[0] in owner_of and node.module.split(".")[0] not in own.packages:
                for alias in node.names:
                    foreign[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in foreign and foreign[base.id].split(".")[0] not in own.packages:
                found.append(f"{where}:{node.lineno}: reads the private {ast.unparse(node)} of {foreign[base.id]}")
    return found


def _sources(distribution: Distribution) -> list[Path]:
    return sorted(path for package in distribution.packages for path in (distribution.folder / package).rglob("*.py"))


def test_the_scan_finds_the_plugins():
    found = {d.name: d for d in distributions()}
    assert {"olive-torch", "olive-onnx", "olive-torch-quant", "olive-example-plugin"} <= set(found)
    assert found["olive-torch"].packages == ("olive_torch",)
    assert all(_sources(d) for d in found.values()), "a distribution without package source"


@pytest.mark.parametrize("distribution", distributions(), ids=lambda d: d.name)
def test_plugins_use_only_public_seams(distribution: Distribution):
    owner_of = owners(distributions())
    found = [
        problem
        for path in _sources(distribution)
        for problem in violations(
            path.read_text(encoding="utf-8"),
            str(path.relative_to(ROOT)),
            distribution,
            owner_of,
            test_support=is_test_support(path.relative_to(distribution.folder)),
        )
    ]
    assert not found, "\n".join(found)


def _api_modules() -> list[Path]:
    return sorted(ROOT.glob("plugins/*/olive_*/api.py"))


def test_api_modules_say_what_they_are():
    """Each plugin's api module has a docstring and an explicit ``__all__`` of names it imports."""
    assert {path.parent.name for path in _api_modules()} >= {"olive_torch", "olive_onnx"}
    for path in _api_modules():
        where = path.relative_to(ROOT)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        assert ast.get_docstring(tree), f"{where} has no module docstring"
        exported = next(
            (
                ast.literal_eval(node.value)
                for node in tree.body
                if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
            ),
            None,
        )
        assert exported, f"{where} has no __all__"
        imports = [node for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        imported = {alias.asname or alias.name for node in imports for alias in node.names}
        assert sorted(set(exported) - imported) == [], f"{where}: __all__ names what it does not import"


HEAVY = ("torch", "onnx", "onnxruntime", "transformers", "diffusers")


@pytest.mark.parametrize("path", _api_modules(), ids=lambda path: path.parent.name)
def test_importing_an_api_module_is_light(path: Path):
    """Plugins may import api names at module level: that must not load torch or onnx."""
    module = f"{path.parent.name}.api"
    if importlib.util.find_spec(path.parent.name) is None:
        pytest.skip(f"{path.parent.name} is not installed here")
    code = (
        f"import json, sys, {module} as api\n"
        f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "missing = [name for name in api.__all__ if not hasattr(api, name)]\n"
        "print(json.dumps([heavy, missing]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    heavy, missing = json.loads(out.stdout.strip().splitlines()[-1])
    assert heavy == [], f"importing {module} imports {heavy}"
    assert missing == [], f"{module}.__all__ names what it does not provide: {missing}"


def test_the_scan_refuses_what_it_should():
    own = Distribution("olive-foo", ROOT, ("olive_foo",), frozenset({CORE, "olive-torch"}))
    owner_of = {CORE_PACKAGE: CORE, "olive_foo": "olive-foo", "olive_torch": "olive-torch", "olive_onnx": "olive-onnx"}
    source = """
from typing import TYPE_CHECKING
import olive_foo.inner
from olive_foo._own import _fine
from olive_core.errors import ConfigError
from olive_core.cache.local import LocalCache, _handle_of
from olive_core._hidden import thing
from olive_torch.api import dummy_inputs
from olive_torch import api
import olive_torch.io
from olive_onnx.api import read_graph
from olive_torch.testing import TINY_BERT
if TYPE_CHECKING:
    from olive_torch.wrapping import wrap_for_io
LocalCache._drop
olive_torch.io._size_hint
dummy_inputs.__name__
"""
    found = violations(source, "x.py", own, owner_of)
    assert [problem.split(": ")[0] for problem in found] == [
        "x.py:6",  # _handle_of
        "x.py:7",  # olive_core._hidden
        "x.py:10",  # olive_torch.io
        "x.py:11",  # olive-onnx: not a dependency
        "x.py:12",  # another plugin's testing module, from runtime code
        "x.py:14",  # olive_torch.wrapping, under TYPE_CHECKING too
        "x.py:15",  # LocalCache._drop
        "x.py:16",  # olive_torch.io._size_hint
    ], "\n".join(found)


def test_a_testing_module_is_test_code():
    """It may reach into other plugins as tests do; private names and undeclared packages stay refused."""
    own = Distribution("olive-foo", ROOT, ("olive_foo",), frozenset({CORE}), frozenset({"olive-torch"}))
    owner_of = {CORE_PACKAGE: CORE, "olive_foo": "olive-foo", "olive_torch": "olive-torch", "olive_onnx": "olive-onnx"}
    source = """
from olive_torch.testing import TINY_BERT
from olive_torch.hf_model import HfModelType
from olive_torch.io import _size_hint
from olive_onnx.testing import onnx_handle
"""
    found = violations(source, "testing.py", own, owner_of, test_support=True)
    assert [problem.split(": ")[0] for problem in found] == ["testing.py:4", "testing.py:5"], "\n".join(found)
    assert is_test_support(Path("olive_foo/testing.py")) and is_test_support(Path("olive_foo/testing/models.py"))
    assert not is_test_support(Path("olive_foo/passes/quantize.py"))
