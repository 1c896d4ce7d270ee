"""Which layers a pass touches: every ``nn.Linear`` except the modules a config skips.

A skip pattern names a module by its full name (``bert.pooler.dense``), by a suffix of whole
name parts (``classifier``, ``output.dense``) or by a glob (``*.attention.*``). Skipping a
module skips everything inside it, so ``classifier`` also covers ``classifier.out_proj``.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

#: the output heads of common transformers models: classifiers, LM heads, QA heads
OUTPUT_HEADS = ("classifier", "score", "lm_head", "qa_outputs")


def matches(name: str, pattern: str) -> bool:
    return name == pattern or name.endswith("." + pattern) or fnmatchcase(name, pattern)


def is_skipped(name: str, patterns: Iterable[str]) -> bool:
    """Whether the module ``name`` or one of the modules that contain it matches a pattern."""
    parts = name.split(".")
    prefixes = [".".join(parts[: end + 1]) for end in range(len(parts))]
    return any(matches(prefix, pattern) for prefix in prefixes for pattern in patterns)


def linear_layers(module: torch.nn.Module, skip: Iterable[str] = ()) -> list[tuple[str, torch.nn.Linear]]:
    """The ``nn.Linear`` layers of ``module`` that no skip pattern covers, by full name."""
    import torch

    patterns = list(skip)
    return [
        (name, layer)
        for name, layer in module.named_modules()
        if isinstance(layer, torch.nn.Linear) and not is_skipped(name, patterns)
    ]


def skipped_linear_names(module: torch.nn.Module, skip: Iterable[str]) -> list[str]:
    """Full names of the ``nn.Linear`` layers that the skip patterns cover."""
    import torch

    patterns = list(skip)
    return [
        name
        for name, layer in module.named_modules()
        if isinstance(layer, torch.nn.Linear) and is_skipped(name, patterns)
    ]
