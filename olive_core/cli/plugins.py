"""``olive plugins``: what is installed, what each plugin provides, and what failed to load."""

from __future__ import annotations

import json

import click

from olive_core.cli.errors import debug_option, handle_errors


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
@debug_option
@handle_errors
def plugins(as_json: bool, debug: bool) -> None:
    """List plugins, their versions and components, and load failures."""
    from dataclasses import asdict

    from olive_core.plugins import create_plugin_manager
    from olive_core.registry import KIND_PLURALS

    manager = create_plugin_manager()
    infos = manager.plugin_infos()
    if as_json:
        data = {"plugins": [asdict(info) for info in infos], "failures": [asdict(f) for f in manager.failures]}
        click.echo(json.dumps(data, indent=2))
        return
    for info in infos:
        click.secho(f"{info.distribution} {info.version}", bold=True, nl=False)
        click.echo(f"  ({info.name}: {info.module})")
        for kind, names in info.components.items():
            click.echo(f"  {KIND_PLURALS[kind]}: {', '.join(names)}")
    for failure in manager.failures:
        click.secho(f"{failure.distribution} {failure.version}", bold=True, fg="red", nl=False)
        click.echo(f"  failed to load: {failure.error}")
