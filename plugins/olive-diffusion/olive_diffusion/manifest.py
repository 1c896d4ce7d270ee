"""``pipeline.json``: what makes a folder an ONNX pipeline, and each component's own lineage.

The folder holds one ONNX model per component (``unet/model.onnx``, ...) beside the pipeline's
``scheduler`` and ``tokenizer`` folders. The manifest records the shapes read from the source
pipeline's configs, the generation settings, each component's io config, and per component the
chain of passes that made it: one lineage entry per component per pass that changed it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from olive_core.bounds import STRICT_CONFIG
from olive_core.errors import ConfigError, ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.models.hashing import hash_json
from olive_core.models.io_config import IoConfig

from olive_diffusion.components import ComponentName
from olive_diffusion.generation import GenerationConfig
from olive_diffusion.shapes import PipelineShapes, fixed_image_size

MANIFEST_FILE = "pipeline.json"
FORMAT = "olive-onnx-diffusion/1"


class LineageEntry(BaseModel):
    """One pass applied to one component."""

    model_config = STRICT_CONFIG

    step: str = Field(description="the workflow's name of the step")
    pass_type: str = Field(description="the pass that ran on the component")
    config: dict[str, Any] = Field(default_factory=dict, description="its config, as run")
    id: str = Field(description="the component's id after the pass")
    parent: str = Field(description="the component's id before the pass")
    report: dict[str, Any] = Field(default_factory=dict, description="what the pass reported")


class ComponentEntry(BaseModel):
    model_config = STRICT_CONFIG

    path: str = Field(description="the component's .onnx file, relative to the pipeline folder")
    io_config: IoConfig
    attributes: dict[str, Any] = Field(
        default_factory=dict, description="what the component's passes learned (fused-op counts, tuned session options)"
    )
    lineage: list[LineageEntry] = Field(default_factory=list)

    @property
    def id(self) -> str:
        return self.lineage[-1].id if self.lineage else hash_json({"path": self.path})

    def derived(
        self, entry: LineageEntry, path: str, io_config: IoConfig, attributes: dict[str, Any]
    ) -> ComponentEntry:
        return ComponentEntry(path=path, io_config=io_config, attributes=attributes, lineage=[*self.lineage, entry])

    def handle(self, folder: Path) -> ModelHandler:
        """The component as a plain `onnx` model, for olive-onnx's passes and runtime."""
        return ModelHandler(
            type="onnx",
            path=str(folder / self.path),
            id=self.id,
            io_config=self.io_config,
            attributes=dict(self.attributes),
        )


class PipelineManifest(BaseModel):
    model_config = STRICT_CONFIG

    format: Literal["olive-onnx-diffusion/1"] = FORMAT
    source_class: str = Field(default="StableDiffusionPipeline", description="the diffusers pipeline it came from")
    shapes: PipelineShapes
    generation: GenerationConfig
    components: dict[ComponentName, ComponentEntry]

    def check_image_size(self, height: int, width: int, field: str) -> None:
        """Refuse a generation size that a component exported at a fixed size cannot take."""
        for name, entry in self.components.items():
            fixed = fixed_image_size(name, entry.io_config, self.shapes)
            if fixed is not None and fixed != (height, width):
                raise ConfigError(
                    f"the {name} was exported for {fixed[0]}x{fixed[1]} images only, not {height}x{width}",
                    path=f"{field}.height",
                    hint=f"generate at {fixed[0]}x{fixed[1]}, or export with dynamic_image_size: true",
                )

    def component(self, name: str, folder: Path) -> ComponentEntry:
        if name not in self.components:
            raise ModelLoadError(
                f"ONNX pipeline '{folder}' has no {name} (it has {', '.join(self.components)})",
                hint="export every component the pipeline needs with DiffusionOnnxConversion",
            )
        return self.components[name]  # type: ignore[index]


def component_id(parent: str, pass_type: str, version: str, config: dict[str, Any], accelerator: str) -> str:
    """A component's id after a pass: like core's derived model ids, per component."""
    return hash_json(
        {"parent": parent, "pass": pass_type, "version": version, "config": config, "accelerator": accelerator}
    )


def read_manifest(folder: Path) -> PipelineManifest:
    """pipeline.json, with each component's path checked to stay inside ``folder``."""
    path = Path(folder) / MANIFEST_FILE
    try:
        manifest = PipelineManifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as exc:
        raise ModelLoadError(
            f"'{folder}' is not an ONNX pipeline: it has no {MANIFEST_FILE}",
            hint="make one with DiffusionOnnxConversion from a 'diffusers' model",
        ) from exc
    except (OSError, ValueError, ValidationError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelLoadError(f"'{path}' is not a valid ONNX pipeline manifest: {first}") from exc
    for name, entry in manifest.components.items():
        _check_component_path(Path(folder), path, name, entry.path)
    return manifest


def _check_component_path(folder: Path, manifest: Path, name: str, relative: str) -> None:
    """A component's path is data from the folder: it must not lead out of it (passes copy its folder)."""
    where = f"'{manifest}': the {name}'s path '{relative}'"
    fix = "make the folder again with DiffusionOnnxConversion"
    if os.path.isabs(relative) or PureWindowsPath(relative).is_absolute() or PureWindowsPath(relative).drive:
        raise ModelLoadError(f"{where} is absolute; it must be relative to the pipeline folder", hint=fix)
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if ".." in parts or len(parts) < 2:
        raise ModelLoadError(
            f"{where} must name a file in a sub-folder of the pipeline folder (like unet/model.onnx)", hint=fix
        )
    target = folder / relative
    if not target.resolve().is_relative_to(folder.resolve()):
        raise ModelLoadError(
            f"{where} leads to '{target.resolve()}', outside the pipeline folder (a symbolic link)", hint=fix
        )


def write_manifest(folder: Path, manifest: PipelineManifest) -> Path:
    path = Path(folder) / MANIFEST_FILE
    path.write_text(json.dumps(manifest.model_dump(mode="json"), indent=2) + "\n", encoding="utf-8")
    return path
