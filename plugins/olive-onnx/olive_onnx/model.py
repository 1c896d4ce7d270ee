"""The ``onnx`` model type: an .onnx file (plus external data), hashed, checked and run by ORT."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from olive_core.errors import ModelLoadError
from olive_core.models import ModelHandler, ModelType, ModelTypeConfig
from olive_core.models.hashing import hash_json, hash_path
from olive_core.models.io_config import IoConfig

from olive_onnx.files import external_data_files, read_model_proto, resolve_model_file

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec
    from olive_core.models import InferenceSession


class OnnxModelConfig(ModelTypeConfig):
    """``input_model.config`` of an ONNX model."""

    model_path: str = Field(
        description="an .onnx file, or a folder holding exactly one .onnx file and its external data (its "
        "config and tokenizer files travel with the model to the output); relative paths start at the "
        "workflow file's folder"
    )
    io_config: IoConfig | None = Field(
        default=None,
        description="input/output names, example shapes and dtypes; read from the graph when omitted",
    )


class OnnxModelType(ModelType):
    """An ONNX model, run by ONNX Runtime on the accelerator's execution provider."""

    Config = OnnxModelConfig

    def create_handle(self, name: str, config: OnnxModelConfig, base_dir: Path) -> ModelHandler:
        path = Path(config.model_path).expanduser()
        if not path.is_absolute():
            path = Path(base_dir) / path
        try:
            model_file = resolve_model_file(path)
        except ModelLoadError as exc:
            raise ModelLoadError(f"input model '{name}': {exc.message}", hint=exc.hint) from exc
        # A folder's config and tokenizer files travel with the model through every pass.
        from olive_torch.api import folder_support_files

        files = [str(f.absolute()) for f in folder_support_files(path)] if path.is_dir() else []
        handle = ModelHandler(type="onnx", path=str(model_file.resolve()), io_config=config.io_config, files=files)
        self.check(handle)
        if handle.io_config is None:
            from olive_onnx.inspect import io_config_from_graph

            # Lets the evaluator cast data to the graph's dtypes (JSON numbers are float64/int64).
            handle.io_config = io_config_from_graph(read_model_proto(model_file))
        return handle

    def check(self, handle: ModelHandler) -> None:
        """Read the graph (no weights) and refuse garbage, truncated files and unsafe external data."""
        import onnx

        model_file = resolve_model_file(handle.path)
        read_model_proto(model_file)  # garbage, truncated and empty files fail here, named
        external_data_files(model_file)  # external data outside the model's folder fails here
        try:
            # The path form checks external data relative to the model's folder, and loads no weights.
            onnx.checker.check_model(str(model_file))
        except onnx.checker.ValidationError as exc:
            raise ModelLoadError(
                f"'{model_file}' is not a valid ONNX model: {str(exc).splitlines()[0]}",
                hint="re-export the model, or check it with onnx.checker.check_model",
            ) from exc

    def content_id(self, handle: ModelHandler) -> str:
        """A hash of the model file, its external data files and the support files it carries
        (a tokenizer changes what the model computes on text), not of other files in its folder."""
        model_file = resolve_model_file(handle.path)
        files = [model_file, *external_data_files(model_file)]
        hashed = [[f.relative_to(model_file.parent).as_posix(), hash_path(f)] for f in files]
        hashed += [[Path(f).name, hash_path(Path(f))] for f in handle.files]
        return hash_json(hashed)

    def model_files(self, handle: ModelHandler) -> list[Path]:
        model_file = resolve_model_file(handle.path)
        return [model_file, *external_data_files(model_file), *(Path(f) for f in handle.files)]

    def create_session(
        self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]
    ) -> InferenceSession:
        from olive_onnx.runtime import create_session

        return create_session(handle, accelerator, settings)
