"""``olive run``: validate a workflow, run it, print what it found."""

from __future__ import annotations

import sys
from typing import Any

import click

from olive_core.cli.errors import EXIT_RUN_FAILED, debug_option, handle_errors


@click.command()
@click.argument("workflow", type=click.Path(dir_okay=False))
@click.option("-o", "--output-dir", type=click.Path(file_okay=False), default=None, help="Where to write the output (default: engine.output_dir).")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None, help="Cache folder (default: OLIVE_CACHE_DIR, else ~/.cache/olive-core).")
@click.option("--dry-run", is_flag=True, help="Validate and show the plan; run nothing.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the output folder.")
@debug_option
@handle_errors
def run(workflow: str, output_dir: str | None, cache_dir: str | None, dry_run: bool, quiet: bool, debug: bool) -> None:
    """Run WORKFLOW (a JSON or YAML file)."""
    execute(workflow, output_dir=output_dir, cache_dir=cache_dir, dry_run=dry_run, quiet=quiet)


def execute(
    workflow: str | dict[str, Any], *, output_dir: str | None, cache_dir: str | None, dry_run: bool, quiet: bool
) -> None:
    """Run a workflow file or dict with progress on the console (or show its plan); exits 1 when
    every candidate failed. Shared by ``olive run`` and the task commands plugins add."""
    from rich.console import Console

    from olive_core.cli.report import Progress, print_plan, print_result
    from olive_core.engine.api import create_engine

    console = Console(stderr=True, quiet=quiet)
    progress = Progress(console)
    engine = create_engine(workflow, output_dir=output_dir, cache_dir=cache_dir, on_event=progress.event)
    engine.cache.progress = lambda message: console.print(f"[dim]{message}[/]")
    try:
        if dry_run:
            print_plan(console, engine, *engine.plan())
            return
        with progress:
            result = engine.run()
    finally:
        engine.cache.close()
    print_result(console, result.redacted(engine.redact))
    if quiet:
        click.echo(str(result.output_dir))
    if not result.ok:
        sys.exit(EXIT_RUN_FAILED)
