"""The `hf` model type: a Hugging Face transformers model from a local folder or a hub id.

Creating a handle reads only ``config.json`` (json, no transformers), refuses models that ship
their own code (and ``load_kwargs`` that would run code) unless the workflow opts in, and derives
the io config from the config and task.
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import Field

from olive_core.errors import ModelLoadError
from olive_core.models.handler import ModelHandler
from olive_core.models.hashing import hash_json, hash_path
from olive_core.models.io_config import IoConfig
from olive_core.models.model_type import InferenceSession, ModelType, ModelTypeConfig
from olive_core.redaction import is_secret_key
from olive_torch.hf_config import hub_file, is_hub_handle, read_json
from olive_torch.io import DEFAULT_BATCH_SIZE, DEFAULT_SEQUENCE_LENGTH, hf_io_config
from olive_torch.paths import escaping_links, inside, is_inside
from olive_torch.tasks import Task
from olive_torch.trust import check_load_kwargs

from olive_torch.devices import TORCH_DEVICES

if TYPE_CHECKING:
    from olive_core.accelerators import AcceleratorSpec

logger = logging.getLogger(__name__)

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")

#: config.json keys copied into handle.attributes, for passes that need the architecture
ARCHITECTURE_KEYS = ("model_type", "hidden_size", "num_attention_heads", "num_hidden_layers", "vocab_size")

#: files a user needs beside the weights: configs, tokenizers, sentence-transformers settings
SUPPORT_FILES = (
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
    "chat_template.jinja",
    "preprocessor_config.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
)


def architecture_attributes(hf_config: dict[str, Any]) -> dict[str, Any]:
    """The :data:`ARCHITECTURE_KEYS` values a config.json holds, as a handle's attributes carry them."""
    return {key: hf_config[key] for key in ARCHITECTURE_KEYS if key in hf_config}


class HfModelConfig(ModelTypeConfig):
    """``input_model.config`` of an `hf` model."""

    model_path: str = Field(
        description="a local folder with config.json (relative paths start at the workflow's folder) "
        "or a Hugging Face hub id such as 'sentence-transformers/all-MiniLM-L6-v2'"
    )
    task: Task = Field(default="feature-extraction", description="the task, which picks the Auto class and outputs")
    revision: str | None = Field(
        default=None, description="hub revision (branch, tag or commit); pin a commit for reproducible caching"
    )
    trust_remote_code: bool = Field(
        default=False,
        description="the opt-in to every way the model's own files run code: Python shipped with the model "
        "(config.json or tokenizer_config.json 'auto_map'), pickled weights (load_kwargs weights_only: false) "
        "and hub kernels named in load_kwargs; set it only for a model whose source you trust",
    )
    load_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="extra from_pretrained arguments, e.g. {'attn_implementation': 'eager'}; those that run code "
        "(weights_only: false, use_kernels, a hub kernel as attn_implementation) need trust_remote_code",
    )
    io_config: IoConfig | None = Field(
        default=None, description="inputs and outputs, replacing those derived from config.json and task"
    )
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=4096, description="batch size of the dummy inputs")
    sequence_length: int = Field(
        default=DEFAULT_SEQUENCE_LENGTH, ge=1, le=1_048_576, description="sequence length of the dummy inputs"
    )


def refuse_remote_code(config: dict[str, Any], where: str, trust_remote_code: bool) -> None:
    """Models with ``auto_map`` run code from the model's files: only when the user says so."""
    if "auto_map" in config and not trust_remote_code:
        raise ModelLoadError(
            f"'{where}' needs code shipped with the model (it has 'auto_map'), which is not run by default",
            hint="if you trust its source, set trust_remote_code: true in input_model.config",
        )


def hf_support_files(handle: ModelHandler) -> list[Path]:
    """Files and folders beside the weights that a user of the model needs: config, tokenizer,
    generation config and sentence-transformers modules (pooling, normalization).

    Only what lies inside the model's folder: a ``modules.json`` path or a symlink leading out
    of it is skipped with a warning, never read or copied.
    """
    folder = _local_folder(handle)
    return [] if folder is None else folder_support_files(folder)


def folder_support_files(folder: Path) -> list[Path]:
    """The support files (and sentence-transformers module folders) inside ``folder``: the same
    for an HF folder and for an exported model's folder (olive-onnx)."""
    folder = Path(folder)
    found = [folder / name for name in SUPPORT_FILES if (folder / name).is_file()]
    found = [path for path in found if _stays_inside(path, folder)]
    if folder / "modules.json" in found:
        for sub in _module_folders(folder / "modules.json"):
            path = inside(folder, sub)
            if path is None:
                logger.warning("'%s' names '%s', outside the model folder: not copied", folder / "modules.json", sub)
            elif path.is_dir() and _stays_inside(path, folder):
                found.append(path)
    return found


