"""``olive cache``: list, size, clear and garbage-collect the local cache."""

from __future__ import annotations

import time
from typing import Any

import click

from olive_core.cli.errors import debug_option, handle_errors

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Cache folder (default: OLIVE_CACHE_DIR, else ~/.cache/olive-core).",
)


def _open(cache_dir: str | None) -> Any:
    from olive_core.cache.local import LocalCache, LocalCacheConfig

    return LocalCache(LocalCacheConfig(dir=cache_dir))


def _size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} GB"


@click.group()
def cache() -> None:
    """Inspect and maintain the local cache."""


@cache.command("list")
@cache_dir_option
@debug_option
@handle_errors
def list_entries(cache_dir: str | None, debug: bool) -> None:
    """List cached models."""
    store = _open(cache_dir)
    entries = sorted(store.entries(), key=lambda e: e.created)
    for entry in entries:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
        click.echo(f"{entry.model_id[:12]}  {entry.type:<8} {entry.pass_type:<30} {_size(entry.size_bytes):>10}  {created}")
    click.echo(f"{len(entries)} model(s) in {store.location}")
    store.close()


@cache.command()
@cache_dir_option
@debug_option
@handle_errors
def size(cache_dir: str | None, debug: bool) -> None:
    """Show the cache's size on disk."""
    store = _open(cache_dir)
    click.echo(f"{_size(store.size_bytes())} in {store.location}")
    store.close()


@cache.command()
@cache_dir_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@debug_option
@handle_errors
def clear(cache_dir: str | None, yes: bool, debug: bool) -> None:
    """Remove everything from the cache."""
    store = _open(cache_dir)
    if not yes:
        click.confirm(f"remove everything in {store.location}?", abort=True)
    store.clear()
    click.echo(f"cleared {store.location}")
    store.close()


@cache.command()
@cache_dir_option
@debug_option
@handle_errors
def gc(cache_dir: str | None, debug: bool) -> None:
    """Remove damaged entries and leftovers of killed runs."""
    store = _open(cache_dir)
    report = store.gc()
    click.echo(
        f"removed {report.removed_entries} damaged entr(y/ies) and {report.removed_orphans} leftover(s), "
        f"freed {_size(report.freed_bytes)}"
    )
    store.close()
