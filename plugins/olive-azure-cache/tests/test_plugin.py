"""The plugin's contract with olive-core, its config rules and secret handling (no server needed)."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest
from pydantic import ValidationError

from olive_core.errors import CacheError
from olive_azure_cache.config import AzureCacheConfig
from olive_azure_cache.connect import connect
from olive_azure_cache.secrets import Scrubber, ScrubbingFilter


def test_entry_point_registers_the_azure_backend(olive_plugin_manager):
    from olive_azure_cache.cache import AzureCache

    component = olive_plugin_manager.registry.get("cache_backend", "azure")
    assert component.source.distribution == "olive-azure-cache"
    assert component.target == "olive_azure_cache.cache:AzureCache"
    assert component.load() is AzureCache and AzureCache.has_remote


def test_importing_the_plugin_loads_no_azure_sdk():
    code = "import sys, olive_azure_cache.plugin; print([m for m in sys.modules if m.startswith('azure')])"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"


def test_config_fields_are_documented_and_strict():
    undocumented = [name for name, info in AzureCacheConfig.model_fields.items() if not info.description]
    assert not undocumented
    with pytest.raises(ValidationError, match="connection_string"):
        AzureCacheConfig(container="c", connection_string="DefaultEndpointsProtocol=https;AccountKey=x")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "set exactly one of account_url"),
        ({"account_url": "https://a.blob.core.windows.net", "connection_string_env": "X"}, "set exactly one of"),
        ({"account_url": "https://a.blob.core.windows.net?sv=2024&sig=abc"}, "must not carry a query"),
        ({"connection_string_env": "DefaultEndpointsProtocol=https;AccountKey=abc"}, "NAME of an environment variable"),
        ({"connection_string_env": "X", "sas_token_env": "Y"}, "sas_token_env needs account_url"),
        ({"account_url": "blob.core.windows.net"}, "expected a URL"),
    ],
)
def test_config_mistakes_say_what_to_write(fields, message):
    with pytest.raises(ValidationError, match=message):
        AzureCacheConfig(container="c", **fields)


def test_prefix_is_normalized():
    config = AzureCacheConfig(container="c", connection_string_env="X", prefix="/team-a//olive/")
    assert config.prefix == "team-a/olive"


def test_an_unset_secret_variable_names_the_field_and_the_variable(monkeypatch):
    monkeypatch.delenv("OLIVE_TEST_UNSET_VARIABLE", raising=False)
    config = AzureCacheConfig(container="c", connection_string_env="OLIVE_TEST_UNSET_VARIABLE")
    with pytest.raises(CacheError) as error:
        connect(config)
    assert "engine.cache.config.connection_string_env" in str(error.value)
    assert "'OLIVE_TEST_UNSET_VARIABLE' is not set" in str(error.value)


def test_a_malformed_connection_string_is_an_error_without_the_secret(monkeypatch):
    monkeypatch.setenv("OLIVE_TEST_BAD_CONNECTION", "AccountKey=s3cr3t-value-123;no endpoint here")
    with pytest.raises(CacheError) as error:
        connect(AzureCacheConfig(container="c", connection_string_env="OLIVE_TEST_BAD_CONNECTION"))
    assert "$OLIVE_TEST_BAD_CONNECTION" in str(error.value) and "s3cr3t-value-123" not in str(error.value)


def test_without_sas_and_without_azure_identity_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # as if azure-identity were not installed
    with pytest.raises(CacheError) as error:
        connect(AzureCacheConfig(container="c", account_url="https://acct.blob.core.windows.net"))
    assert "olive-azure-cache[identity]" in str(error.value) and "sas_token_env" in str(error.value)


def test_scrubber_removes_known_secrets_and_signature_shapes():
    scrub = Scrubber(["my-account-key=="])
    text = scrub("key my-account-key== url https://a/b?sv=1&sig=abc%2Fdef&se=2 AccountKey=other;x SharedAccessSignature=sv=1")
    assert "my-account-key" not in text and "abc%2Fdef" not in text and "other" not in text
    assert "sig=***" in text and "AccountKey=***" in text and "SharedAccessSignature=***" in text


def test_scrubbing_filter_rewrites_log_records(caplog):
    logger = logging.getLogger("olive_azure_cache.tests.filter")
    logger.addFilter(ScrubbingFilter(Scrubber(["token-value-42"])))
    with caplog.at_level(logging.DEBUG, logger=logger.name):
        logger.debug("GET /c/blob?%s", "sig=token-value-42")
    assert "token-value-42" not in caplog.text and "sig=***" in caplog.text


def test_a_missing_emulator_fails_the_tests_and_says_how_to_install_it(monkeypatch, tmp_path):
    from olive_azure_cache.testing import azurite_binary

    monkeypatch.setenv("AZURITE_BLOB", str(tmp_path / "no-azurite-here"))
    monkeypatch.chdir(tmp_path)  # no .tools/azurite here or above
    with pytest.raises(pytest.fail.Exception, match="run `make test`"):
        azurite_binary()
