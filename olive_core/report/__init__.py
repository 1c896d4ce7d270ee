"""report.html: a run's result people can see, made from its run.json alone.

``olive run`` writes it beside run.json at the end of every run; ``olive report RUN_JSON``
remakes it. The page is one file that works offline: plotly.js (from the plotly package) and
the page's script are inlined. Made in three steps with one job each: :mod:`.load` checks the
file, :mod:`.content` decides what to say, :mod:`.render` (with :mod:`.figure`) writes HTML.
"""

from __future__ import annotations

from pathlib import Path

from olive_core.engine.output import write_text_atomic
from olive_core.report.content import build_content
from olive_core.report.load import RUN_FILE, load_run
from olive_core.report.render import render_page

REPORT_FILE = "report.html"


def write_report(run_json: str | Path, output: str | Path | None = None) -> Path:
    """Write the report of ``run_json`` (a file, or the folder holding it) to ``output``
    (default: report.html beside it) and return its path. The page is made whole before the
    file is replaced, so a failure leaves no half-written report."""
    source = Path(run_json)
    if source.is_dir():
        source = source / RUN_FILE
    target = Path(output) if output is not None else source.with_name(REPORT_FILE)
    page = render_page(build_content(load_run(source)))
    write_text_atomic(target, page)
    return target


__all__ = ["REPORT_FILE", "write_report"]
