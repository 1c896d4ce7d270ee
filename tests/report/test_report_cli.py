"""``olive report RUN_JSON [-o FILE]``: remakes the page; a run.json from another format or a
damaged one is one clear error naming the file, exit 2, and no page is written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from olive_core.cli.main import cli
from olive_core.engine.result import RUN_FORMAT


def _report(*args: str):
    return CliRunner().invoke(cli, ["report", *args], catch_exceptions=False)


def test_report_remakes_the_page_beside_run_json_or_where_asked(toy_run, tmp_path):
    made_by_the_run = (toy_run / "report.html").read_text(encoding="utf-8")
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "run.json").write_bytes((toy_run / "run.json").read_bytes())
    result = _report(str(copy / "run.json"))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == str(copy / "report.html")
    assert (copy / "report.html").read_text(encoding="utf-8") == made_by_the_run, "the same page as the run wrote"
    elsewhere = tmp_path / "pages" / "minilm.html"
    result = _report(str(copy), "-o", str(elsewhere))  # a folder holding run.json works too
    assert result.exit_code == 0 and elsewhere.read_text(encoding="utf-8") == made_by_the_run


def _damaged_files(toy_run: Path) -> dict[str, tuple[str, str]]:
    """name -> (file content, what the error must say)."""
    text = (toy_run / "run.json").read_text()
    record = json.loads(text)
    older = {k: v for k, v in record.items() if k != "format"}
    newer = {**record, "format": RUN_FORMAT + 1}
    wrong_candidates = {**record, "candidates": [{"index": "first"}]}
    dangling = {**record, "best": [{"candidate": 99, "model_id": None, "output": "model"}]}
    return {
        "truncated": (text[: len(text) // 2], "not JSON"),
        "not-json": ("<html>not a run</html>", "not JSON"),
        "empty": ("", "not JSON"),
        "a-list": ("[1, 2]", "expected a JSON object, found list"),
        "another-file": (json.dumps({"name": "package.json"}), "no 'format' field"),
        "older": (json.dumps(older), "has no format version"),
        "newer": (json.dumps(newer), f"run.json format {RUN_FORMAT + 1}"),
        "wrong-shape": (json.dumps(wrong_candidates), "candidates.0.index"),
        "dangling-best": (json.dumps(dangling), "best names candidate 99"),
    }


@pytest.mark.parametrize(
    "case", ["truncated", "not-json", "empty", "a-list", "another-file", "older", "newer", "wrong-shape", "dangling-best"]
)
def test_a_damaged_or_foreign_run_json_is_one_clear_error_and_writes_nothing(toy_run, tmp_path, case):
    content, expected = _damaged_files(toy_run)[case]
    source = tmp_path / "run.json"
    source.write_text(content)
    (tmp_path / "report.html").write_text("the previous page")
    result = _report(str(source))
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {source}: ") and expected in result.output
    assert "Traceback" not in result.output and len(result.output.splitlines()) <= 4
    assert (tmp_path / "report.html").read_text() == "the previous page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "run.json"]


def test_a_missing_file_or_an_output_folder_is_a_clear_error(tmp_path, toy_run):
    result = _report(str(tmp_path / "nowhere" / "run.json"))
    assert result.exit_code == 2 and "nowhere/run.json: no such file" in result.output
    result = _report(str(toy_run / "run.json"), "-o", str(tmp_path))
    assert result.exit_code == 2 and f"'{tmp_path}' is a directory" in result.output


def test_report_is_a_core_command_and_loads_no_plotting_library():
    """Listed by `olive --help`; reading plotly.js from disk imports neither plotly nor anything heavy."""
    code = (
        "import sys\nfrom olive_core.cli.main import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('plotly', 'playwright', 'olive_core.report') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "report " in done.stdout and done.stdout.strip().splitlines()[-1] == "[]"
