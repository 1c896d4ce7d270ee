"""No package of this repository imports itself in a circle.

A cycle works only while every import in it stays inside a function; the next person to move
one to the top of a file gets a half-initialised module. So the shared piece moves down instead,
and this test (source only, nothing imported) keeps it so. Imports under ``if TYPE_CHECKING:``
do not count (they never run), nor does importing a package's ``__init__``: it is the
package's facade (``olive_core.hookimpl``, ``olive_core.run``), imported by nearly everything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _packages() -> list[Path]:
    """olive_core and every plugin package beside it in this checkout."""
    packages = [ROOT / "olive_core"]
    packages += sorted(path.parent for path in ROOT.glob("plugins/*/olive_*/__init__.py"))
    return packages


def _module_name(package: Path, path: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: at module level or in a function, not under TYPE_CHECKING."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append(child)
            visit(child)

    visit(tree)
    return found


def import_graph(package: Path) -> dict[str, set[str]]:
    """Module -> the modules of the same package it imports (a name imported from a package
    counts as the submodule when there is one of that name)."""
    modules = {_module_name(package, path): path for path in package.rglob("*.py")}

    def owner(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        deps: set[str | None] = set()
        for node in _runtime_imports(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                deps.update(owner(alias.name) for alias in node.names if alias.name.split(".")[0] == package.name)
                continue
            base = node.module or ""
            if node.level:  # relative: from the module's own package upwards
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            if base.split(".")[0] != package.name:
                continue
            for alias in node.names:
                deps.add(owner(f"{base}.{alias.name}") if f"{base}.{alias.name}" in modules else owner(base))
        graph[name] = {dep for dep in deps if dep and dep != name and dep != package.name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for dep in graph.get(module, ()):
            if dep not in index:
                visit(dep)
                low[module] = min(low[module], low[dep])
            elif dep in stack:
                low[module] = min(low[module], index[dep])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


@pytest.mark.parametrize("package", _packages(), ids=lambda path: path.name)
def test_no_import_cycle(package: Path):
    assert cycles(import_graph(package)) == []


def test_the_scan_sees_a_cycle_through_a_function_level_import(tmp_path: Path):
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg.b import thing\n")
    (package / "b.py").write_text("def thing():\n    from pkg import a\n")
    (package / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import x\n")
    (package / "d.py").write_text("from .c import y\n")
    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b"]]
