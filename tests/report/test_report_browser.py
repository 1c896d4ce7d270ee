"""report.html in a real browser (Debian's headless Chromium driven by Playwright): the plot
is drawn with one point per measured candidate, the Pareto front is marked, the table sorts on
a header click, markup from run.json stays text, and the page asks the network for nothing.

Skipped, loudly, only where no Chromium is installed (`make test` installs the Debian package
where apt-get works); Playwright itself comes with the test extra.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from olive_core.report import write_report
from olive_core.report.figure import BEST, CANDIDATES_MET, CANDIDATES_MISSED, INPUT, PARETO
from olive_core.testing.browser import find_chromium, open_report

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="NO CHROMIUM: the report's browser test did not run. Install the Debian package 'chromium' "
    "(`make test` does it where apt-get works) or set OLIVE_CHROMIUM to a Chromium binary",
)


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", header[16:24])


def test_the_report_draws_sorts_and_stays_offline(toy_run, tmp_path):
    record = json.loads((toy_run / "run.json").read_text())
    measured = [c for c in record["candidates"] if c["metrics"] is not None]
    with open_report(toy_run / "report.html", CHROMIUM) as report:
        points = report.rendered_points()
        assert points[CANDIDATES_MET] + points[CANDIDATES_MISSED] == len(measured) == 4
        assert points[PARETO] == len(record["pareto"]) >= 1 and points[BEST] == 1 and points[INPUT] == 1
        assert sorted(report.trace_customdata(PARETO)) == sorted(p["candidate"] + 1 for p in record["pareto"])

        # sorting: ascending then descending on a metric; failed candidates (no value) stay last
        header = "latency-p50 ↓"
        assert report.sort_by(header) == "ascending"
        values = report.column(header)
        numbers = [float(v) for v in values if v]
        assert numbers == sorted(numbers) and values[len(numbers):] == [""] * (len(values) - len(numbers))
        assert report.sort_by(header) == "descending"
        numbers = [float(v) for v in report.column(header) if v]
        assert numbers == sorted(numbers, reverse=True)
        assert report.sort_by("#") == "ascending" and report.column("#") == [str(i + 1) for i in range(8)]

        report.page.check("#hide-failed")  # failed candidates can be hidden to compare the others
        assert report.page.locator("#candidates tbody.sortable tr:visible").count() == len(measured)
        report.page.uncheck("#hide-failed")

        # clicking a point brings its candidate's row into view
        report.page.locator("#scatter .scatterlayer .trace path.point").first.click(force=True)
        assert report.page.locator("#candidates tr.flash").count() == 1

        shot = tmp_path / "report.png"
        report.page.screenshot(path=str(shot))
        assert _png_size(shot) == (1280, 900)
        assert report.requests == [] and report.errors == []


def test_markup_from_run_json_is_shown_as_text_and_never_runs(toy_run, tmp_path):
    record = json.loads((toy_run / "run.json").read_text())
    attack = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 1">'
    failed = next(c for c in record["candidates"] if c["error"])
    failed["error"] = attack
    failed["configs"]["round"] = {"decimals": attack}
    measured = next(c for c in record["candidates"] if c["metrics"] is not None)
    measured["configs"]["round"] = {"decimals": attack}  # shown in the plot's hover text
    record["workflow_file"] = attack
    source = tmp_path / "run.json"
    source.write_text(json.dumps(record))
    with open_report(write_report(source), CHROMIUM) as report:
        hover = report.page.evaluate(
            """number => {
                const plot = document.getElementById('scatter');
                const curve = plot.data.findIndex(t => (t.customdata || []).includes(number));
                Plotly.Fx.hover(plot, [{curveNumber: curve, pointNumber: plot.data[curve].customdata.indexOf(number)}]);
                return document.querySelector('#scatter .hoverlayer .hovertext').textContent;
            }""",
            measured["index"] + 1,
        )
        assert 'round: decimals="<script>window.pwned' in hover  # shown as text, once escaped
        assert report.page.evaluate("window.pwned") is None
        assert report.page.locator("#candidates img").count() == 0
        assert attack in report.page.locator(f"#candidate-{failed['index']}").inner_text()
        assert report.requests == [] and report.errors == []
