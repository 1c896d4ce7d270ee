"""olive-azure-cache: a shared Azure Blob Storage tier behind olive-core's local cache.

Importing this package (or its plugin module) does not import azure-storage-blob; the SDK loads
when a workflow names the ``azure`` cache backend.
"""

__version__ = "0.1.0"
