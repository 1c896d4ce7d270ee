"""OnnxAddMetadata: stamp provenance key/value pairs into an ONNX model's metadata_props."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator

from olive_core.models.handler import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext


class OnnxAddMetadataConfig(PassConfig):
    metadata: dict[str, str] = Field(description="key/value pairs to write into metadata_props")
    overwrite: bool = Field(default=True, description="replace keys the model already has")

    @field_validator("metadata")
    @classmethod
    def _not_empty(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError("give at least one key to write")
        return value


class OnnxAddMetadata(Pass):
    """Write provenance metadata (owner, source, ticket, ...) into an ONNX model."""

    Config = OnnxAddMetadataConfig
    version = "1"
    input_types = ("onnx",)
    output_type = "onnx"

    def run(self, model: ModelHandler, config: OnnxAddMetadataConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        import onnx

        proto = onnx.load(model.path)
        existing = {prop.key: prop for prop in proto.metadata_props}
        for key, value in config.metadata.items():
            if key in existing:
                if not config.overwrite:
                    context.warn(f"kept existing metadata '{key}' (overwrite is false)")
                    continue
                existing[key].value = value
            else:
                entry = proto.metadata_props.add()
                entry.key, entry.value = key, value
        target = output_dir / Path(model.path).name
        onnx.save(proto, target)
        context.report["metadata_keys"] = sorted(config.metadata)
        return model.derive(path=str(target))
