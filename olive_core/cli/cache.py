"""``olive cache``: inspect and maintain the local cache, and a remote tier where the backend has one.

Without ``--workflow`` the commands open the local cache (``--cache-dir``, else the default
folder). With ``--workflow FILE`` they open the backend that workflow's ``engine.cache`` names,
so a plugin backend with a remote tier (e.g. ``azure``) can list, push, pull and delete there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import click

from olive_core.cli.errors import debug_option, handle_errors

cache_dir_option = click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Cache folder (default: OLIVE_CACHE_DIR, else ~/.cache/olive-core).",
)

workflow_option = click.option(
    "-w",
    "--workflow",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Open the cache that this workflow's engine.cache configures (e.g. one with a remote tier); "
    "--cache-dir still sets its local folder.",
)


@contextmanager
def _open(cache_dir: str | None, workflow: str | None) -> Iterator[tuple[Any, str]]:
    """The cache to work on and its backend's name; closed (remote uploads awaited) on exit."""
    if workflow is None:
        from olive_core.cache.local import LocalCache, LocalCacheConfig

        store: Any = LocalCache(LocalCacheConfig(dir=cache_dir))
        backend = "local"
    else:
        from olive_core.engine.api import load_workflow, open_cache
        from olive_core.plugins import create_plugin_manager

        resolved = load_workflow(workflow, create_plugin_manager()).resolved
        store, backend = open_cache(resolved, cache_dir), resolved.cache.type
    try:
        yield store, backend
    finally:
        store.close()


def _require_remote(store: Any, backend: str) -> None:
    from olive_core.errors import CacheError

    if not store.has_remote:
        raise CacheError(
            f"cache backend '{backend}' has no remote tier",
            hint="pass --workflow FILE whose engine.cache names a backend with one "
            "(e.g. 'azure' from olive-azure-cache)",
        )


def _resolve_ids(store: Any, prefixes: Sequence[str]) -> list[str]:
    """Full remote model ids for the (possibly shortened) ids a user typed."""
    from olive_core.errors import CacheError

    known = [entry.model_id for entry in store.remote_entries()]
    chosen: list[str] = []
    for prefix in prefixes:
        matches = [model_id for model_id in known if model_id.startswith(prefix)]
        if not matches:
            raise CacheError(f"no model '{prefix}' in {store.remote_location}", hint="see `olive cache list --remote`")
        if len(matches) > 1:
            message = f"'{prefix}' matches {len(matches)} models in {store.remote_location}"
            raise CacheError(message, hint="type more of the id")
        chosen.append(matches[0])
    return chosen


def _size(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.1f} {unit}" if unit != "B" else f"{int(size)} B"
        size /= 1024
    return f"{size:.1f} GB"


def _print_transfer(verb: str, report: Any, where: str) -> None:
    click.echo(
        f"{verb} {report.models} model(s) and {report.records} record(s), {_size(report.bytes)}, {where}; "
        f"{report.skipped} already there"
    )
    for failure in report.failed:
        click.echo(f"  not {verb}: {failure}", err=True)


@click.group()
def cache() -> None:
    """Inspect and maintain the cache (and its remote tier, with --workflow)."""


@cache.command("list")
@cache_dir_option
@workflow_option
@click.option("--remote", is_flag=True, help="List the remote tier instead of the local one.")
@debug_option
@handle_errors
def list_entries(cache_dir: str | None, workflow: str | None, remote: bool, debug: bool) -> None:
    """List cached models."""
    with _open(cache_dir, workflow) as (store, backend):
        if remote:
            _require_remote(store, backend)
        entries = sorted(store.remote_entries() if remote else store.entries(), key=lambda e: e.created)
        for entry in entries:
            created = time.strftime("%Y-%m-%d %H:%M", time.localtime(entry.created))
            size = _size(entry.size_bytes)
            click.echo(f"{entry.model_id[:12]}  {entry.type:<8} {entry.pass_type:<30} {size:>10}  {created}")
        click.echo(f"{len(entries)} model(s) in {store.remote_location if remote else store.location}")


@cache.command()
@cache_dir_option
@workflow_option
@debug_option
@handle_errors
def size(cache_dir: str | None, workflow: str | None, debug: bool) -> None:
    """Show the local cache's size on disk."""
    with _open(cache_dir, workflow) as (store, backend):
        click.echo(f"{_size(store.size_bytes())} in {store.location}")


@cache.command()
@cache_dir_option
@workflow_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@debug_option
@handle_errors
def clear(cache_dir: str | None, workflow: str | None, yes: bool, debug: bool) -> None:
    """Remove everything from the local cache (a remote tier is left alone: see `delete`)."""
    with _open(cache_dir, workflow) as (store, backend):
        if not yes:
            click.confirm(f"remove everything in {store.location}?", abort=True)
        store.clear()
        click.echo(f"cleared {store.location}")


@cache.command()
@cache_dir_option
@workflow_option
@debug_option
@handle_errors
def gc(cache_dir: str | None, workflow: str | None, debug: bool) -> None:
    """Remove damaged entries and leftovers of killed runs."""
    with _open(cache_dir, workflow) as (store, backend):
        report = store.gc()
        click.echo(
            f"removed {report.removed_entries} damaged entr(y/ies) and {report.removed_orphans} leftover(s), "
            f"freed {_size(report.freed_bytes)}"
        )


@cache.command()
@cache_dir_option
@workflow_option
@debug_option
@handle_errors
def push(cache_dir: str | None, workflow: str | None, debug: bool) -> None:
    """Upload what the remote tier lacks, first what interrupted runs left pending."""
    with _open(cache_dir, workflow) as (store, backend):
        _require_remote(store, backend)
        _print_transfer("pushed", store.push(), f"to {store.remote_location}")


@cache.command()
@click.argument("model_ids", nargs=-1)
@cache_dir_option
@workflow_option
@debug_option
@handle_errors
def pull(model_ids: tuple[str, ...], cache_dir: str | None, workflow: str | None, debug: bool) -> None:
    """Download MODEL_IDS (id prefixes; every remote entry when none) into the local cache."""
    with _open(cache_dir, workflow) as (store, backend):
        _require_remote(store, backend)
        chosen = _resolve_ids(store, model_ids) if model_ids else None
        _print_transfer("pulled", store.pull(chosen), f"into {store.location}")


@cache.command()
@click.argument("model_ids", nargs=-1)
@cache_dir_option
@workflow_option
@click.option("--all", "everything", is_flag=True, help="Delete every model in the remote tier.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@debug_option
@handle_errors
def delete(
    model_ids: tuple[str, ...], cache_dir: str | None, workflow: str | None, everything: bool, yes: bool, debug: bool
) -> None:
    """Delete MODEL_IDS (id prefixes) from the remote tier; the local cache keeps its copies."""
    from olive_core.errors import CacheError

    if bool(model_ids) == everything:
        raise CacheError("name the models to delete, or pass --all (not both)", hint="see `olive cache list --remote`")
    with _open(cache_dir, workflow) as (store, backend):
        _require_remote(store, backend)
        chosen = [e.model_id for e in store.remote_entries()] if everything else _resolve_ids(store, model_ids)
        if not yes:
            click.confirm(f"delete {len(chosen)} model(s) from {store.remote_location}?", abort=True)
        removed = store.delete_remote(chosen)
        click.echo(f"deleted {removed} model(s) from {store.remote_location}")
