"""Plugins add commands to `olive` (register_commands) and recipes that write the workflow a task
command runs (register_recipes); core's task helpers save or run it. Through real installed
distributions and the real `olive` group."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from olive_core.cli.main import cli
from olive_core.plugins import create_plugin_manager

TOY_COMMANDS = '''
from olive_core import hookimpl

olive_plugin_api = "1.0"

@hookimpl
def register_commands(register):
    register("toyopt", "toy_tasks.cli:toyopt")

@hookimpl
def register_recipes(register):
    register("toy-cpu", "toy_tasks.recipes:ToyRecipe")
    register("toy-rounding", "toy_tasks.recipes:RoundingRecipe")
'''

TOY_CLI = '''
import click
from olive_core.cli.tasks import run_task, task_options

@click.command()
@click.option("--precision", type=click.Choice(["fp32", "int8"]), default=None)
@task_options
def toyopt(**options):
    """Optimize a toy model folder (a config.json naming its weights)."""
    run_task("optimize", **options)
'''

TOY_RECIPES = '''
from olive_core.recipes import Recipe

class ToyRecipe(Recipe):
    """Scales the toy model; knows only 'hf'-looking folders whose config.json names toy weights."""
    description = "toy models on the CPU"
    model_kinds = ("hf",)
    precisions = ("fp32", "int8")

    def accepts(self, request):
        return super().accepts(request) and "toy_weights" in (request.model.config or {})

    def workflow(self, request):
        weights = request.model.path / request.model.config["toy_weights"]
        return {
            "input_model": {"type": "toy", "config": {"model_path": str(weights)}},
            "passes": {"scale": {"type": "ToyScale", "config": {"factor": 2.0}}},
        }

class RoundingRecipe(ToyRecipe):
    """For int8 (asked for by name), a more specific recipe: it rounds too, and its priority wins."""
    precisions = ("int8",)
    priority = 10

    def accepts(self, request):
        return super().accepts(request) and request.precision == "int8"

    def workflow(self, request):
        workflow = super().workflow(request)
        workflow["passes"]["round"] = {"type": "ToyRound", "config": {"decimals": 0}}
        workflow["description"] = "rounds to whole numbers"
        return workflow
'''


def _entry(name: str, module: str) -> dict[str, dict[str, str]]:
    return {"olive_core.plugins": {name: module}}


@pytest.fixture
def olive(monkeypatch: pytest.MonkeyPatch, fake_distribution, tmp_path: Path):
    """`olive` with the toy plugin and a distribution adding the `toyopt` command and two recipes."""
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")
    monkeypatch.chdir(tmp_path)
    fake_distribution(
        "olive-toy-tasks",
        entry_points=_entry("toy-tasks", "toy_tasks"),
        modules={"toy_tasks/__init__.py": TOY_COMMANDS, "toy_tasks/cli.py": TOY_CLI, "toy_tasks/recipes.py": TOY_RECIPES},
    )
    runner = CliRunner()
    return lambda *args: runner.invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def toy_folder(tmp_path: Path, toy_model: Path) -> Path:
    folder = toy_model.parent
    (folder / "config.json").write_text(json.dumps({"toy_weights": toy_model.name, "architectures": ["ToyModel"]}))
    return folder


def test_a_plugin_command_is_listed_by_help_and_runs(olive, toy_folder: Path, tmp_path: Path) -> None:
    listed = olive("--help")
    assert "toyopt" in listed.output and "Optimize a toy model folder" in listed.output
    result = olive("toyopt", str(toy_folder), "-o", "out", "--cache-dir", "cache")
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert list(record["workflow"]["passes"]) == ["scale"]
    description = record["workflow"]["description"]
    assert description.startswith(f"written by `olive toyopt {toy_folder} --output-dir out --cache-dir cache`")
    assert "recipe 'toy-cpu' from olive-toy-tasks 1.0" in description


def test_the_recipe_with_the_highest_priority_that_accepts_writes_the_workflow(olive, toy_folder: Path, tmp_path: Path) -> None:
    result = olive("toyopt", str(toy_folder), "--precision", "int8", "--save-workflow", "int8.json")
    assert result.exit_code == 0, result.output
    workflow = json.loads((tmp_path / "int8.json").read_text())
    assert list(workflow["passes"]) == ["scale", "round"] and "recipe 'toy-rounding'" in workflow["description"]
    # what the recipe chose for the user is said on the console and kept after the command line
    assert workflow["description"].endswith("). rounds to whole numbers")
    assert "recipe 'toy-rounding': rounds to whole numbers" in result.output
    fp32 = olive("toyopt", str(toy_folder), "--precision", "fp32", "--save-workflow", "fp32.json")
    assert fp32.exit_code == 0 and list(json.loads((tmp_path / "fp32.json").read_text())["passes"]) == ["scale"]


def test_a_saved_workflow_runs_nothing_and_olive_run_runs_it(olive, toy_folder: Path, tmp_path: Path) -> None:
    result = olive("toyopt", str(toy_folder), "-o", "out", "--save-workflow", "workflow.json")
    assert result.exit_code == 0, result.output
    assert "olive run workflow.json" in result.output and not (tmp_path / "out").exists()
    workflow = json.loads((tmp_path / "workflow.json").read_text())
    assert workflow["engine"]["output_dir"] == str(tmp_path / "out")  # absolute: the file can move
    ran = olive("run", "workflow.json", "--cache-dir", "cache")
    assert ran.exit_code == 0, ran.output
    assert (tmp_path / "out" / "run.json").is_file()


def test_save_workflow_never_overwrites_a_file(olive, toy_folder: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text("my notes")
    result = olive("toyopt", str(toy_folder), "--save-workflow", "mine.json")
    assert result.exit_code == 2 and "--save-workflow: 'mine.json' exists" in result.output
    assert (tmp_path / "mine.json").read_text() == "my notes"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["missing-folder/"], "MODEL: no file or folder 'missing-folder/'"),
        (["{folder}", "--device", "dsp"], "no installed recipe can optimize a 'hf' model (ToyModel) on dsp"),
        (["{folder}", "--data", "nowhere.txt"], "--data: no file 'nowhere.txt'"),
        (["{folder}/weights.json"], "MODEL: '{folder}/weights.json' is not a model olive recognises"),
    ],
)
def test_bad_input_is_one_error_with_exit_2_and_nothing_written(olive, toy_folder: Path, tmp_path: Path, arguments: list[str], message: str) -> None:
    result = olive("toyopt", *(argument.format(folder=toy_folder) for argument in arguments), "-o", "out")
    assert result.exit_code == 2, result.output
    assert message.format(folder=toy_folder) in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_no_recipe_names_the_installed_ones_and_what_they_take(olive, toy_folder: Path) -> None:
    result = olive("toyopt", str(toy_folder), "--device", "dsp")  # a device no installed plugin's recipe takes
    assert "toy-cpu: optimize/quantize/convert hf on cpu at fp32/int8" in result.output
    assert "toy-rounding: optimize/quantize/convert hf on cpu at int8" in result.output


def test_a_plugin_cannot_take_a_core_command_name(fake_distribution, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = 'from olive_core import hookimpl\nolive_plugin_api = "1.0"\n@hookimpl\ndef register_commands(register):\n    register("run", "taker:run")\n'
    fake_distribution("olive-taker", entry_points=_entry("taker", "taker"), modules={"taker.py": plugin})
    manager = create_plugin_manager()
    assert manager.registry.get("command", "run").source.distribution == "olive-core"
    assert any(f.distribution == "olive-taker" and "command 'run' is registered twice" in f.error for f in manager.failures)
    assert "Run WORKFLOW" in CliRunner().invoke(cli, ["--help"]).output


def test_a_command_that_cannot_be_imported_is_listed_and_says_why_when_run(fake_distribution) -> None:
    plugin = 'from olive_core import hookimpl\nolive_plugin_api = "1.0"\n@hookimpl\ndef register_commands(register):\n    register("broken", "broken_cli:nothing_here")\n'
    fake_distribution("olive-broken-cli", entry_points=_entry("broken-cli", "broken_cli"), modules={"broken_cli.py": plugin})
    runner = CliRunner()
    listed = runner.invoke(cli, ["--help"])
    assert listed.exit_code == 0 and "broken" in listed.output and "cannot be loaded" in listed.output
    ran = runner.invoke(cli, ["broken"])
    assert ran.exit_code == 2
    assert "command 'broken' from olive-broken-cli 1.0 cannot be imported from 'broken_cli:nothing_here'" in ran.output
    with_arguments = runner.invoke(cli, ["broken", "model", "--search", "--help"])
    assert with_arguments.exit_code == 2 and "cannot be imported" in with_arguments.output


def test_a_known_plugins_command_without_that_plugin_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    from olive_core.known_plugins import KNOWN_PLUGINS

    monkeypatch.setitem(KNOWN_PLUGINS, "olive-missing", {"command": ("frobnicate",)})
    ran = CliRunner().invoke(cli, ["frobnicate", "model", "--fast"])
    assert ran.exit_code == 2
    assert ran.output == "error: 'frobnicate' is provided by olive-missing: pip install olive-missing\n"
    typo = CliRunner().invoke(cli, ["Frobnicate"])  # not a known name: click's own error
    assert typo.exit_code == 2 and "No such command 'Frobnicate'" in typo.output


def test_olive_optimize_without_olive_onnx_names_it() -> None:
    if "optimize" in create_plugin_manager().registry.names("command"):
        pytest.skip("a plugin here provides `olive optimize` (the core session has none)")
    ran = CliRunner().invoke(cli, ["optimize", "bert-base-uncased", "--search"])
    assert ran.exit_code == 2
    assert "'optimize' is provided by olive-onnx: pip install olive-onnx" in ran.output


def test_help_imports_a_plugin_command_module_but_nothing_heavy(fake_distribution, tmp_path: Path) -> None:
    """`olive --help` loads each command's module for its one-line help; commands import their work lazily."""
    import subprocess

    fake_distribution(
        "olive-toy-tasks",
        entry_points=_entry("toy-tasks", "toy_tasks"),
        modules={"toy_tasks/__init__.py": TOY_COMMANDS, "toy_tasks/cli.py": TOY_CLI, "toy_tasks/recipes.py": TOY_RECIPES},
    )
    code = (
        "import sys\nfrom olive_core.cli.main import cli\ntry:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED', sorted(m for m in ('toy_tasks.cli', 'toy_tasks.recipes', 'numpy', 'rich') if m in sys.modules))"
    )
    env = {"PYTHONPATH": str(tmp_path / "fake-site-packages"), "PATH": "/usr/bin:/bin"}
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert "toyopt" in output
    assert output.strip().splitlines()[-1] == "LOADED ['toy_tasks.cli']"
