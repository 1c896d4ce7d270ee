"""Recipes: the workflow that ``olive optimize``, ``olive quantize`` and ``olive convert`` run.

A task command turns its command line into a :class:`Request`; every installed recipe that
accepts the request is a candidate, and the one with the highest ``priority`` writes the
workflow. That is how a plugin for a model family (language models) or a device (an NPU)
extends the one-command path without replacing what other plugins do. The workflow a recipe
writes is an ordinary one: ``--save-workflow`` writes it to a file the user can edit and run.

This module imports nothing heavy: it only looks at file names and, for a Hugging Face folder
or hub id, at its ``config.json``.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from olive_core.errors import ConfigError

if TYPE_CHECKING:
    from olive_core.registry import Registry

TASKS = ("optimize", "quantize", "convert")
PRECISIONS = ("fp32", "fp16", "int8", "int4")
ModelKind = Literal["hf", "onnx", "pytorch"]

#: a Hugging Face hub id: ``name`` or ``owner/name`` (letters, digits, ``-_.``)
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?$")
_CONFIG_LIMIT = 4 * 1024 * 1024


@dataclass(frozen=True)
class ModelSource:
    """The model a user named on the command line, as far as file names and config.json tell."""

    #: the argument as typed (a hub id, a folder or a file)
    given: str
    kind: ModelKind
    #: the local file or folder; None for a hub id
    path: Path | None = None
    #: a Hugging Face model's config.json (``architectures``, ``model_type``, ...); None when unknown
    config: dict[str, Any] | None = None
    #: ``file.py:function`` building a PyTorch module (``--loader``)
    loader: str | None = None

    @property
    def architecture(self) -> str | None:
        """The first of config.json's ``architectures`` (``LlamaForCausalLM``), when known."""
        names = (self.config or {}).get("architectures") or []
        return str(names[0]) if isinstance(names, list) and names else None


def describe_model(given: str, loader: str | None = None) -> ModelSource:
    """What kind of model ``given`` names; a ConfigError naming the argument when it is none.

    A folder with an ``.onnx`` file at its top is an ONNX model (even with a config.json beside
    it), a folder with a config.json a Hugging Face model, a ``.onnx`` file an ONNX model; with
    ``loader`` the model is PyTorch (``given`` is what the loader receives). A name that is no
    local path and looks like ``owner/name`` is a hub id.
    """
    path = Path(given).expanduser()
    if loader is not None:
        return ModelSource(given, "pytorch", path.resolve() if path.exists() else None, None, loader)
    if path.is_file():
        if path.suffix.lower() == ".onnx":
            return ModelSource(given, "onnx", path.resolve())
        if path.suffix.lower() in (".pt", ".pth", ".bin", ".safetensors", ".ckpt"):
            raise ConfigError(
                f"'{given}' is a PyTorch file: olive needs code to build the module its weights fit",
                path="MODEL",
                hint="name a function that returns the module with --loader file.py:function",
            )
        raise ConfigError(
            f"'{given}' is not a model olive recognises (a '{path.suffix or 'suffixless'}' file)",
            path="MODEL",
            hint="give a Hugging Face folder or hub id, an .onnx file or folder, or PyTorch weights with --loader",
        )
    if path.is_dir():
        if any(child.suffix.lower() == ".onnx" for child in path.iterdir() if child.is_file()):
            return ModelSource(given, "onnx", path.resolve())
        if (path / "config.json").is_file():
            return ModelSource(given, "hf", path.resolve(), _read_config(path / "config.json"))
        raise ConfigError(
            f"the folder '{given}' holds neither a config.json (a Hugging Face model) nor an .onnx file",
            path="MODEL",
            hint="point at the folder that holds the model's files",
        )
    if _HUB_ID.match(given) and not given.endswith(".onnx"):
        return ModelSource(given, "hf", None, _hub_config(given))
    raise ConfigError(f"no file or folder '{given}'", path="MODEL", hint="check the path (it is read relative to the current folder)")


def _hub_config(repo_id: str) -> dict[str, Any] | None:
    """A hub model's config.json, so recipes see its architecture: from the Hugging Face cache, or
    fetched (it is small) unless HF_HUB_OFFLINE is set. None when huggingface_hub is not installed
    or the file cannot be had; the model type says why when the run loads the model."""
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        return None
    try:
        file = Path(hf_hub_download(repo_id, "config.json"))
    except Exception:  # noqa: BLE001 - offline and not cached, unknown repo, network: the run reports it
        return None
    return _read_config(file)


def _read_config(file: Path) -> dict[str, Any]:
    if file.stat().st_size > _CONFIG_LIMIT:
        raise ConfigError(f"'{file}' is larger than a model config can be", path="MODEL")
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"'{file}' is not valid JSON: {exc}", path="MODEL", hint="repair or replace the model's config.json") from None
    if not isinstance(config, dict):
        raise ConfigError(f"'{file}' holds {type(config).__name__}, not a model config object", path="MODEL")
    return config


#: --data files a task command reads: one text a line, or one JSON object a line
TEXT_DATA_SUFFIXES = (".txt", ".jsonl")
#: lines of a --data file looked at before anything runs (the loader reads it all at run time)
_DATA_LINES_CHECKED = 100


