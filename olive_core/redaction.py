"""Keep secrets out of everything olive records: run.json, model.json, cache records, logs, hooks.

Two kinds of value are never recorded:

- a value that came from an environment variable (``${HF_TOKEN}``): the workflow loader tells
  the run's :class:`Redactor` each one it substituted, and every text recorded afterwards has
  it replaced by its ``${NAME}`` reference;
- a value under a key that names a secret (``token``, ``password``, ``api_key``,
  ``connection_string``, ...), even when written in clear: it becomes ``***``.

Values a variable turned into a number or a boolean are not secrets and are kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from olive_core.errors import OliveError
    from olive_core.models.handler import ModelHandler

REDACTED = "***"

#: a value this long is also replaced inside longer texts (a token inside a URL); a shorter one
#: only where it is the whole text, so that ``${DEVICE}=cpu`` does not mangle every word
MIN_SUBSTRING_LENGTH = 6

_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}")
_SECRET_WORDS = {"password", "passwd", "passphrase", "secret", "token", "credential", "credentials", "sas", "apikey"}
_SECRET_PAIRS = {
    ("api", "key"),
    ("access", "key"),
    ("account", "key"),
    ("private", "key"),
    ("secret", "key"),
    ("shared", "key"),
    ("client", "secret"),
    ("connection", "string"),
}
#: "<kind>_token" keys of tokenizers name a vocabulary entry, not a credential
_VOCABULARY_TOKENS = {"pad", "bos", "eos", "unk", "sep", "cls", "mask"}


def is_secret_key(key: object) -> bool:
    """Whether a field of this name holds a secret (``hf_token``, ``AccountKey``, ``password``).

    ``<...>_env`` fields name the variable that holds a secret, not the secret, and stay readable.
    """
    if not isinstance(key, str) or key.endswith("_env"):
        return False
    words = re.findall(r"[a-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", key).lower())
    if not words:
        return False
    last = words[-1]
    if last in _SECRET_WORDS:
        return not (last == "token" and len(words) > 1 and words[-2] in _VOCABULARY_TOKENS)
    return len(words) > 1 and (words[-2], last) in _SECRET_PAIRS


class Redactor:
    """Scrubs the values of one run's variables, and secret fields, from what gets recorded."""

    def __init__(self) -> None:
        #: variable value -> its ``${NAME}`` reference, longest value first when applied
        self._references: dict[str, str] = {}

    def remember(self, name: str, value: str) -> None:
        """Record that ``value`` came from the environment variable ``name``."""
        if value:
            self._references.setdefault(value, f"${{{name}}}")

    def remember_secrets(self, data: Any) -> None:
        """Also scrub from texts the values written in clear under secret fields of ``data``
        (a workflow): a library that prints its token must not put it in the run's log."""
        if isinstance(data, dict):
            for key, item in data.items():
                if is_secret_key(key) and isinstance(item, str) and item and not _REFERENCE.fullmatch(item):
                    self._references.setdefault(item, REDACTED)
                else:
                    self.remember_secrets(item)
        elif isinstance(data, (list, tuple)):
            for item in data:
                self.remember_secrets(item)

    @property
    def active(self) -> bool:
        return bool(self._references)

    def text(self, text: str) -> str:
        """``text`` with every remembered value replaced by its reference."""
        if not self._references or not text:
            return text
        exact = self._references.get(text)
        if exact is not None:
            return exact
        for value in sorted(self._references, key=len, reverse=True):
            if len(value) >= MIN_SUBSTRING_LENGTH and value in text:
                text = text.replace(value, self._references[value])
        return text

    def __call__(self, value: Any) -> Any:
        """A scrubbed copy of plain data (dicts, lists, strings, numbers)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {key: self._field(key, item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self(item) for item in value]
        return value

    def _field(self, key: Any, item: Any) -> Any:
        if not is_secret_key(key) or item is None or isinstance(item, (bool, dict, list, tuple)):
            return self(item)
        scrubbed = self.text(item) if isinstance(item, str) else item
        # a ${NAME} reference says where the secret comes from without giving it
        return scrubbed if isinstance(scrubbed, str) and _REFERENCE.fullmatch(scrubbed) else REDACTED

    def handle(self, handle: ModelHandler) -> ModelHandler:
        """A copy of a model handle whose attributes are scrubbed; its paths stay usable."""
        return handle.model_copy(update={"attributes": self(handle.attributes)})

    def error(self, error: OliveError) -> OliveError:
        """The same error with its message and hint scrubbed (changed in place)."""
        error.message = self.text(error.message)
        error.hint = self.text(error.hint) if error.hint else error.hint
        error.args = (error.message,)
        return error

    @contextmanager
    def guarding_logs(self) -> Iterator[None]:
        """While active, every record reaching the root logger's handlers is scrubbed."""
        if not self.active:
            yield
            return
        guard = _ScrubbingFilter(self)
        handlers = list(logging.getLogger().handlers)
        for handler in handlers:
            handler.addFilter(guard)
        try:
            yield
        finally:
            for handler in handlers:
                handler.removeFilter(guard)


class _ScrubbingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redactor.text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_text is None and record.exc_info[0] is not None:
            record.exc_text = self.redactor.text(logging.Formatter().formatException(record.exc_info))
        return True


__all__ = ["REDACTED", "Redactor", "is_secret_key"]
