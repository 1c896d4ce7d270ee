"""The console olive prints on: rich on a terminal; plain lines anywhere else (CI, a pipe, a file).

Plain means no colours or cursor movement, no wrapping of long lines, and tables as wide as
their content, so that nothing (a metric's name) is cut to fit an 80-column guess.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console

#: the width a plain console lays tables out in: wide enough that they never need to shrink
PLAIN_WIDTH = 10_000


def is_interactive(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, OSError, ValueError):
        return False


def make_console(stream: TextIO, quiet: bool = False) -> Console:
    """A console on ``stream``: live and coloured on a terminal, plain elsewhere."""
    if is_interactive(stream):
        return Console(file=stream, quiet=quiet)
    return Console(
        file=stream,
        quiet=quiet,
        force_terminal=False,
        color_system=None,
        no_color=True,
        highlight=False,
        emoji=False,
        soft_wrap=True,
        width=PLAIN_WIDTH,
    )
