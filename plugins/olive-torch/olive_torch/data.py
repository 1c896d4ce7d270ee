"""The `hf_tokenize` pre-processing step: text fields to the token arrays a text model takes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from olive_core.errors import DataError
from olive_core.evaluation.data import DataComponent, DataComponentConfig, DataContext

if TYPE_CHECKING:
    from olive_core.models.handler import ModelHandler

#: files whose presence makes a folder a tokenizer folder
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json", "spiece.model", "tokenizer.model")


class HfTokenizeConfig(DataComponentConfig):
    text_field: str = Field(default="text", description="the sample field holding the text")
    text_pair_field: str | None = Field(
        default=None, description="a second text field, for models that take sentence pairs"
    )
    max_length: int = Field(default=128, ge=1, le=1_048_576, description="tokens per sample, after truncation and padding")
    padding: Literal["max_length", "longest"] = Field(
        default="max_length", description="pad to max_length, or to the longest sample in the data set"
    )
    truncation: bool = Field(default=True, description="cut texts longer than max_length")
    tokenizer: str | None = Field(
        default=None,
        description="a tokenizer folder (relative to the workflow's folder) or hub id; default: the input model's",
    )


class HfTokenize(DataComponent):
    """Tokenize a text field with the model's own tokenizer into int64 token arrays, one per sample.

    Other fields (a label) are kept; the text fields are dropped. When the model's io config is
    known, only the inputs it takes are produced (token type ids are added as zeros if the
    tokenizer does not make them).
    """

    role = "preprocess"
    Config = HfTokenizeConfig

    def __call__(self, value: Any, config: HfTokenizeConfig, context: DataContext) -> list[dict[str, Any]]:
        import numpy as np

        samples = list(value or [])
        if not samples:
            return []
        tokenizer = load_tokenizer(config, context)
        fields = "text_field (and text_pair_field) of hf_tokenize"
        texts = sample_texts(samples, config.text_field, context, fields)
        pairs = sample_texts(samples, config.text_pair_field, context, fields) if config.text_pair_field else None
        encoded = tokenizer(
            texts,
            pairs,
            padding=config.padding,
            truncation=config.truncation,
            max_length=config.max_length,
            return_tensors="np",
        )
        arrays = {key: np.asarray(encoded[key], dtype=np.int64) for key in encoded.keys()}
        wanted = _model_inputs(context.model)
        if wanted is not None:
            if "token_type_ids" in wanted and "token_type_ids" not in arrays:
                arrays["token_type_ids"] = np.zeros_like(arrays["input_ids"])
            arrays = {key: array for key, array in arrays.items() if key in wanted}
        dropped = {config.text_field, config.text_pair_field}
        return [
            {**{k: v for k, v in sample.items() if k not in dropped}, **{k: a[i] for k, a in arrays.items()}}
            for i, sample in enumerate(samples)
        ]


def sample_texts(samples: list[Any], field: str, context: DataContext, fields_hint: str = "text_field of hf_tokenize") -> list[str]:
    """The text ``field`` of every sample; a DataError naming the sample and its fields otherwise."""
    texts = []
    for index, sample in enumerate(samples):
        text = sample.get(field) if isinstance(sample, dict) else None
        if not isinstance(text, str):
            keys = ", ".join(sample) if isinstance(sample, dict) else type(sample).__name__
            raise DataError(
                f"data '{context.name}': sample {index} has no text field '{field}' (it has: {keys})",
                hint=f"set {fields_hint} to the field holding the text",
            )
        texts.append(text)
    return texts


def _model_inputs(model: ModelHandler | None) -> set[str] | None:
    if model is None or model.io_config is None:
        return None
    return set(model.io_config.input_names)


def load_tokenizer(config: Any, context: DataContext, component: str = "hf_tokenize") -> Any:
    """The tokenizer named in ``config.tokenizer``, else the one in (or beside) the context's model;
    ``component`` names the data component in messages."""
    from transformers import AutoTokenizer

    source, revision, trust = _tokenizer_source(config, context, component)
    try:
        return AutoTokenizer.from_pretrained(source, revision=revision, trust_remote_code=trust)
    except Exception as exc:
        text = str(exc).strip()
        hint = (
            "if you trust its source, set trust_remote_code: true in input_model.config"
            if "trust_remote_code" in text
            else f"set {component}'s tokenizer to a folder with tokenizer files, or to a hub id"
        )
        first = text.splitlines()[0] if text else type(exc).__name__
        raise DataError(f"no tokenizer can be loaded from '{source}': {first}", hint=hint) from exc


def _tokenizer_source(config: Any, context: DataContext, component: str) -> tuple[str, str | None, bool]:
    if config.tokenizer:
        path = Path(config.tokenizer).expanduser()
        path = path if path.is_absolute() else context.base_dir / path
        return (str(path) if path.exists() else config.tokenizer), None, False
    model = context.model
    if model is None:
        raise DataError(
            f"data '{context.name}': {component} has no model to take a tokenizer from",
            hint=f"set {component}'s tokenizer to a tokenizer folder or hub id",
        )
    trust = bool(model.attributes.get("trust_remote_code", False))
    if model.type == "hf":
        return model.path, model.attributes.get("revision"), trust
    # A converted model keeps the tokenizer files beside its model file.
    path = Path(model.path)
    folder = path if path.is_dir() else path.parent
    if any((folder / name).is_file() for name in TOKENIZER_FILES):
        return str(folder), None, trust
    raise DataError(
        f"data '{context.name}': no tokenizer files beside '{model.path}'",
        hint=f"set {component}'s tokenizer to a tokenizer folder or hub id",
    )