def text_data(file: Path, field: str = "text") -> dict[str, Any]:
    """The data loader (``{type, config}``) for a ``--data`` file of texts: ``text_lines`` for a
    .txt file (each line a sample's ``text``), ``jsonl`` for a .jsonl file (each record's ``field``).

    The file's first lines are checked here, so a file of the wrong kind is one error naming
    ``--data`` before any work rather than a failure in the middle of a run.
    """
    suffix = file.suffix.lower()
    if suffix not in TEXT_DATA_SUFFIXES:
        raise ConfigError(
            f"'{file.name}' is a '{suffix or 'suffixless'}' file; olive reads text data from .txt or .jsonl files",
            path="--data",
            hint=f"give a .txt file (one text a line) or a .jsonl file (one {{\"{field}\": ...}} object a line)",
        )
    lines = []
    try:
        with file.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    lines.append((number, line))
                if len(lines) >= _DATA_LINES_CHECKED:
                    break
    except UnicodeDecodeError as exc:
        raise ConfigError(f"'{file}' is not UTF-8 text ({exc.reason} at byte {exc.start})", path="--data", hint="save it as UTF-8 text") from None
    if not lines:
        raise ConfigError(f"'{file}' holds no text", path="--data", hint="give a file with one sample a line")
    if suffix == ".txt":
        return {"type": "text_lines", "config": {"path": str(file)}}
    for number, line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"'{file}' line {number} is not JSON: {exc.msg}", path="--data", hint="a .jsonl file holds one JSON object a line") from None
        if not isinstance(record, dict) or not isinstance(record.get(field), str):
            raise ConfigError(
                f"'{file}' line {number} is not an object with a text field '{field}'",
                path="--data",
                hint=f"write each line as {{\"{field}\": \"...\"}}, or give a .txt file with one text a line",
            )
    return {"type": "jsonl", "config": {"path": str(file)}}


@dataclass(frozen=True)
class Request:
    """What a task command was asked for."""

    task: str
    model: ModelSource
    device: str = "cpu"
    #: None: the recipe's default for the task and device
    precision: str | None = None
    #: a recipe-specific quantization method (``olive quantize --method``)
    method: str | None = None
    #: a text or JSONL file of real inputs, for calibration and evaluation
    data: Path | None = None
    #: search the quantization settings instead of taking the recipe's default
    search: bool = False
    #: the similarity to the input model every candidate must keep
    min_similarity: float = 0.99

    def describe(self) -> str:
        """``optimize a 'hf' model (BertModel) on cpu at int8``, for messages."""
        model = f"a '{self.model.kind}' model" + (f" ({self.model.architecture})" if self.model.architecture else "")
        precision = f" at {self.precision}" if self.precision else ""
        method = f" with method '{self.method}'" if self.method else ""
        return f"{self.task} {model} on {self.device}{precision}{method}"


class Recipe(ABC):
    """Subclass, declare what it accepts, write :meth:`workflow`.

    The class attributes decide most requests; override :meth:`accepts` to look closer (a
    language-model recipe checks the architecture). A recipe must be a pure function of the
    request: the same command line gives the same workflow, which the cache relies on.
    """

    description: ClassVar[str] = ""
    tasks: ClassVar[tuple[str, ...]] = TASKS
    model_kinds: ClassVar[tuple[str, ...]] = ("hf", "onnx", "pytorch")
    devices: ClassVar[tuple[str, ...]] = ("cpu",)
    precisions: ClassVar[tuple[str, ...]] = PRECISIONS
    #: quantization methods it knows (``olive quantize --method``); empty: takes none
    methods: ClassVar[tuple[str, ...]] = ()
    #: among recipes that accept a request, the highest priority writes it
    priority: ClassVar[int] = 0

    def accepts(self, request: Request) -> bool:
        return (
            request.task in self.tasks
            and request.model.kind in self.model_kinds
            and request.device in self.devices
            and (request.precision is None or request.precision in self.precisions)
            and (request.method is None or request.method in self.methods)
        )

    @abstractmethod
    def workflow(self, request: Request) -> dict[str, Any]:
        """The workflow to run, as plain JSON data with absolute paths, without ``engine``
        (the command adds the output and cache folders). Raise ConfigError for what the request
        gets wrong that :meth:`accepts` cannot see (data that cannot be read). A ``description``
        says what the recipe chose that the user did not ask for (the data it measures on when
        none was given); the command prints it and keeps it after the command line."""


def choose_recipe(request: Request, registry: Registry) -> tuple[str, Recipe]:
    """The installed recipe that writes ``request``'s workflow; a ConfigError listing them when none does."""
    recipes = [(component.name, component.load()()) for component in registry.components("recipe")]
    accepting = sorted(((name, recipe) for name, recipe in recipes if recipe.accepts(request)), key=lambda pair: -pair[1].priority)
    if accepting:
        return accepting[0]
    offered = "; ".join(f"{name}: {_offer(recipe)}" for name, recipe in recipes) or "none installed"
    raise ConfigError(
        f"no installed recipe can {request.describe()}",
        path="MODEL" if not any(request.model.kind in recipe.model_kinds for _, recipe in recipes) else "",
        hint=f"recipes here: {offered}. Install the plugin for your device or model (olive plugins lists what is installed)",
    )


def _offer(recipe: Recipe) -> str:
    methods = f", methods {'/'.join(recipe.methods)}" if recipe.methods else ""
    return f"{'/'.join(recipe.tasks)} {'/'.join(recipe.model_kinds)} on {'/'.join(recipe.devices)} at {'/'.join(recipe.precisions)}{methods}"