def _module_folders(modules: Path) -> list[str]:
    """The ``path`` of each sentence-transformers module listed in ``modules.json``."""
    try:
        entries = json.loads(modules.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        logger.warning("'%s' cannot be read (%s): its module folders are not copied", modules, exc)
        return []
    paths = [entry.get("path") for entry in entries if isinstance(entry, dict)] if isinstance(entries, list) else []
    return [path for path in paths if isinstance(path, str) and path]


def _stays_inside(path: Path, folder: Path) -> bool:
    """A support file or folder that neither is nor holds a symlink leading out of ``folder``."""
    links = escaping_links(path, within=folder) if path.is_dir() and not path.is_symlink() else []
    if is_inside(path, folder) and not links:
        return True
    logger.warning("'%s' links outside the model folder ('%s'): not copied", links[0] if links else path, folder)
    return False


def _local_folder(handle: ModelHandler) -> Path | None:
    if not is_hub_handle(handle):
        return Path(handle.path)
    try:
        from huggingface_hub import snapshot_download

        patterns = [*SUPPORT_FILES, "*_Pooling/*", "*_Normalize/*", "*_Dense/*"]
        return Path(snapshot_download(handle.path, revision=handle.attributes.get("revision"), allow_patterns=patterns))
    except Exception as exc:
        raise ModelLoadError(f"support files of hub model '{handle.path}' cannot be fetched: {exc}") from exc


class HfModelType(ModelType):
    """A Hugging Face transformers model, loaded with the Auto class of its task."""

    Config = HfModelConfig

    def create_handle(self, name: str, config: HfModelConfig, base_dir: Path) -> ModelHandler:
        check_load_kwargs(config.load_kwargs, config.trust_remote_code, f"{name}.config.load_kwargs")
        folder = Path(config.model_path).expanduser()
        folder = folder if folder.is_absolute() else base_dir / folder
        hub_id = not folder.exists() and bool(_HUB_ID.match(config.model_path))
        if hub_id:
            path = config.model_path
            hf_config = read_json(hub_file(path, "config.json", config.revision))
        else:
            path = str(folder.resolve())
            hf_config = self._read_local_config(name, folder)
        refuse_remote_code(hf_config, f"{path}/config.json", config.trust_remote_code)
        if not hub_id and (folder / "tokenizer_config.json").is_file():
            refuse_remote_code(
                read_json(folder / "tokenizer_config.json"), f"{path}/tokenizer_config.json", config.trust_remote_code
            )
        io_config = hf_io_config(hf_config, config.task, config.batch_size, config.sequence_length, config.io_config)
        attributes = {
            "task": config.task,
            "revision": config.revision,
            "trust_remote_code": config.trust_remote_code,
            "load_kwargs": dict(config.load_kwargs),
            "hub_id": hub_id,
            **architecture_attributes(hf_config),
        }
        return ModelHandler(type="hf", path=path, io_config=io_config, attributes=attributes)

    @staticmethod
    def _read_local_config(name: str, folder: Path) -> dict[str, Any]:
        if not folder.exists():
            raise ModelLoadError(
                f"{name}: model folder '{folder}' does not exist",
                hint="check model_path; relative paths start at the workflow file's folder",
            )
        if not folder.is_dir() or not (folder / "config.json").is_file():
            raise ModelLoadError(
                f"{name}: '{folder}' is not a Hugging Face model folder: it has no config.json",
                hint="point model_path at the folder save_pretrained wrote; for a bare PyTorch file use type 'pytorch'",
            )
        links = escaping_links(folder)
        if links:
            # olive copies the folder into its cache and output: a link out of it would copy that file too
            raise ModelLoadError(
                f"{name}: '{links[0]}' in the model folder is a symlink to '{links[0].resolve()}', outside it",
                hint="replace the link with the file it points to (cp -L), or remove it",
            )
        return read_json(folder / "config.json")

    def runs_on(self, accelerator: AcceleratorSpec) -> bool:
        """The torch runtime runs on the CPU and CUDA GPUs (not on an NPU's provider)."""
        return accelerator.device in TORCH_DEVICES

    def from_cache(self, cached: ModelHandler, parent: ModelHandler) -> ModelHandler:
        """Whether the model's own code may run is the parent's choice, which this run made: a
        cache record saying trust_remote_code would run code the workflow never allowed."""
        trusted = bool(parent.attributes.get("trust_remote_code")) if parent.type == "hf" else False
        return cached.derive(attributes={"trust_remote_code": trusted})

    def check(self, handle: ModelHandler) -> None:
        if not is_hub_handle(handle) and not (Path(handle.path) / "config.json").is_file():
            raise ModelLoadError(f"'{handle.path}' has no config.json", hint="point model_path at a model folder")

    def content_id(self, handle: ModelHandler) -> str:
        # How the model is loaded (task, load_kwargs, io) is part of its identity: the same folder
        # loaded for another task is another model, and must not share cached pass outputs. A
        # credential (a hub token) is not: a rotated token must not invalidate the cache.
        load_kwargs = handle.attributes.get("load_kwargs") or {}
        loading = {
            "task": handle.attributes.get("task"),
            "load_kwargs": {key: value for key, value in load_kwargs.items() if not is_secret_key(key)},
            "trust_remote_code": handle.attributes.get("trust_remote_code"),
            "io_config": handle.io_config.model_dump(mode="json") if handle.io_config else None,
        }
        if is_hub_handle(handle):
            source = {"hub_id": handle.path, "revision": handle.attributes.get("revision") or "main"}
        else:
            source = {"files": hash_path(Path(handle.path))}
        return hash_json({**source, **loading})

    def model_files(self, handle: ModelHandler) -> list[Path]:
        return [] if is_hub_handle(handle) else super().model_files(handle)

    def create_session(
        self, handle: ModelHandler, accelerator: AcceleratorSpec, settings: dict[str, Any]
    ) -> InferenceSession:
        from olive_torch.runtime import create_torch_session

        return create_torch_session(handle, accelerator, settings)
