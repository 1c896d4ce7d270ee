"""Text to the token ids language-model metrics read: fixed-length blocks, and prompts.

``text_blocks`` is for perplexity and calibration: a corpus is one long token stream (texts
joined by the end-of-sequence token, as models see documents in training) cut into blocks of one
length, so every block batches and every token is predicted from real context. ``prompts`` is
for generation: each text is one prompt. Both tokenize with the input model's own tokenizer
(olive-torch's ``load_tokenizer``), without the tokenizer's automatic special tokens, so what
the model reads is exactly what the config says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import Field, model_validator

from olive_core.errors import DataError
from olive_core.evaluation.data import DataComponent, DataComponentConfig, DataContext

from olive_torch.api import load_tokenizer, sample_texts

if TYPE_CHECKING:
    from olive_core.evaluation.data import Batch

#: the largest token count a config may ask for (a million tokens is beyond any context)
MAX_TOKENS = 1_048_576


class TextBlocksConfig(DataComponentConfig):
    text_field: str = Field(default="text", description="the sample field holding the text")
    block_size: int = Field(
        default=512, ge=2, le=MAX_TOKENS, description="tokens per block; must fit in the model's context"
    )
    stride: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TOKENS,
        description="tokens from one block's start to the next's; below block_size the blocks overlap "
        "(more calibration windows, and perplexity counts shared tokens once per block); default: block_size",
    )
    max_blocks: int | None = Field(default=None, ge=1, le=10_000_000, description="keep at most this many blocks")
    tokenizer: str | None = Field(
        default=None,
        description="a tokenizer folder (relative to the workflow's folder) or hub id; default: the input model's",
    )

    @model_validator(mode="after")
    def _stride_within_block(self) -> TextBlocksConfig:
        if self.stride is not None and self.stride > self.block_size:
            raise ValueError(f"stride ({self.stride}) above block_size ({self.block_size}) would skip tokens")
        return self


class TextBlocks(DataComponent):
    """Tokenize every text, join them with the end-of-sequence token, cut into ``block_size`` blocks.

    The last, incomplete block is dropped, so every sample is ``{"input_ids": int64[block_size]}``
    and any batch size works.
    """

    role = "preprocess"
    Config = TextBlocksConfig

    def __call__(self, value: Any, config: TextBlocksConfig, context: DataContext) -> list[dict[str, Any]]:
        samples = list(value or [])
        if not samples:
            return []
        tokenizer = load_tokenizer(config, context, "text_blocks")
        texts = sample_texts(samples, config.text_field, context, "text_blocks' text_field")
        stream = _token_stream(tokenizer, texts)
        if len(stream) < config.block_size:
            raise DataError(
                f"data '{context.name}': the text makes {len(stream)} tokens, fewer than one block of "
                f"{config.block_size} (text_blocks' block_size)",
                hint="give more text, or lower text_blocks' block_size",
            )
        stride = config.stride or config.block_size
        starts = range(0, len(stream) - config.block_size + 1, stride)
        if config.max_blocks is not None:
            starts = starts[: config.max_blocks]
        return [{"input_ids": stream[start : start + config.block_size].copy()} for start in starts]


class PromptsConfig(DataComponentConfig):
    text_field: str = Field(default="text", description="the sample field holding the prompt's text")
    length: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TOKENS,
        description="tokens per prompt: longer prompts keep their first tokens, shorter ones are padded on the left "
        "with the pad token, so prompts batch; default: each prompt as long as its text (then use batch_size 1)",
    )
    add_bos: bool = Field(
        default=False, description="start each prompt with the tokenizer's beginning-of-sequence token"
    )
    tokenizer: str | None = Field(
        default=None,
        description="a tokenizer folder (relative to the workflow's folder) or hub id; default: the input model's",
    )


class Prompts(DataComponent):
    """Each text becomes one prompt, ``{"input_ids": int64[tokens]}``, for generation metrics.

    Prompts of different lengths do not stack into one batch: set ``length`` (pad and truncate)
    or keep the data's ``batch_size`` at 1. Padding is attended like any token by every runtime,
    so prefer texts at least ``length`` tokens long; other sample fields are dropped.
    """

    role = "preprocess"
    Config = PromptsConfig

    def __call__(self, value: Any, config: PromptsConfig, context: DataContext) -> list[dict[str, Any]]:
        samples = list(value or [])
        if not samples:
            return []
        tokenizer = load_tokenizer(config, context, "prompts")
        texts = sample_texts(samples, config.text_field, context, "prompts' text_field")
        bos = _bos_id(tokenizer, context) if config.add_bos else None
        pad = _pad_id(tokenizer, context) if config.length is not None else None
        prompts = []
        for index, ids in enumerate(tokenizer(texts, add_special_tokens=False)["input_ids"]):
            ids = ([bos] if bos is not None else []) + list(ids)
            if not ids:
                raise DataError(
                    f"data '{context.name}': sample {index} makes an empty prompt (its text has no tokens)",
                    hint="remove empty texts, or set prompts' add_bos",
                )
            if config.length is not None:
                ids = [pad] * (config.length - len(ids)) + ids[: config.length]
            prompts.append({"input_ids": np.asarray(ids, dtype=np.int64)})
        return prompts


def token_batches(batches: list[Batch] | None, metric: str) -> list[np.ndarray]:
    """The ``[batch, tokens]`` int64 ``input_ids`` of each batch: what the metrics read from data."""
    if batches is None:
        raise DataError(
            f"metric '{metric}' needs data: name an entry of 'data' in the metric",
            hint="make token ids with the text_blocks or prompts pre-processing step",
        )
    arrays = []
    for index, batch in enumerate(batches):
        if "input_ids" not in batch:
            raise DataError(
                f"metric '{metric}': batch {index} of its data has no 'input_ids' (it has: {', '.join(batch) or 'nothing'})",
                hint="make token ids with the text_blocks or prompts pre-processing step",
            )
        ids = np.asarray(batch["input_ids"])
        ids = ids[None, :] if ids.ndim == 1 else ids
        if ids.ndim != 2 or ids.dtype.kind not in "iu" or ids.shape[1] == 0:
            raise DataError(
                f"metric '{metric}': 'input_ids' of batch {index} is {ids.dtype}{list(ids.shape)}, "
                "not [batch, tokens] integers",
                hint="make token ids with the text_blocks or prompts pre-processing step",
            )
        arrays.append(ids.astype(np.int64))
    return arrays


def _token_stream(tokenizer: Any, texts: list[str]) -> np.ndarray:
    """Every text's tokens, one end-of-sequence token between two texts (none without one)."""
    eos = getattr(tokenizer, "eos_token_id", None)
    pieces: list[int] = []
    for index, ids in enumerate(tokenizer(texts, add_special_tokens=False)["input_ids"]):
        if index and eos is not None:
            pieces.append(eos)
        pieces += ids
    return np.asarray(pieces, dtype=np.int64)


def _bos_id(tokenizer: Any, context: DataContext) -> int:
    token_id = getattr(tokenizer, "bos_token_id", None)
    if token_id is None:
        raise DataError(
            f"data '{context.name}': prompts' add_bos is set, but the tokenizer has no beginning-of-sequence token",
            hint="turn prompts' add_bos off",
        )
    return int(token_id)


def _pad_id(tokenizer: Any, context: DataContext) -> int:
    """The pad token, else end-of-sequence (what generation pads with when a model has no pad)."""
    for kind in ("pad", "eos"):
        token_id = getattr(tokenizer, f"{kind}_token_id", None)
        if token_id is not None:
            return int(token_id)
    raise DataError(
        f"data '{context.name}': prompts' length needs a pad token, and the tokenizer has neither pad nor eos",
        hint="leave length unset (and batch_size at 1), or use texts of one token count",
    )
