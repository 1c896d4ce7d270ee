"""``olive report``: (re)make a run's report.html from its run.json. Imports click only; the
report code loads when the command runs."""

from __future__ import annotations

import click

from olive_core.cli.errors import debug_option, handle_errors


@click.command()
@click.argument("run_json", type=click.Path(), metavar="RUN_JSON")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None, help="Where to write the page (default: report.html beside RUN_JSON).")
@debug_option
@handle_errors
def report(run_json: str, output: str | None, debug: bool) -> None:
    """Write the HTML report of RUN_JSON (a run.json, or the output folder holding one).

    One self-contained page that works offline: the best model with its speed-up and quality
    against the input, a scatter of every candidate with the Pareto front and goals, a
    sortable table of metrics and configs, how the best model was made, and where it ran.
    """
    from olive_core.errors import OliveError
    from olive_core.report import write_report

    try:
        written = write_report(run_json, output)
    except OSError as exc:
        raise OliveError(f"{output or 'report.html'}: cannot be written: {exc.strerror or exc}") from None
    click.echo(str(written))
