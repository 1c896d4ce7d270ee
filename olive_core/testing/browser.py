"""Open a report.html in a real browser: headless Chromium (the Debian package ``chromium``)
driven by Playwright for Python, for the report's tests and the screenshot in the docs.

Playwright's own browser download is not used: ``executable_path`` points at the system's
Chromium (``OLIVE_CHROMIUM``, else ``chromium`` or ``chromium-browser`` on PATH). Every request
the page makes is recorded and refused, so a test can prove the page works offline.
Playwright is imported only when a page is opened.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM_ENV = "OLIVE_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def find_chromium() -> str | None:
    """The Chromium to drive: ``OLIVE_CHROMIUM`` if set, else the first on PATH."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return configured if Path(configured).is_file() else None
    return next((path for name in CHROMIUM_NAMES if (path := shutil.which(name))), None)


@dataclass
class ReportPage:
    """A loaded report, what it asked the network for, and what went wrong in its scripts."""

    page: Any  # playwright.sync_api.Page
    #: every URL the page requested besides the report file itself
    requests: list[str] = field(default_factory=list)
    #: console errors and uncaught exceptions
    errors: list[str] = field(default_factory=list)

    def rendered_points(self) -> dict[str, int]:
        """Points plotly.js drew, by trace uid (read from the SVG, not from the figure's data)."""
        return self.page.evaluate(
            """() => Object.fromEntries(
                Array.from(document.getElementById('scatter')._fullData).map((trace, i) => [
                    trace.uid,
                    document.querySelectorAll('#scatter .scatterlayer .trace')[i].querySelectorAll('path.point').length,
                ]))"""
        )

    def trace_customdata(self, uid: str) -> list[Any]:
        return self.page.evaluate(
            "uid => (document.getElementById('scatter').data.find(t => t.uid === uid) || {customdata: []}).customdata", uid
        )

    def column(self, header: str) -> list[str]:
        """The ``data-sort`` values of a candidates-table column, top to bottom."""
        return self.page.evaluate(
            """header => {
                const table = document.getElementById('candidates');
                const names = Array.from(table.querySelectorAll('thead th')).map(th => th.textContent);
                const column = names.indexOf(header);
                if (column < 0) throw new Error('no column ' + header + ' in ' + names.join(', '));
                return Array.from(table.querySelectorAll('tbody.sortable tr')).map(tr => tr.cells[column].getAttribute('data-sort'));
            }""",
            header,
        )

    def sort_by(self, header: str) -> str:
        """Click a column's header; return its ``aria-sort`` afterwards."""
        cell = self.page.locator("#candidates thead th", has_text=header).first
        cell.click()
        return cell.get_attribute("aria-sort") or ""


@contextmanager
def open_report(path: Path, chromium: str, width: int = 1280, height: int = 900) -> Iterator[ReportPage]:
    """Load ``path`` in headless ``chromium`` and wait until its plot is drawn (if it has one)."""
    from playwright.sync_api import sync_playwright

    url = Path(path).resolve().as_uri()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1)
            page = context.new_page()
            report = ReportPage(page)

            def refuse(route: Any) -> None:
                if route.request.url != url:
                    report.requests.append(route.request.url)
                    route.abort()
                else:
                    route.continue_()

            context.route("**/*", refuse)
            page.on("request", lambda request: request.url != url and request.url not in report.requests and report.requests.append(request.url))
            page.on("console", lambda message: message.type == "error" and report.errors.append(message.text))
            page.on("pageerror", lambda error: report.errors.append(str(error)))
            page.goto(url)
            if page.locator("#scatter").count():
                page.wait_for_selector("#scatter[data-rendered=true]", state="attached", timeout=30_000)
            yield report
        finally:
            browser.close()
