"""The pipeline's own tokenizer: prompts to fixed-length token ids, as diffusers pads them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from olive_core.errors import DataError

TOKENIZER_FOLDER = "tokenizer"


def load_tokenizer(pipeline_folder: Path) -> Any:
    """The tokenizer saved in the pipeline's ``tokenizer`` folder (diffusers and ONNX pipelines alike)."""
    from transformers import AutoTokenizer

    folder = Path(pipeline_folder) / TOKENIZER_FOLDER
    try:
        return AutoTokenizer.from_pretrained(str(folder))
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise DataError(
            f"no tokenizer can be loaded from '{folder}': {first}",
            hint="the pipeline folder needs its tokenizer folder (vocab, merges, tokenizer_config.json)",
        ) from exc


def tokenize(tokenizer: Any, texts: list[str], length: int) -> Any:
    """int64 ids [len(texts), length]: padded to ``length`` and truncated, like diffusers' encode_prompt."""
    import numpy as np

    encoded = tokenizer(texts, padding="max_length", max_length=length, truncation=True, return_tensors="np")
    return np.asarray(encoded["input_ids"], dtype=np.int64)
