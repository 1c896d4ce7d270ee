"""Make a real installed distribution (a ``.dist-info`` folder on ``sys.path``) for tests.

``importlib.metadata`` finds it like any installed package, so entry-point discovery is tested
for real, with no mocks.
"""

from __future__ import annotations

import importlib
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path


@dataclass
class FakeDistribution:
    name: str
    version: str
    root: Path


def make_fake_distribution(
    root: Path,
    name: str,
    version: str = "1.0",
    entry_points: dict[str, dict[str, str]] | None = None,
    modules: dict[str, str] | None = None,
) -> FakeDistribution:
    """Write ``modules`` (relative path -> source) and a dist-info for ``name`` under ``root``.

    ``root`` must be on ``sys.path`` (the ``fake_distribution`` fixture does that).
    """
    root.mkdir(parents=True, exist_ok=True)
    for relative, source in (modules or {}).items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    dist_info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir(exist_ok=True)
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = []
    for group, items in (entry_points or {}).items():
        lines.append(f"[{group}]")
        lines += [f"{key} = {value}" for key, value in items.items()]
    (dist_info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    importlib.invalidate_caches()
    for module in list(sys.modules):
        top = module.split(".")[0]
        if (root / top).exists() or (root / f"{top}.py").exists():
            del sys.modules[module]
    return FakeDistribution(name, version, root)
