"""Turn an AzureCacheConfig into a container client: read the secrets' env vars, pick credentials.

No network traffic happens here; the first request tells whether the credentials work. Every
secret read is handed to the Scrubber before anything can print it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from olive_core.errors import CacheError
from olive_azure_cache.config import AzureCacheConfig
from olive_azure_cache.secrets import Scrubber, guard_loggers

_FIELD = "engine.cache.config"


@dataclass
class Connection:
    """A container client plus what messages need to say where it points and whose keys it uses."""

    container: Any  # azure.storage.blob.ContainerClient
    scrub: Scrubber
    location: str
    #: where the credentials came from, for error messages (never the credentials themselves)
    credentials: str


def _env(name: str, field: str) -> str:
    value = os.environ.get(name, "")
    if not value.strip():
        raise CacheError(
            f"{_FIELD}.{field}: environment variable '{name}' is not set",
            hint=f"export {name}=... (the value is a secret: keep it out of the workflow file)",
        )
    return value.strip()


def _connection_string_secrets(connection_string: str) -> list[str]:
    parts = dict(item.split("=", 1) for item in connection_string.split(";") if "=" in item)
    return [connection_string] + [parts[k] for k in ("AccountKey", "SharedAccessSignature") if parts.get(k)]


def _client_options(config: AzureCacheConfig) -> dict[str, Any]:
    from azure.storage.blob import LinearRetry

    options: dict[str, Any] = {
        # the SDK's default waits 15 s and more between retries; a run should learn fast that
        # the remote is down and go on locally
        "retry_policy": LinearRetry(backoff=0.5, random_jitter_range=0.25, retry_total=config.retries),
        "connection_timeout": config.timeout_s,
        "read_timeout": config.timeout_s * 6,
    }
    if config.api_version:
        options["api_version"] = config.api_version
    return options


def _identity_credential() -> Any:
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise CacheError(
            f"{_FIELD}.account_url: no credentials: sas_token_env is not set and azure-identity is not installed",
            hint="set sas_token_env to the name of a variable holding a SAS token, or "
            "pip install 'olive-azure-cache[identity]' to use az login / managed identity",
        ) from exc
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)


def connect(config: AzureCacheConfig) -> Connection:
    """A client for the configured container; raises CacheError for a missing or malformed secret."""
    from azure.storage.blob import BlobServiceClient

    scrub = Scrubber()
    options = _client_options(config)
    credentials = "the configured endpoint"
    try:
        if config.connection_string_env:
            connection_string = _env(config.connection_string_env, "connection_string_env")
            for secret in _connection_string_secrets(connection_string):
                scrub.add(secret)
            credentials = f"the connection string in ${config.connection_string_env}"
            service = BlobServiceClient.from_connection_string(connection_string, **options)
        else:
            assert config.account_url is not None  # the config's validator guarantees one endpoint
            if config.sas_token_env:
                token = _env(config.sas_token_env, "sas_token_env").lstrip("?")
                scrub.add(token)
                credential: Any = token
                credentials = f"the SAS token in ${config.sas_token_env}"
            else:
                credential = _identity_credential()
                credentials = "azure-identity's DefaultAzureCredential"
            service = BlobServiceClient(config.account_url, credential=credential, **options)
    except ValueError as exc:  # a malformed connection string or URL
        raise CacheError(
            f"{_FIELD}: cannot use {credentials}: {scrub(exc)}",
            hint="check the value of the environment variable (Azure portal: storage account > Access keys)",
        ) from None
    guard_loggers(scrub)
    location = "azure://" + "/".join(p for p in (service.account_name, config.container, config.prefix) if p)
    return Connection(service.get_container_client(config.container), scrub, location, credentials)
