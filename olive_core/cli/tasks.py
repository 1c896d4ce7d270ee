"""What the task commands plugins add (``olive optimize``, ``quantize``, ``convert``) share:
their common options, and turning a request into a workflow that is run or saved.

A plugin's command collects its own options, then calls :func:`run_task`; the recipe chosen
among the installed ones writes an ordinary workflow, so ``--save-workflow`` gives the user a
file to edit and ``olive run``, and the run's run.json records the workflow it ran.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from olive_core.cli.errors import debug_option, handle_errors

F = TypeVar("F", bound=Callable[..., Any])

PRECISION_CHOICES = ("fp32", "fp16", "int8", "int4")


def task_options(function: F) -> F:
    """The options every task command takes, with one-screen errors for what goes wrong."""
    decorators = [
        click.argument("model"),
        click.option("--device", default="cpu", show_default=True, help="Device to optimize for: cpu, gpu or npu (as plugins provide)."),
        click.option("--data", type=click.Path(dir_okay=False), default=None, help="A .txt (one sample a line) or .jsonl file of real inputs, for calibration and evaluation."),
        click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=None, help="Where to write the output (default: olive-output/<model>-<command>)."),
        click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Cache folder (default: OLIVE_CACHE_DIR, else ~/.cache/olive-core)."),
        click.option("--save-workflow", type=click.Path(dir_okay=False), default=None, help="Write the workflow to this file and run nothing."),
        click.option("--dry-run", is_flag=True, help="Show the plan; run nothing."),
        click.option("-q", "--quiet", is_flag=True, help="Print only errors and the output folder."),
        debug_option,
    ]
    for decorate in reversed(decorators):
        function = decorate(function)
    return handle_errors(function)


def run_task(
    task: str,
    model: str,
    *,
    device: str,
    data: str | None,
    output_dir: str | None,
    cache_dir: str | None,
    save_workflow: str | None,
    dry_run: bool,
    quiet: bool,
    precision: str | None = None,
    method: str | None = None,
    loader: str | None = None,
    search: bool = False,
    min_similarity: float = 0.99,
    debug: bool = False,
    **_: Any,
) -> None:
    """Describe the model, choose the recipe, then save the workflow or run it."""
    from olive_core.engine.api import load_workflow
    from olive_core.errors import ConfigError
    from olive_core.plugins import create_plugin_manager
    from olive_core.recipes import Request, choose_recipe, describe_model

    data_file = Path(data).resolve() if data else None
    if data_file is not None and not data_file.is_file():
        raise ConfigError(f"no file '{data}'", path="--data", hint="give a .txt or .jsonl file of inputs")
    request = Request(
        task=task,
        model=describe_model(model, loader),
        device=device,
        precision=precision,
        method=method,
        data=data_file,
        search=search,
        min_similarity=min_similarity,
    )
    manager = create_plugin_manager()
    name, recipe = choose_recipe(request, manager.registry)
    source = manager.registry.get("recipe", name).source
    workflow = recipe.workflow(request)
    # a recipe's own description says what it chose for the user (the data it measures on, a rule)
    notes = str(workflow.get("description") or "").strip()
    workflow["description"] = f"written by `olive {_command_line()}` (recipe '{name}' from {source})" + (f". {notes}" if notes else "")
    if notes and not quiet:
        click.echo(f"recipe '{name}': {notes}", err=True)
    engine = workflow.setdefault("engine", {})
    engine["output_dir"] = str(Path(output_dir or Path("olive-output") / f"{_model_name(request.model.given)}-{task}").resolve())
    if save_workflow:
        load_workflow(workflow, manager)  # a saved workflow is a valid one
        _write_new(Path(save_workflow), json.dumps(workflow, indent=2) + "\n")
        click.echo(f"wrote {save_workflow}; run it with: olive run {shlex.quote(save_workflow)}", err=True)
        return
    from olive_core.cli.run import execute

    execute(workflow, output_dir=None, cache_dir=cache_dir, dry_run=dry_run, quiet=quiet, debug=debug)


def _command_line() -> str:
    """The command as the user would retype it: its name, then the options not left at their default."""
    context = click.get_current_context()
    words = [context.info_name or "olive"]
    for param in context.command.params:
        value = context.params.get(param.name or "")
        if param.name in ("debug", "quiet", "dry_run", "save_workflow") or value in (None, False) or value == param.default:
            continue
        if isinstance(param, click.Argument):
            words.append(shlex.quote(str(value)))
        elif value is True:
            words.append(param.opts[-1])
        else:
            words.extend([param.opts[-1], shlex.quote(str(value))])
    return " ".join(words)


def _model_name(given: str) -> str:
    """A folder name from the model argument: ``models/minilm/`` -> ``minilm``, ``org/name`` -> ``name``."""
    stem = Path(given.rstrip("/\\")).name or "model"
    return Path(stem).stem if stem.lower().endswith(".onnx") else stem


def _write_new(file: Path, text: str) -> None:
    """Write ``file`` whole or not at all; never over a file that exists."""
    from olive_core.errors import ConfigError

    if file.exists():
        raise ConfigError(f"'{file}' exists", path="--save-workflow", hint="choose another file name, or delete it first")
    if not file.parent.is_dir():
        raise ConfigError(f"no folder '{file.parent}' to write '{file.name}' in", path="--save-workflow")
    partial = file.with_name(f".{file.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(file)
