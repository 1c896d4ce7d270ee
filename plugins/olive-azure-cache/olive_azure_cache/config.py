"""The ``azure`` backend's configuration: where the container is, and which env vars hold secrets.

Secrets are never written in the workflow: it names the environment variables that hold them
(a connection string, or a SAS token), so ``run.json`` records only those names.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from olive_core.cache.local import LocalCacheConfig


class AzureCacheConfig(LocalCacheConfig):
    """``dir`` (inherited) is the local tier; everything else describes the remote one."""

    container: str = Field(description="blob container shared by everyone who reuses these results")
    prefix: str = Field(default="", description="folder inside the container, e.g. 'team-a/olive'")
    account_url: str | None = Field(
        default=None,
        description="https://<account>.blob.core.windows.net; credentials from sas_token_env, else azure-identity",
    )
    connection_string_env: str | None = Field(
        default=None,
        description="name of the environment variable holding a storage connection string (instead of account_url)",
    )
    sas_token_env: str | None = Field(
        default=None, description="name of the environment variable holding a SAS token for account_url"
    )
    create_container: bool = Field(default=True, description="create the container on first use if it does not exist")
    upload_queue_size: int = Field(
        default=32, ge=1, le=10_000, description="entries waiting for upload before a run waits for the uploader"
    )
    timeout_s: float = Field(
        default=10.0, gt=0, le=3600, description="seconds to wait for a connection or a response before retrying"
    )
    retries: int = Field(
        default=2, ge=0, le=100, description="retries of a failed request before the remote counts as down for the run"
    )
    api_version: str | None = Field(
        default=None, description="storage service API version to send (e.g. for an emulator that rejects the newest)"
    )

    @field_validator("prefix")
    @classmethod
    def _normalize_prefix(cls, value: str) -> str:
        return "/".join(part for part in value.split("/") if part)

    @field_validator("connection_string_env", "sas_token_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or not value.replace("_", "").isalnum() or value[0].isdigit()):
            raise ValueError(
                "expected the NAME of an environment variable (letters, digits, '_'), not its value: "
                "keep secrets out of the workflow"
            )
        return value

    @field_validator("account_url")
    @classmethod
    def _url_without_secret(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.netloc:
            raise ValueError("expected a URL such as https://<account>.blob.core.windows.net")
        if parts.query:
            raise ValueError(
                "account_url must not carry a query (a SAS token is a secret): "
                "put the token in the variable named by sas_token_env"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _one_endpoint(self) -> AzureCacheConfig:
        if (self.account_url is None) == (self.connection_string_env is None):
            raise ValueError(
                "set exactly one of account_url (with sas_token_env or azure-identity) and connection_string_env "
                "(e.g. \"connection_string_env\": \"AZURE_STORAGE_CONNECTION_STRING\")"
            )
        if self.sas_token_env is not None and self.account_url is None:
            raise ValueError("sas_token_env needs account_url (a connection string carries its own credentials)")
        return self
