"""DaskExecutor: a search's trials as Dask tasks, on an embedded LocalCluster or a running scheduler.

Each trial is one task calling olive-core's ``run_trial_in_worker`` with a picklable
``TrialRequest``; the worker rebuilds plugins, workflow and cache from it, as a process pool's
worker does. A worker that dies mid-trial is Dask's to handle: the scheduler gives its task to
another worker (``distributed.scheduler.allowed-failures`` times, then the trial fails with
``KilledWorker``, which the engine records). ``distributed`` is imported only when a run starts.
"""

from __future__ import annotations

import logging
import socket
from concurrent.futures import Executor
from typing import Any
from urllib.parse import urlsplit

from olive_core.engine.executors import TrialExecutor
from olive_core.errors import ExecutorError
from olive_dask.config import DaskExecutorConfig

logger = logging.getLogger("olive_dask")

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class DaskExecutor(TrialExecutor):
    """Trials on Dask workers: one trial per worker thread at once unless parallel_trials says otherwise."""

    Config = DaskExecutorConfig
    same_machine_option = "same_machine"

    def __init__(self, config: DaskExecutorConfig | None = None) -> None:
        super().__init__(config)
        self.config: DaskExecutorConfig = self.config  # type: ignore[assignment]
        self.cluster: Any = None
        self.client: Any = None
        self._threads = 0

    @classmethod
    def on_this_machine(cls, config: DaskExecutorConfig) -> bool:  # type: ignore[override]
        return config.address is None or config.same_machine

    def start(self, parallel_trials: int | None) -> Executor:
        if self.config.address is None:
            self._start_local_cluster()
        else:
            self._connect(self.config.address)
        threads = self.client.nthreads()
        if self.config.workers:
            threads = {address: n for address, n in threads.items() if self._chosen(address)}
            if not threads:
                raise ExecutorError(
                    f"none of the workers named in search.executor.config.workers ({', '.join(self.config.workers)}) "
                    f"is connected to the scheduler at {self.client.scheduler.address}",
                    hint=f"connected workers: {', '.join(self._worker_names()) or 'none'}",
                )
        self._threads = sum(threads.values())
        self.slots = parallel_trials or self._threads
        options: dict[str, Any] = {"pure": False}  # every trial is its own task, never deduplicated
        if self.config.workers:
            options.update(workers=list(self.config.workers), allow_other_workers=False)
        return self.client.get_executor(**options)

    def _start_local_cluster(self) -> None:
        from distributed import Client, LocalCluster

        memory: Any = self.config.memory_limit
        if memory not in ("auto",) and memory.replace(".", "", 1).isdigit():
            memory = float(memory)
        self.cluster = LocalCluster(
            n_workers=self.config.n_workers,
            threads_per_worker=self.config.threads_per_worker,
            processes=True,
            memory_limit=memory,
            dashboard_address=None,
            host="127.0.0.1",
        )
        self.client = Client(self.cluster, timeout=self.config.connect_timeout_s)

    def _connect(self, address: str) -> None:
        from distributed import Client

        timeout = self.config.connect_timeout_s
        try:
            self.client = Client(address, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"cannot reach the Dask scheduler at {address} within {timeout:g} s: {exc}",
                hint="start it (`dask scheduler`) and its workers (`dask worker ADDRESS`), check "
                "search.executor.config.address, or run with --executor inline",
            ) from exc
        try:
            self.client.wait_for_workers(1, timeout=timeout)
        except (OSError, TimeoutError) as exc:
            raise ExecutorError(
                f"the Dask scheduler at {address} has no worker after {timeout:g} s",
                hint=f"start workers with `dask worker {address}`",
            ) from exc
        if self.config.same_machine:
            self._check_same_machine()

    def _check_same_machine(self) -> None:
        """same_machine is a promise the local cache relies on: hold the workers to it."""
        here = _LOOPBACK | {socket.gethostname(), socket.getfqdn()}
        try:
            here |= set(socket.gethostbyname_ex(socket.gethostname())[2])
        except OSError:
            pass
        for address in self.client.nthreads():
            host = urlsplit(address).hostname or address
            if host not in here:
                raise ExecutorError(
                    f"search.executor.config.same_machine is set, but worker {address} runs on '{host}', not on this machine",
                    hint="use a cache backend with a remote tier (engine.cache.type: azure), or start every worker here",
                )

    def _chosen(self, address: str) -> bool:
        name = self.client.scheduler_info(n_workers=-1)["workers"].get(address, {}).get("name")
        return address in self.config.workers or str(name) in self.config.workers

    def _worker_names(self) -> list[str]:
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        return [f"{info.get('name')} ({address})" for address, info in workers.items()]

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.cluster is not None:
            self.cluster.close()
            self.cluster = None

    def describe(self) -> dict[str, Any]:
        address = self.cluster.scheduler_address if self.cluster is not None else self.config.address
        return {
            "address": address,
            "embedded": self.config.address is None,
            "workers": len(self.client.nthreads()) if self.client is not None else None,
            "threads": self._threads,
            "slots": self.slots,
        }
