"""``olive passes [NAME]``: list passes, or show one pass's options and search space."""

from __future__ import annotations

import click

from olive_core.cli.errors import debug_option, handle_errors


@click.command()
@click.argument("name", required=False)
@debug_option
@handle_errors
def passes(name: str | None, debug: bool) -> None:
    """List installed passes, or show the options of pass NAME."""
    from olive_core.errors import OliveError
    from olive_core.plugins import create_plugin_manager

    registry = create_plugin_manager().registry
    if name is None:
        for component in registry.components("pass"):
            try:
                description = component.load().description()
            except OliveError as exc:  # one broken pass must not hide the others
                description = f"(cannot be loaded: {exc.message})"
            click.echo(f"{component.name:<32} {component.source.distribution:<18} {description}")
        return
    cls = registry.load("pass", name)
    _show_pass(name, cls, registry.get("pass", name).source)


def _type_name(annotation: object) -> str:
    """A field's type as a user reads it: ``int``, ``list[str] | None``, ``'QDQ' | 'QOperator'``."""
    import typing

    if typing.get_origin(annotation) is typing.Literal:
        return " | ".join(repr(value) for value in typing.get_args(annotation))
    if isinstance(annotation, type) and not typing.get_args(annotation):
        return annotation.__name__
    return str(annotation).replace("typing.", "")


def _show_pass(name: str, cls: type, source: object) -> None:
    from pydantic_core import PydanticUndefined

    from olive_core.passes.searchable import search_space

    space = search_space(cls.Config)
    click.secho(name, bold=True, nl=False)
    click.echo(f"  ({source}, version {cls.version})")
    click.echo(f"  {cls.description()}")
    output = "same as input" if cls.output_type is None else cls.output_type
    click.echo(f"  input: {', '.join(cls.input_types)} -> output: {output}")
    if cls.devices or cls.providers:
        click.echo(f"  runs on: {', '.join(cls.devices) or 'any device'} ({', '.join(cls.providers) or 'any provider'})")
    for constraint in cls.input_constraints:
        click.echo(f"  input must be: {constraint}")
    click.echo("  options:")
    for field_name, info in cls.Config.model_fields.items():
        default = "required" if info.default is PydanticUndefined and info.default_factory is None else repr(info.get_default(call_default_factory=True))
        annotation = _type_name(info.annotation)
        line = f"    {field_name} ({annotation}, default {default})"
        if field_name in space:
            dim = space[field_name]
            values = list(dim.choices) if dim.choices is not None else f"{dim.low}..{dim.high}"
            line += f"  [searchable: {values}{', ordered' if dim.ordered else ''}]"
        click.echo(line)
        if info.description:
            click.echo(f"        {info.description}")
