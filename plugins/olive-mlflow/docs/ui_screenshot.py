"""Make docs/mlflow-ui.png: MLflow's UI showing a run olive-mlflow logged.

    .venv/bin/python plugins/olive-mlflow/docs/ui_screenshot.py

Starts ``mlflow server`` on 127.0.0.1 (SQLite store and artifacts in a temporary folder), runs the
MiniLM-shaped toy search of the plugin's tests (olive_mlflow.testing.minilm_shaped: a 384x384 toy layer
whose rounding is searched) tracked there, and photographs the experiment's runs and the best candidate's run with the headless Chromium the report's
browser test uses (olive_core.testing.browser.find_chromium, driven by Playwright).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PICTURE = HERE / "mlflow-ui.png"
CANDIDATE_PICTURE = HERE / "mlflow-ui-candidate.png"


def main() -> int:
    from mlflow import MlflowClient
    from playwright.sync_api import sync_playwright

    from olive_core.engine.api import run
    from olive_core.testing.browser import find_chromium
    from olive_core.testing.workflows import toy_manager
    from olive_mlflow.testing import minilm_shaped, start_server

    chromium = find_chromium()
    if chromium is None:
        print("no Chromium found: install the Debian package 'chromium' or set OLIVE_CHROMIUM", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        store = folder / "empty.db"
        MlflowClient(tracking_uri=f"sqlite:///{store}").search_experiments()
        server = start_server(folder / "server", store)
        try:
            path = minilm_shaped(folder, {"tracking_uri": server.url, "experiment": "minilm-int8", "register_model": "minilm-int8"})
            workflow = json.loads(path.read_text())
            workflow["description"] = "MiniLM-shaped toy: INT8-style rounding searched, similarity and size measured"
            path.rename(folder / "minilm-int8.json")
            path = folder / "minilm-int8.json"
            path.write_text(json.dumps(workflow))
            result = run(path, manager=toy_manager())
            print(f"olive run {result.run_id}: {len(result.candidates)} candidates, best {result.best}")
            experiment = MlflowClient(tracking_uri=server.url).get_experiment_by_name("minilm-int8").experiment_id
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium)
                page = browser.new_page(viewport={"width": 1600, "height": 560}, device_scale_factor=1)
                page.goto(f"{server.url}/#/experiments/{experiment}/runs")
                page.get_by_text("minilm-int8 ").first.wait_for(timeout=60_000)
                close_assistant = page.locator("button[aria-label='Close']")
                if close_assistant.count():
                    close_assistant.first.click()
                page.locator("button[data-component-id$='runnamecellrenderer.tsx_46']").first.click()  # show nested runs
                page.get_by_text("candidate 1").first.wait_for(timeout=30_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(PICTURE))
                client = MlflowClient(tracking_uri=server.url)
                (best,) = client.search_runs([experiment], filter_string="tags.`olive.best` = 'true'")
                page.set_viewport_size({"width": 1600, "height": 900})
                page.goto(f"{server.url}/#/experiments/{experiment}/runs/{best.info.run_id}")
                page.get_by_text("quantize.decimals").first.wait_for(timeout=60_000)
                page.wait_for_timeout(1500)
                page.screenshot(path=str(CANDIDATE_PICTURE))
                browser.close()
        finally:
            server.kill()
    print(f"wrote {PICTURE} and {CANDIDATE_PICTURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
