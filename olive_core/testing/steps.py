"""One step taken the way the engine takes it, for tests of model types and passes.

``input_handle`` makes an input model's handle as ``olive run`` does; ``run_pass`` checks and
runs one registered pass into a folder with the context the engine would give it. Every plugin's
tests use these rather than a copy, so they follow the engine when it changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from olive_core.accelerators import AcceleratorSpec
from olive_core.models.handler import ModelHandler
from olive_core.passes.base import PassContext
from olive_core.plugins import create_plugin_manager

#: the CPU with ONNX Runtime's provider: what passes and runtimes are tested on
CPU = AcceleratorSpec("cpu", "CPUExecutionProvider")


def input_handle(model_type: str, base_dir: Path, **config: Any) -> ModelHandler:
    """The handle of an input model of a registered type: config validated, model checked, content id set."""
    cls = create_plugin_manager().registry.load("model_type", model_type)
    instance = cls()
    handle = instance.create_handle("input_model", cls.Config.model_validate(config), base_dir)
    instance.check(handle)
    return handle.model_copy(update={"id": instance.content_id(handle)})


def run_pass(
    pass_name: str,
    model: ModelHandler,
    output_dir: Path,
    config: dict[str, Any] | None = None,
    data: Callable[[str], Any] | Mapping[str, Any] | None = None,
    accelerator: AcceleratorSpec = CPU,
) -> tuple[ModelHandler, PassContext]:
    """Check and run one registered pass into ``output_dir``; return its output model and context.

    ``data`` is what ``context.data`` answers: a function of the data config's name, or a mapping
    of names to batches.
    """
    pass_class = create_plugin_manager().registry.load("pass", pass_name)
    the_pass, parsed = pass_class(), pass_class.Config(**(config or {}))
    reader = data.__getitem__ if isinstance(data, Mapping) else data
    context = PassContext(accelerator=accelerator, step=pass_name, data=reader)
    the_pass.check_input(model, parsed, context)
    output_dir.mkdir(parents=True, exist_ok=True)
    return the_pass.run(model, parsed, output_dir, context), context
