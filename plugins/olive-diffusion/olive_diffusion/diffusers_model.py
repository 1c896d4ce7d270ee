"""The `diffusers` model type: a Stable-Diffusion-style pipeline folder run by diffusers.

Making a handle reads JSON only (model_index.json and each part's config), so validating a
workflow imports neither torch nor diffusers. A hub id is downloaded once into the hub cache
(it honours HF_HUB_OFFLINE) and then used as a local folder.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.models.hashing import hash_json, hash_path
from olive_core.models.model_type import ModelType, ModelTypeConfig

from olive_diffusion.adapters import LoraAdapterConfig, adapter_files, resolve_adapters
from olive_diffusion.configs import MODEL_INDEX, read_model_index
from olive_diffusion.generation import GenerationConfig
from olive_diffusion.shapes import pipeline_io_config, read_pipeline_shapes

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec
    from olive_core.models.model_type import InferenceSession

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
#: weights and configs a pipeline needs from the hub; other precisions and formats are skipped
_HUB_IGNORE = [
    "*.fp16.*",
    "*.bin",
    "*.ckpt",
    "*.onnx",
    "*.onnx_data",
    "*.msgpack",
    "*.h5",
    "*.pb",
    "safety_checker/*",
    "feature_extractor/*",
]


class DiffusersModelConfig(ModelTypeConfig):
    """``input_model.config`` of a `diffusers` model."""

    model_path: str = Field(
        description=f"a diffusers pipeline folder (with {MODEL_INDEX}; relative to the workflow's folder) or a hub id"
    )
    revision: str | None = Field(default=None, description="hub revision; pin a commit for reproducible caching")
    lora_adapters: list[LoraAdapterConfig] = Field(
        default_factory=list,
        description="LoRA adapters applied (unmerged) when the pipeline runs; DiffusionMergeLoRA merges them",
    )
    generation: GenerationConfig = Field(default_factory=GenerationConfig, description="how images are generated")


def generation_of(handle: ModelHandler) -> GenerationConfig:
    return GenerationConfig.model_validate(handle.attributes.get("generation") or {})


def download_pipeline(repo_id: str, revision: str | None) -> Path:
    """A hub pipeline's configs and safetensors weights, from the hub cache or the network."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(repo_id, revision=revision, ignore_patterns=_HUB_IGNORE))
    except Exception as exc:  # offline, unknown repo, network: all the same to the user
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ModelLoadError(
            f"'{repo_id}' is neither a local folder nor a hub pipeline that can be fetched: {type(exc).__name__}: {first}",
            hint="check the path (relative paths start at the workflow's folder), or the hub id, network access and HF_HUB_OFFLINE",
        ) from exc


class DiffusersModelType(ModelType):
    """A Stable-Diffusion-style diffusers pipeline (CLIP text encoder, UNet, VAE), optionally with LoRA adapters."""

    Config = DiffusersModelConfig

    def create_handle(self, name: str, config: DiffusersModelConfig, base_dir: Path) -> ModelHandler:
        folder = Path(config.model_path).expanduser()
        folder = folder if folder.is_absolute() else base_dir / folder
        hub_id = None
        if not folder.exists() and _HUB_ID.match(config.model_path):
            hub_id, folder = config.model_path, download_pipeline(config.model_path, config.revision)
        elif not (folder / MODEL_INDEX).is_file():
            raise ModelLoadError(
                f"{name}: '{folder}' is not a diffusers pipeline folder: it has no {MODEL_INDEX}",
                hint="point model_path at the folder StableDiffusionPipeline.save_pretrained wrote",
            )
        folder = folder.resolve()
        read_model_index(folder)
        shapes = read_pipeline_shapes(folder)
        config.generation.image_size(shapes, field=f"{name}.config.generation")
        return ModelHandler(
            type="diffusers",
            path=str(folder),
            io_config=pipeline_io_config(shapes),
            attributes={
                "generation": config.generation.model_dump(mode="json"),
                "lora_adapters": resolve_adapters(config.lora_adapters, base_dir),
                "hub_id": hub_id,
                "revision": config.revision,
            },
        )

    def check(self, handle: ModelHandler) -> None:
        read_model_index(Path(handle.path))
        for adapter in handle.attributes.get("lora_adapters") or []:
            for file in adapter_files(adapter):
                if not file.is_file():
                    raise ModelLoadError(f"LoRA adapter '{adapter['name']}' file '{file}' does not exist")

    def content_id(self, handle: ModelHandler) -> str:
        # Adapters and generation settings change every image: they are part of the model's identity.
        adapters = [
            {
                **{k: v for k, v in adapter.items() if k != "path"},
                "files": [hash_path(f) for f in adapter_files(adapter)],
            }
            for adapter in handle.attributes.get("lora_adapters") or []
        ]
        return hash_json(
            {
                "files": hash_path(Path(handle.path)),
                "adapters": adapters,
                "generation": handle.attributes.get("generation"),
            }
        )

    def model_files(self, handle: ModelHandler) -> list[Path]:
        extra = [file for adapter in handle.attributes.get("lora_adapters") or [] for file in adapter_files(adapter)]
        return [*super().model_files(handle), *extra]

    def create_session(
        self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]
    ) -> InferenceSession:
        from olive_diffusion.torch_runtime import TorchPipelineSession

        folder = Path(handle.path)
        adapters = list(handle.attributes.get("lora_adapters") or [])
        return TorchPipelineSession(
            folder, adapters, generation_of(handle), read_pipeline_shapes(folder), accelerator, settings
        )
