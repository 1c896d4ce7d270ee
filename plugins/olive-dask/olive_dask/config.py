"""The ``dask`` executor's options: a scheduler's address, or the embedded LocalCluster's shape.

Kept apart from :mod:`olive_dask.executor` so that validating a workflow imports pydantic only.
"""

from __future__ import annotations

import re

from pydantic import Field, field_validator, model_validator

from olive_core.engine.executors import ExecutorConfig

#: Dask's memory sizes: 'auto', a fraction of the machine's memory (0.5), or bytes ('4GiB', '512 MB', 4e9)
_MEMORY = re.compile(r"^(auto|0?\.\d+|1(\.0+)?|\d+(\.\d+)?(e\d+)?\s*([kKMGTP]i?B?|B)?)$")
_LOCAL_ONLY = ("n_workers", "threads_per_worker", "memory_limit")


class DaskExecutorConfig(ExecutorConfig):
    address: str | None = Field(
        default=None,
        max_length=500,
        description="a running scheduler ('tcp://10.0.0.5:8786', started with `dask scheduler` and its workers with "
        "`dask worker`); absent: an embedded LocalCluster on this machine, started and stopped by the run",
    )
    n_workers: int = Field(default=2, ge=1, le=256, description="LocalCluster: worker processes")
    threads_per_worker: int = Field(default=1, ge=1, le=256, description="LocalCluster: trials each worker runs at once")
    memory_limit: str = Field(
        default="auto",
        max_length=32,
        description="LocalCluster: memory per worker, beyond which Dask restarts it ('4GiB', a fraction such as 0.5 "
        "of this machine's memory, or 'auto': the memory shared among the workers)",
    )
    same_machine: bool = Field(
        default=False,
        description="with address: every worker runs on this machine, so a local cache folder is shared safely "
        "(checked against the workers' hosts when the run starts)",
    )
    workers: list[str] = Field(
        default_factory=list,
        max_length=1000,
        description="run trials on these workers only (addresses or names); default: any worker",
    )
    connect_timeout_s: float = Field(
        default=10.0, gt=0, le=3600, description="how long to wait for the scheduler, and for its first worker"
    )

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str) -> str:
        if not _MEMORY.match(value.strip()):
            raise ValueError("expected 'auto', a fraction of this machine's memory such as 0.5, or a size such as '4GiB'")
        return value.strip()

    @field_validator("address")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^([a-z]+://)?[^\s/:]+:\d{1,5}$", value):
            raise ValueError("expected a scheduler address such as 'tcp://10.0.0.5:8786'")
        return value

    @model_validator(mode="after")
    def _options_fit_the_topology(self) -> DaskExecutorConfig:
        if self.address is not None:
            local = [name for name in _LOCAL_ONLY if name in self.model_fields_set]
            if local:
                raise ValueError(
                    f"{', '.join(local)} shape the embedded LocalCluster, which a run with 'address' does not start: "
                    "size the cluster where its workers are started (`dask worker --nworkers ... --nthreads ...`)"
                )
        elif self.same_machine:
            raise ValueError("same_machine describes the workers of a scheduler at 'address'; a LocalCluster is always on this machine")
        return self
