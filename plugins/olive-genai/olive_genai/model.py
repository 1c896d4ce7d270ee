"""The `genai` model type: a folder ONNX Runtime GenAI loads (genai_config.json, ONNX model(s)
with their external data, tokenizer files), run by ONNX Runtime GenAI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from olive_core.errors import ModelLoadError
from olive_core.models import ModelHandler, ModelType, ModelTypeConfig
from olive_core.models.hashing import hash_path
from olive_core.models.io_config import IoConfig

from olive_genai.genai_config import CONFIG_FILE, named_files, read_genai_config

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec
    from olive_core.models import InferenceSession

#: genai_config.json's model fields kept in the handle's attributes (what passes and metrics need)
ARCHITECTURE_KEYS = ("type", "context_length", "vocab_size", "bos_token_id", "eos_token_id", "pad_token_id")
DECODER_KEYS = ("num_hidden_layers", "num_attention_heads", "num_key_value_heads", "head_size", "hidden_size")


class GenAIModelConfig(ModelTypeConfig):
    """``input_model.config`` of a `genai` model."""

    model_path: str = Field(
        description="a folder with genai_config.json, its ONNX model(s) and tokenizer files; relative paths "
        "start at the workflow file's folder"
    )


def genai_handle(folder: Path, attributes: dict[str, Any] | None = None) -> ModelHandler:
    """The handle of a genai folder (made by a pass or given as input), after its files check out."""
    config = read_genai_config(folder)
    model = config["model"]
    decoder = model["decoder"]
    described = {key: model[key] for key in ARCHITECTURE_KEYS if key in model}
    described.update({key: decoder[key] for key in DECODER_KEYS if key in decoder})
    described["decoder"] = decoder["filename"]
    io_config = IoConfig(input_names=["input_ids"], input_types=["int64"], input_shapes=[[1, 16]], output_names=["logits"])
    return ModelHandler(
        type="genai", path=str(folder), io_config=io_config, attributes={**(attributes or {}), **described}
    )


class GenAIModelType(ModelType):
    """A decoder language model as ONNX Runtime GenAI runs it."""

    Config = GenAIModelConfig

    def create_handle(self, name: str, config: GenAIModelConfig, base_dir: Path) -> ModelHandler:
        folder = Path(config.model_path).expanduser()
        folder = folder if folder.is_absolute() else Path(base_dir) / folder
        try:
            return genai_handle(folder.resolve())
        except ModelLoadError as exc:
            raise ModelLoadError(f"{name}: {exc.message}", hint=exc.hint) from exc

    def check(self, handle: ModelHandler) -> None:
        """The config, the files it names, and each ONNX file's external data stay in the folder."""
        from olive_onnx.api import external_data_files, read_model_proto

        folder = Path(handle.path)
        config = read_genai_config(folder)
        for _, name in named_files(config):
            if name.endswith(".onnx"):
                external_data_files(folder / name, read_model_proto(folder / name))

    def content_id(self, handle: ModelHandler) -> str:
        return hash_path(Path(handle.path))

    def model_files(self, handle: ModelHandler) -> list[Path]:
        return [Path(handle.path)]

    def create_session(self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]) -> InferenceSession:
        from olive_genai.runtime import GenAISession

        if accelerator.device != "cpu":
            raise ModelLoadError(
                f"olive-genai runs genai models on 'cpu' here, not on '{accelerator.device}'",
                hint="evaluate on device 'cpu'",
            )
        folder = Path(handle.path)
        return GenAISession(folder, read_genai_config(folder), settings)


__all__ = ["GenAIModelType", "genai_handle", "CONFIG_FILE"]
