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
@click.option(
    "--executor",
    "executor_type",
    default=None,
    metavar="TYPE",
    help="Where trials run, replacing search.executor: 'inline', 'process', or one a plugin adds ('dask'); "
    "see `olive plugins`.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and the output folder.")
@debug_option
@handle_errors
def run(
    workflow: str, output_dir: str | None, cache_dir: str | None, dry_run: bool, executor_type: str | None, quiet: bool, debug: bool
) -> None:
    """Run WORKFLOW (a JSON or YAML file)."""
    execute(
        workflow, output_dir=output_dir, cache_dir=cache_dir, dry_run=dry_run, quiet=quiet, debug=debug, executor_type=executor_type
    )


def execute(
    workflow: str | dict[str, Any],
    *,
    output_dir: str | None,
    cache_dir: str | None,
    dry_run: bool,
    quiet: bool,
    debug: bool = False,
    executor_type: str | None = None,
) -> None:
    """Run a workflow file or dict with progress on the console (or show its plan); exits 1 when
    every candidate failed. Shared by ``olive run`` and the task commands plugins add.

    While it runs, what libraries print goes to the run's log (run.log in the output folder),
    and the console shows olive's progress and warnings only; ``debug`` shows everything live.
    """
    from olive_core.cli.capture import capture_output
    from olive_core.cli.console import make_console
    from olive_core.cli.errors import console_logging
    from olive_core.cli.progress import Progress
    from olive_core.cli.report import print_plan, print_result
    from olive_core.engine.api import create_engine

    engine = create_engine(workflow, output_dir=output_dir, cache_dir=cache_dir, executor_type=executor_type)
    log = engine.output_dir / "run.log"
    stderr = make_console(sys.stderr, quiet)
    try:
        if dry_run:
            print_plan(stderr, engine, *engine.plan())
            return
        with engine.log.recording(), capture_output(engine.log.write, enabled=not debug) as terminal:
            engine.log.before_record = terminal.drain
            console = make_console(terminal.stderr, quiet)
            if not debug:
                console.print(f"what libraries print goes to {log} (--debug shows it here)", markup=False, style="dim")
            progress = Progress(console)
            engine.on_event = progress.event
            _cache_progress_on(engine.cache, console)
            with console_logging(console, only_olive=not debug), progress:
                result = engine.run()
    finally:
        _cache_progress_on(engine.cache, stderr)  # closing may wait for uploads, after the capture ended
        engine.cache.close()
    print_result(stderr, result.redacted(engine.redact), str(log) if engine.log.name else None)
    if quiet:
        click.echo(str(result.output_dir))
    if not result.ok:
        sys.exit(EXIT_RUN_FAILED)


def _cache_progress_on(cache: Any, console: Any) -> None:
    """What a slow cache operation waits for (uploads), shown on ``console``."""
    cache.progress = lambda message: console.print(message, style="dim", markup=False)
