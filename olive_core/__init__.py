"""olive-core: a small core for model optimization; the heavy work lives in plugins.

Importing this package is cheap: it loads no plugin and no ML framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from olive_core.version import PLUGIN_API_VERSION, __version__

#: the marker for hook implementations in plugins: ``@olive_core.hookimpl``
hookimpl = pluggy.HookimplMarker("olive_core")

if TYPE_CHECKING:
    from olive_core.engine.result import WorkflowResult


def run(config: Any, **options: Any) -> WorkflowResult:
    """Run a workflow (a path, a dict or a WorkflowConfig); see :func:`olive_core.engine.api.run`."""
    from olive_core.engine.api import run as _run

    return _run(config, **options)


__all__ = ["__version__", "PLUGIN_API_VERSION", "hookimpl", "run"]
