"""The cache protocol and core's local backend."""

from olive_core.cache.backend import CacheBackend, CacheBackendConfig, CacheEntry, GcReport, TransferReport

__all__ = ["CacheBackend", "CacheBackendConfig", "CacheEntry", "GcReport", "TransferReport"]
