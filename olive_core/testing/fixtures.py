"""pytest fixtures for olive plugins, loaded automatically through the ``pytest11`` entry point."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from olive_core.plugins import OlivePluginManager, create_plugin_manager
from olive_core.testing.distributions import FakeDistribution, make_fake_distribution


@pytest.fixture
def olive_plugin_manager(monkeypatch: pytest.MonkeyPatch) -> OlivePluginManager:
    """A fresh plugin manager with every installed plugin, in lenient mode.

    ``OLIVE_PLUGINS``, ``OLIVE_NO_ENTRY_POINTS`` and ``OLIVE_STRICT_PLUGINS`` are ignored, so a
    plugin that clashes with yours is refused rather than failing your tests;
    ``OLIVE_DISABLE_PLUGINS`` is honoured, so you can leave out one that breaks them.
    """
    for name in ("OLIVE_PLUGINS", "OLIVE_NO_ENTRY_POINTS", "OLIVE_STRICT_PLUGINS"):
        monkeypatch.delenv(name, raising=False)
    return create_plugin_manager()


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FakeDistribution]]:
    """A factory of real installed distributions: ``fake_distribution("olive-foo", entry_points=..., modules=...)``."""
    site = tmp_path / "fake-site-packages"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))

    def make(name: str, version: str = "1.0", **kwargs: Any) -> FakeDistribution:
        return make_fake_distribution(site, name, version, **kwargs)

    yield make
