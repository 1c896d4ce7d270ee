"""Plugin discovery through real installed distributions (importlib.metadata), no mocks."""

from __future__ import annotations

import logging

import pytest

from olive_core.errors import PluginError
from olive_core.plugins import create_plugin_manager
from olive_core.version import __version__

GOOD_PLUGIN = """
from olive_core import hookimpl
from olive_core.testing.toy import ToyScale

olive_plugin_api = "1.0"

@hookimpl
def register_passes(register):
    register("FooPass", ToyScale)
    register("FooLazy", "foo_plugin.lazy:LazyPass")
"""

LAZY_MODULE = """
from olive_core.testing.toy import ToyRound as LazyPass
"""


def _entry(name: str, module: str) -> dict[str, dict[str, str]]:
    return {"olive_core.plugins": {name: module}}


def test_installed_plugin_is_discovered(fake_distribution):
    fake_distribution("olive-foo", "1.2", entry_points=_entry("foo", "foo_plugin"), modules={"foo_plugin/__init__.py": GOOD_PLUGIN, "foo_plugin/lazy.py": LAZY_MODULE})
    manager = create_plugin_manager()
    assert {"FooLazy", "FooPass"} <= set(manager.registry.names("pass"))
    assert manager.registry.get("pass", "FooPass").source.distribution == "olive-foo"
    info = next(i for i in manager.plugin_infos() if i.distribution == "olive-foo")
    assert info.version == "1.2" and info.components == {"pass": ["FooLazy", "FooPass"]}


def test_lazy_component_is_imported_on_first_use(fake_distribution):
    import sys

    fake_distribution("olive-foo", entry_points=_entry("foo", "foo_plugin"), modules={"foo_plugin/__init__.py": GOOD_PLUGIN, "foo_plugin/lazy.py": LAZY_MODULE})
    manager = create_plugin_manager()
    manager.registry  # registration alone does not import the lazy module
    assert "foo_plugin.lazy" not in sys.modules
    assert manager.registry.load("pass", "FooLazy").__name__ == "ToyRound"


def test_broken_plugin_is_a_warning_and_others_still_load(fake_distribution, caplog):
    fake_distribution("olive-broken", entry_points=_entry("broken", "broken_plugin"), modules={"broken_plugin.py": "raise ImportError('needs libfoo')"})
    fake_distribution("olive-foo", entry_points=_entry("foo", "foo_plugin"), modules={"foo_plugin/__init__.py": GOOD_PLUGIN, "foo_plugin/lazy.py": LAZY_MODULE})
    with caplog.at_level(logging.WARNING):
        manager = create_plugin_manager()
    assert "FooPass" in manager.registry.names("pass")
    assert [(f.distribution, f.error) for f in manager.failures] == [("olive-broken", "ImportError: needs libfoo")]
    assert any("olive-broken" in r.message and "needs libfoo" in r.message for r in caplog.records)


