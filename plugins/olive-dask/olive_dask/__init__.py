"""olive-dask: runs a search's trials on a Dask cluster (``search.executor: {type: dask}``)."""

__version__ = "0.1.0"
