"""The `onnx_diffusion` model type: a folder of ONNX components run as a pipeline by ONNX Runtime."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.models.hashing import hash_json, hash_path
from olive_core.models.model_type import ModelType, ModelTypeConfig

from olive_diffusion.diffusers_model import generation_of
from olive_diffusion.generation import GenerationConfig
from olive_diffusion.manifest import MANIFEST_FILE, read_manifest
from olive_diffusion.shapes import pipeline_io_config

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec
    from olive_core.models.model_type import InferenceSession


class OnnxDiffusionModelConfig(ModelTypeConfig):
    """``input_model.config`` of an `onnx_diffusion` model."""

    model_path: str = Field(description=f"a folder with {MANIFEST_FILE} (as DiffusionOnnxConversion writes it)")
    generation: GenerationConfig | None = Field(
        default=None, description="how images are generated; default: the settings recorded in the folder"
    )


class OnnxDiffusionModelType(ModelType):
    """A Stable-Diffusion-style pipeline with one ONNX model per component, run by ONNX Runtime."""

    Config = OnnxDiffusionModelConfig

    def create_handle(self, name: str, config: OnnxDiffusionModelConfig, base_dir: Path) -> ModelHandler:
        folder = Path(config.model_path).expanduser()
        folder = (folder if folder.is_absolute() else base_dir / folder).resolve()
        if not folder.is_dir():
            raise ModelLoadError(
                f"{name}: ONNX pipeline folder '{folder}' does not exist",
                hint="relative paths start at the workflow's folder",
            )
        manifest = read_manifest(folder)
        generation = config.generation or manifest.generation
        field = f"{name}.config.generation"
        manifest.check_image_size(*generation.image_size(manifest.shapes, field=field), field=field)
        handle = ModelHandler(
            type="onnx_diffusion",
            path=str(folder),
            io_config=pipeline_io_config(manifest.shapes),
            attributes={"generation": generation.model_dump(mode="json")},
        )
        self.check(handle)
        return handle

    def check(self, handle: ModelHandler) -> None:
        """Every component's .onnx file is there and keeps its external data inside the folder, and the
        scheduler config names a plain class."""
        from olive_onnx.api import external_data_files

        from olive_diffusion.configs import scheduler_class_name

        folder = Path(handle.path)
        scheduler_class_name(folder)  # the runtime looks it up in diffusers
        for name, entry in read_manifest(folder).components.items():
            model_file = folder / entry.path
            if not model_file.is_file():
                raise ModelLoadError(f"ONNX pipeline '{folder}': the {name} model '{model_file}' does not exist")
            external_data_files(model_file)

    def content_id(self, handle: ModelHandler) -> str:
        return hash_json({"files": hash_path(Path(handle.path)), "generation": handle.attributes.get("generation")})

    def model_files(self, handle: ModelHandler) -> list[Path]:
        return [Path(handle.path)]

    def create_session(
        self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]
    ) -> InferenceSession:
        from olive_diffusion.onnx_runtime import OnnxPipelineSession

        folder = Path(handle.path)
        return OnnxPipelineSession(folder, read_manifest(folder), generation_of(handle), accelerator, settings)