def test_strict_mode_makes_a_broken_plugin_an_error(fake_distribution, monkeypatch):
    fake_distribution("olive-broken", entry_points=_entry("broken", "broken_plugin"), modules={"broken_plugin.py": "raise ImportError('needs libfoo')"})
    monkeypatch.setenv("OLIVE_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match="olive-broken.*needs libfoo"):
        create_plugin_manager()


BAR_PLUGIN = """
from olive_core import hookimpl
from olive_core.testing.toy import ToyRound, ToyScale

olive_plugin_api = "1.0"

@hookimpl
def register_passes(register):
    register("BarPass", ToyRound)
    register("FooPass", ToyScale)
"""


def _foo_and_bar(fake_distribution):
    fake_distribution("olive-foo", "1.0", entry_points=_entry("foo", "foo_plugin"), modules={"foo_plugin/__init__.py": GOOD_PLUGIN, "foo_plugin/lazy.py": LAZY_MODULE})
    fake_distribution("olive-bar", "2.0", entry_points=_entry("bar", "bar_plugin"), modules={"bar_plugin.py": BAR_PLUGIN})


def test_a_plugin_registering_a_taken_name_is_refused_and_the_others_keep_working(fake_distribution, caplog):
    _foo_and_bar(fake_distribution)  # entry points load by name: bar first, so foo is the later one
    manager = create_plugin_manager()
    registry = manager.registry
    assert registry.get("pass", "FooPass").source.distribution == "olive-bar"
    assert "BarPass" in registry.names("pass")
    assert "FooLazy" not in registry.names("pass")  # a refused plugin registers nothing at all
    [failure] = manager.failures
    assert failure.distribution == "olive-foo"
    assert "pass 'FooPass' is registered twice: by olive-bar 2.0 and by olive-foo 1.0" in failure.error
    assert "foo" not in manager.sources and not manager.has_plugin("foo")
    assert "olive-foo" in caplog.text


def test_olive_plugins_lists_the_refused_plugin_and_exits_zero(fake_distribution):
    from click.testing import CliRunner

    from olive_core.cli.main import cli

    _foo_and_bar(fake_distribution)
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "olive-bar 2.0" in result.output and "BarPass, FooPass" in result.output
    assert "olive-foo 1.0  failed to load: pass 'FooPass' is registered twice" in result.output


def test_strict_mode_makes_a_taken_name_an_error(fake_distribution, monkeypatch):
    _foo_and_bar(fake_distribution)
    monkeypatch.setenv("OLIVE_STRICT_PLUGINS", "1")
    with pytest.raises(PluginError, match=r"pass 'FooPass' is registered twice: by olive-bar 2.0 and by olive-foo 1.0"):
        create_plugin_manager().registry


def test_the_testing_fixture_honours_disabled_plugins(fake_distribution, monkeypatch, request):
    _foo_and_bar(fake_distribution)
    monkeypatch.setenv("OLIVE_DISABLE_PLUGINS", "olive-bar")
    manager = request.getfixturevalue("olive_plugin_manager")
    assert manager.registry.get("pass", "FooPass").source.distribution == "olive-foo"
    assert manager.failures == []


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        ("olive_plugin_api = '2.0'", f"targets plugin API 2.0, but this olive-core ({__version__}) provides plugin API 1.0; install a release of olive-old built for plugin API 1.x"),
        ("", "does not declare olive_plugin_api; this olive-core provides plugin API 1.0"),
    ],
)
def test_api_version_mismatch_is_refused_in_one_line(fake_distribution, declaration, message):
    source = f"from olive_core import hookimpl\n{declaration}\n"
    fake_distribution("olive-old", entry_points=_entry("old", "old_plugin"), modules={"old_plugin.py": source})
    manager = create_plugin_manager()
    assert len(manager.failures) == 1
    failure = manager.failures[0]
    assert failure.distribution == "olive-old" and message in failure.error and "\n" not in failure.error


def test_a_misspelled_hook_refuses_that_plugin_only(fake_distribution):
    from click.testing import CliRunner

    from olive_core.cli.main import cli

    source = "from olive_core import hookimpl\nolive_plugin_api = '1.0'\n@hookimpl\ndef register_passs(register):\n    pass\n"
    fake_distribution("olive-typo", entry_points=_entry("typo", "typo_plugin"), modules={"typo_plugin.py": source})
    fake_distribution("olive-foo", entry_points=_entry("foo", "foo_plugin"), modules={"foo_plugin/__init__.py": GOOD_PLUGIN, "foo_plugin/lazy.py": LAZY_MODULE})
    manager = create_plugin_manager()
    assert "FooPass" in manager.registry.names("pass")
    [failure] = manager.failures
    assert failure.distribution == "olive-typo"
    assert "implements 'register_passs', which is not an olive hook; did you mean 'register_passes'?" in failure.error
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0 and "Traceback" not in result.output and "register_passs" in result.output


def test_a_hook_with_arguments_the_contract_lacks_refuses_that_plugin_only(fake_distribution):
    source = "from olive_core import hookimpl\nolive_plugin_api = '1.0'\n@hookimpl\ndef on_pass_end(run_id, verdict):\n    pass\n"
    fake_distribution("olive-args", entry_points=_entry("args", "args_plugin"), modules={"args_plugin.py": source})
    manager = create_plugin_manager()
    [failure] = manager.failures
    assert failure.distribution == "olive-args" and "verdict" in failure.error
    assert not manager.has_plugin("args")
    manager.hook.on_pass_end(run_id="r", step="s", pass_type="p", model=None, error=None, cached=False)


