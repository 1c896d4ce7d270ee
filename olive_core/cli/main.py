"""The ``olive`` command. Only click is imported here: ``olive --help`` must start fast."""

from __future__ import annotations

import click

from olive_core.cli.cache import cache
from olive_core.cli.passes import passes
from olive_core.cli.plugins import plugins
from olive_core.cli.run import run
from olive_core.cli.schema import schema
from olive_core.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="olive-core", message="%(prog)s %(version)s")
def cli() -> None:
    """Optimize models with passes from plugins; evaluate, search and cache every step."""


for command in (run, plugins, passes, schema, cache):
    cli.add_command(command)


def main() -> None:
    cli()
