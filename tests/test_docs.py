"""docs/architecture.md stays true: its layout names every module of olive_core, its table of the
repository's plugins names every component each registers, and the install-hint table
(olive_core/known_plugins.py) lists what the plugins register, no more and no less."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from olive_core.known_plugins import HINTED_KINDS, KNOWN_PLUGINS
from olive_core.plugins import create_plugin_manager
from olive_core.registry import KINDS

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = (ROOT / "docs" / "architecture.md").read_text()
#: distribution name -> its folder, for every plugin of this repository
PLUGINS = {
    tomllib.loads(path.read_text())["project"]["name"]: path.parent
    for path in sorted((ROOT / "plugins").glob("*/pyproject.toml"))
}
#: layout lines whose first token starts at a column below this name a file or folder; deeper
#: lines continue the description of the entry above
NAME_COLUMN_LIMIT = 16


def section(title: str) -> str:
    """The text of the architecture document's ``## title`` section."""
    start = ARCHITECTURE.index(f"\n## {title}\n")
    end = ARCHITECTURE.find("\n## ", start + 1)
    return ARCHITECTURE[start : end if end != -1 else None]


def layout_paths() -> set[str]:
    """Every file and folder the layout names, as a path (``olive_core/engine/trial.py``): an entry
    line's name, and the ``x.py`` names its description mentions, inside the folder it describes."""
    block = section("Layout").split("```")[1]
    found: set[str] = set()
    folders: list[tuple[int, str]] = []  # (indent, path) of the enclosing folders
    context = ""
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if indent < NAME_COLUMN_LIMIT:
            name, _, description = line.strip().partition(" ")
            while folders and folders[-1][0] >= indent:
                folders.pop()
            parent = folders[-1][1] if folders else ""
            found.add(parent + name)
            if name.endswith("/"):
                folders.append((indent, parent + name))
                context = parent + name
            else:
                context = parent
        else:
            description = line
        found.update(context + mentioned for mentioned in re.findall(r"\b\w+\.py\b", description))
    return found


def test_the_layout_names_every_module_and_package() -> None:
    named = layout_paths()
    modules = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "olive_core").rglob("*.py"))
    missing = [module for module in modules if not module.endswith("/__init__.py") and module not in named]
    packages = sorted({module.rsplit("/", 1)[0] + "/" for module in modules})
    missing += [package for package in packages if package not in named]
    assert not missing, f"docs/architecture.md's layout does not name {missing}"
    stale = sorted(path for path in named if path.startswith("olive_core/") and not (ROOT / path).exists())
    assert not stale, f"docs/architecture.md's layout names {stale}, which do not exist"


def plugins_table() -> dict[str, set[str]]:
    """The 'Plugins in this repository' table: distribution -> every `name` its row lists."""
    rows: dict[str, set[str]] = {}
    for line in section("Plugins in this repository").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = set(re.findall(r"`([^`]+)`", cells[1]))
    return rows


def test_the_plugins_table_has_a_row_for_core_and_each_plugin() -> None:
    assert set(plugins_table()) == {"olive-core", *PLUGINS}


def test_the_plugins_table_lists_every_registered_component() -> None:
    expected = [name for name in os.environ.get("OLIVE_EXPECT_PLUGINS", "").split(",") if name]
    if not expected:
        pytest.skip(
            "OLIVE_EXPECT_PLUGINS not set: comparing the table with what plugins register needs every "
            "plugin of the repository installed (the nox 'everything' session sets it)"
        )
    manager = create_plugin_manager()
    installed = {source.distribution for source in manager.sources.values()}
    absent = (set(expected) | set(PLUGINS)) - installed
    assert not absent, f"not loaded: {sorted(absent)}; failures: {manager.failures}"
    table = plugins_table()
    missing = [
        f"{component.source.distribution}: {kind} {component.name}"
        for kind in KINDS
        for component in manager.registry.components(kind)
        if component.source.distribution in table and component.name not in table[component.source.distribution]
    ]
    assert not missing, f"docs/architecture.md's plugin table lacks {missing}"


def test_known_plugins_names_only_plugins_of_this_repository() -> None:
    assert set(KNOWN_PLUGINS) <= set(PLUGINS)
    assert all(set(kinds) <= set(HINTED_KINDS) for kinds in KNOWN_PLUGINS.values())


@pytest.mark.parametrize("distribution", sorted(PLUGINS))
def test_known_plugins_lists_what_each_plugin_registers(distribution: str) -> None:
    manager = create_plugin_manager()
    if distribution not in {source.distribution for source in manager.sources.values()}:
        pytest.skip(f"{distribution} is not installed here (the nox 'everything' session installs every plugin)")
    registered = {
        kind: {c.name for c in manager.registry.components(kind) if c.source.distribution == distribution}
        for kind in HINTED_KINDS
    }
    listed = {kind: set(KNOWN_PLUGINS.get(distribution, {}).get(kind, ())) for kind in HINTED_KINDS}
    assert listed == registered, f"olive_core/known_plugins.py differs from what {distribution} registers"
