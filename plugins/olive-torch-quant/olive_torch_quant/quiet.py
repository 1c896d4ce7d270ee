"""Drop the import-time warnings of torchao that a CPU install can do nothing about.

transformers imports torchao whenever it is installed, so without this every run that loads an
`hf` model would print that torchao's CUDA libraries failed to load, that Triton is missing,
and that torch's pytree registry deprecates some of torchao's enums. The filters match those
messages only; anything else torchao logs still shows.
"""

from __future__ import annotations

import logging
import re

#: (logger, message pattern) of the expected warnings
EXPECTED = (
    ("torchao", re.compile(r"Failed to load .*/torchao/_C_(cutlass|mxfp8)")),
    ("torchao.kernel.intmm", re.compile(r"Detected no triton")),
    ("torch.utils._pytree", re.compile(r"is an Enum subclass and is now natively supported by torch\.compile")),
)


class _DropExpected(logging.Filter):
    def __init__(self, pattern: re.Pattern[str]) -> None:
        super().__init__()
        self.pattern = pattern

    def filter(self, record: logging.LogRecord) -> bool:
        return not self.pattern.search(record.getMessage())


def install_filters() -> None:
    """Add the filters once per process (plugin discovery calls this; it imports nothing heavy)."""
    for name, pattern in EXPECTED:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropExpected) and f.pattern is pattern for f in logger.filters):
            logger.addFilter(_DropExpected(pattern))
