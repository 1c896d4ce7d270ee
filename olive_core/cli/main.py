"""The ``olive`` command. Only click is imported here: ``olive --help`` must start fast.

Core's commands are always there; plugins add theirs through ``register_commands``, each
imported only when ``olive --help`` lists it or the user calls it.
"""

from __future__ import annotations

from typing import Any

import click

from olive_core.cli.cache import cache
from olive_core.cli.html_report import report
from olive_core.cli.passes import passes
from olive_core.cli.plugins import plugins
from olive_core.cli.run import run
from olive_core.cli.schema import schema
from olive_core.version import __version__


class OliveGroup(click.Group):
    """Core's commands plus those the installed plugins register."""

    def _plugin_commands(self, ctx: click.Context) -> dict[str, Any]:
        """The plugins' command components, found once per invocation."""
        meta = ctx.find_root().meta
        if "olive.plugin_commands" not in meta:
            from olive_core.errors import OliveError
            from olive_core.plugins import create_plugin_manager

            try:
                registry = create_plugin_manager().registry
                components = registry.components("command")
            except OliveError:  # strict mode and a broken plugin: core's commands still work
                registry, components = None, []
            meta["olive.plugin_registry"] = registry
            meta["olive.plugin_commands"] = {c.name: c for c in components if c.name not in self.commands}
        return meta["olive.plugin_commands"]

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self._plugin_commands(ctx)})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        component = self._plugin_commands(ctx).get(name)
        if component is None:
            return self._missing_plugin_command(ctx, name)
        from olive_core.errors import PluginError

        try:
            return component.load()
        except PluginError as exc:
            return _broken(name, exc)

    def _missing_plugin_command(self, ctx: click.Context, name: str) -> click.Command | None:
        """A command a well-known plugin provides, that plugin absent (or disabled, or broken):
        say which to install rather than click's bare "No such command"."""
        from olive_core.known_plugins import KNOWN_PLUGINS

        registry = ctx.find_root().meta.get("olive.plugin_registry")
        # exact names only: `olive Optimize` is a typo, not a missing plugin
        if registry is None or not any(name in kinds.get("command", ()) for kinds in KNOWN_PLUGINS.values()):
            return None
        return _broken(name, registry.unknown_hint("command", name))


def _broken(name: str, error: Exception | str) -> click.Command:
    """Stands in for a plugin command that cannot be imported or is not installed: says why when
    run, whatever arguments it is given (the real command's are unknown)."""

    def fail() -> None:
        click.secho("error: ", fg="red", bold=True, err=True, nl=False)
        click.echo(str(error), err=True)
        raise SystemExit(2)

    return click.Command(
        name,
        callback=fail,
        help=f"(cannot be loaded: {error})",
        short_help="(cannot be loaded; run it to see why)",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []},
    )


@click.group(cls=OliveGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="olive-core", message="%(prog)s %(version)s")
def cli() -> None:
    """Optimize models with passes from plugins; evaluate, search and cache every step."""


for command in (run, plugins, passes, schema, cache, report):
    cli.add_command(command)


def main() -> None:
    cli()
