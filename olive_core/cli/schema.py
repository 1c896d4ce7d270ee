"""``olive schema``: the workflow file's JSON Schema, with each installed component's options."""

from __future__ import annotations

import json

import click

from olive_core.cli.errors import debug_option, handle_errors


@click.command()
@debug_option
@handle_errors
def schema(debug: bool) -> None:
    """Print the JSON Schema of workflow files for the installed plugins (for editors)."""
    from olive_core.config.schema import workflow_schema
    from olive_core.plugins import create_plugin_manager

    click.echo(json.dumps(workflow_schema(create_plugin_manager().registry), indent=2))