def test_a_component_of_a_disabled_plugin_says_it_is_disabled(fake_distribution, monkeypatch):
    from olive_core.known_plugins import KNOWN_PLUGINS

    monkeypatch.setitem(KNOWN_PLUGINS, "olive-foo", {"pass": ("FooPass",)})
    fake_distribution("olive-foo", entry_points=_entry("foo", "foo_plugin"), modules={"foo_plugin/__init__.py": GOOD_PLUGIN, "foo_plugin/lazy.py": LAZY_MODULE})
    registry = create_plugin_manager(disabled=["foo"]).registry
    hint = registry.unknown_hint("pass", "FooPass")
    assert "installed but disabled" in hint and "pip install" not in hint
    monkeypatch.setitem(KNOWN_PLUGINS, "olive-missing", {"pass": ("MissingPass",)})
    assert registry.unknown_hint("pass", "MissingPass") == "'MissingPass' is provided by olive-missing: pip install olive-missing"


def test_unknown_names_list_the_installed_ones_in_plural():
    registry = create_plugin_manager(extra_plugins=["olive_core.testing.toy"]).registry
    assert "installed passes: " in registry.unknown_message("pass", "Zzzzzzz")
    assert "installed search strategies: " in registry.unknown_message("search_strategy", "zzzzzzz")


def test_disable_plugins_by_entry_point_or_distribution(fake_distribution, monkeypatch):
    fake_distribution("olive-foo", entry_points=_entry("foo", "foo_plugin"), modules={"foo_plugin/__init__.py": GOOD_PLUGIN, "foo_plugin/lazy.py": LAZY_MODULE})
    monkeypatch.setenv("OLIVE_DISABLE_PLUGINS", "olive-foo")
    assert "FooPass" not in create_plugin_manager().registry.names("pass")
    monkeypatch.setenv("OLIVE_DISABLE_PLUGINS", "foo")
    assert "FooPass" not in create_plugin_manager().registry.names("pass")
    monkeypatch.delenv("OLIVE_DISABLE_PLUGINS")
    assert "FooPass" not in create_plugin_manager(disabled=["foo"]).registry.names("pass")
    assert "FooPass" in create_plugin_manager().registry.names("pass")


def test_load_plugin_by_import_path_without_installing(monkeypatch):
    monkeypatch.setenv("OLIVE_PLUGINS", "olive_core.testing.toy")
    manager = create_plugin_manager()
    assert {"ToyScale", "ToyRound"} <= set(manager.registry.names("pass"))
    assert manager.sources["olive_core.testing.toy"].version == "(OLIVE_PLUGINS)"


def test_no_entry_points_loads_core_only(fake_distribution, monkeypatch):
    fake_distribution("olive-foo", entry_points=_entry("foo", "foo_plugin"), modules={"foo_plugin/__init__.py": GOOD_PLUGIN, "foo_plugin/lazy.py": LAZY_MODULE})
    monkeypatch.setenv("OLIVE_NO_ENTRY_POINTS", "1")
    assert list(create_plugin_manager().sources) == ["olive_core.builtin"]


def test_trace_prints_hook_calls(monkeypatch, capsys):
    monkeypatch.setenv("OLIVE_TRACE_PLUGINS", "1")
    manager = create_plugin_manager(extra_plugins=["olive_core.testing.toy"])
    manager.registry
    manager.hook.on_workflow_start(run_id="r", workflow={})
    err = capsys.readouterr().err
    assert "[olive trace] register_passes" in err and "olive_core.testing.toy" in err
    assert "[olive trace] on_workflow_start" in err


def test_each_manager_is_fresh():
    first = create_plugin_manager(extra_plugins=["olive_core.testing.toy"])
    second = create_plugin_manager()
    assert "ToyScale" in first.registry.names("pass")
    assert "ToyScale" not in second.registry.names("pass")


def test_core_components_come_through_the_same_hooks():
    manager = create_plugin_manager(entry_points=False)
    registry = manager.registry
    assert registry.get("cache_backend", "local").source.distribution == "olive-core"
    assert registry.get("accelerator", "cpu").source.name == "olive_core.builtin"


def test_known_plugins_table_matches_installed_plugins():
    """The hint table must not drift: for each listed plugin installed here, every name exists."""
    from olive_core.known_plugins import KNOWN_PLUGINS

    registry = create_plugin_manager().registry
    installed = {source.distribution for source in create_plugin_manager().sources.values()}
    for distribution, kinds in KNOWN_PLUGINS.items():
        if distribution not in installed:
            continue
        for kind, names in kinds.items():
            for name in names:
                component = registry.find(kind, name)
                assert component is not None and component.source.distribution == distribution, (distribution, kind, name)
