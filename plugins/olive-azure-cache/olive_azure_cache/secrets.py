"""Keep secrets out of messages: every text this plugin shows or logs goes through a Scrubber.

Azure's own errors rarely quote a key, but URLs carry SAS signatures and some responses echo
request details; and urllib3 logs request URLs (query included) at debug level. So the known
secret values are replaced wherever they appear, and so are signature-shaped fragments.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "***"

#: secret-shaped fragments, whatever their value: SAS signatures, account keys, whole SAS tokens
_PATTERNS = (
    re.compile(r"(?i)(sig=)[^&\s'\"]+"),
    re.compile(r"(?i)(AccountKey=)[^;\s'\"]+"),
    re.compile(r"(?i)(SharedAccessSignature=)[^;\s'\"]+"),
)

#: loggers that write request URLs or headers (with --debug) while this plugin talks to Azure,
#: and this plugin's own (its messages are scrubbed when made; this is a second line)
_CHATTY_LOGGERS = ("urllib3.connectionpool", "azure.core.pipeline.policies.http_logging_policy", "olive_azure_cache")


class Scrubber:
    """Replaces the secrets it was given, and anything shaped like one, with ``***``."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # longest first, so that a connection string is replaced whole before the key inside it
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4 and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    def __call__(self, text: object) -> str:
        result = str(text)
        for secret in self.secrets:
            result = result.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            result = pattern.sub(lambda m: m.group(1) + REDACTED, result)
        return result


class ScrubbingFilter(logging.Filter):
    """A logging filter that rewrites each record's message through a Scrubber."""

    def __init__(self, scrub: Scrubber) -> None:
        super().__init__()
        self.scrub = scrub

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def guard_loggers(scrub: Scrubber, names: Iterable[str] = _CHATTY_LOGGERS) -> None:
    """Install a scrubbing filter on the loggers that log request details (once per logger)."""
    for name in names:
        logger = logging.getLogger(name)
        existing = next((f for f in logger.filters if isinstance(f, ScrubbingFilter)), None)
        if existing is None:
            logger.addFilter(ScrubbingFilter(scrub))
        else:
            for secret in scrub.secrets:
                existing.scrub.add(secret)
