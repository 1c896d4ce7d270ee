"""Turn an `hf` or `pytorch` handle into a torch module in eval mode.

Only safe formats are read: state dicts with ``weights_only=True``, safetensors, TorchScript and
``torch.export`` programs. A pickled module would run arbitrary code, so it is refused.

Two attributes that passes (olive-torch-quant) record are honoured here: ``quantization`` with
``library: torchao`` (the state dict holds torchao tensors, which replace the float parameters)
and ``adapter`` (a peft LoRA adapter folder beside the weights, applied on load).

A handle may come from a cache record someone else wrote, so what would run code is checked
again here (see :mod:`olive_torch.trust`), and an adapter must lie inside the model's folder.
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import IncompatibleModelError, ModelLoadError
from olive_core.models.handler import ModelHandler

from olive_torch.loaders import import_loader, loader_spec
from olive_torch.paths import inside, model_folder
from olive_torch.tasks import TASKS
from olive_torch.trust import check_load_kwargs

if TYPE_CHECKING:
    import torch


def load_torch_model(handle: ModelHandler) -> torch.nn.Module:
    """Load the model of an `hf` or `pytorch` handle, in eval mode, on the CPU."""
    if (handle.attributes.get("quantization") or {}).get("library") == "torchao":
        import_torchao(handle)
    if handle.type == "hf":
        return _with_adapter(load_hf_model(handle), handle)
    if handle.type == "pytorch":
        return _with_adapter(load_pytorch_model(handle), handle)
    raise IncompatibleModelError(
        f"olive-torch loads 'hf' and 'pytorch' models, not a '{handle.type}' model ('{handle.path}')"
    )


# -- hf -------------------------------------------------------------------------------------


def load_hf_model(handle: ModelHandler) -> torch.nn.Module:
    """``Auto*.from_pretrained`` for the handle's task, with its revision and load_kwargs."""
    import transformers

    task = handle.attributes.get("task", "feature-extraction")
    auto_class = getattr(transformers, TASKS[task].auto_class)
    trust = bool(handle.attributes.get("trust_remote_code", False))
    load_kwargs = handle.attributes.get("load_kwargs") or {}
    check_load_kwargs(load_kwargs, trust, f"'{handle.path}' load_kwargs")
    try:
        model = auto_class.from_pretrained(
            handle.path, revision=handle.attributes.get("revision"), trust_remote_code=trust, **load_kwargs
        )
    except Exception as exc:  # transformers raises OSError, ValueError, TypeError, ImportError ...
        raise _hf_load_error(handle, exc, trust) from exc
    return model.eval()


def quantization_of(handle: ModelHandler) -> dict[str, Any] | None:
    """How the model is quantized, if it is: the ``quantization`` attribute a pass recorded
    (``{"library": "torchao", "scheme": ...}``), or a local hf folder's ``quantization_config``."""
    recorded = handle.attributes.get("quantization")
    if recorded:
        return dict(recorded)
    if handle.type == "hf" and not handle.attributes.get("hub_id"):
        config_file = Path(handle.path) / "config.json"
        if config_file.is_file():
            found = json.loads(config_file.read_text(encoding="utf-8")).get("quantization_config")
            if found:
                return {"library": found.get("quant_method", "unknown"), "scheme": "from config.json"}
    return None


def import_torchao(handle: ModelHandler) -> None:
    """Import torchao before loading its tensors (it allow-lists them for ``weights_only``), without
    its warnings about the CUDA-only libraries a CPU build lacks."""
    noisy = [logging.getLogger(name) for name in ("torchao", "torch.utils._pytree")]
    levels = [logger.level for logger in noisy]
    for logger in noisy:
        logger.setLevel(logging.ERROR)
    try:
        import torchao  # noqa: F401
        import torchao.quantization  # noqa: F401
    except ImportError as exc:
        raise ModelLoadError(
            f"'{handle.path}' holds torchao-quantized weights, and torchao is not installed",
            hint="pip install olive-torch-quant (it brings torchao)",
        ) from exc
    finally:
        for logger, level in zip(noisy, levels):
            logger.setLevel(level)


def adapter_folder(handle: ModelHandler) -> Path | None:
    """The LoRA adapter folder the handle's ``adapter`` attribute names, inside the model's folder."""
    relative = handle.attributes.get("adapter")
    if not relative:
        return None
    base = model_folder(handle)
    folder = inside(base, str(relative))
    if folder is None or not folder.is_dir():
        where = "is outside the model's folder" if folder is None else "is not a folder"
        raise ModelLoadError(
            f"'{handle.path}' names the peft LoRA adapter '{relative}', which {where} ('{base}')",
            hint="an adapter travels inside the model's folder; rerun the step that attached it",
        )
    return folder


def _with_adapter(model: torch.nn.Module, handle: ModelHandler) -> torch.nn.Module:
    """The model with the LoRA adapter its handle names (relative to its folder) applied: the
    same module class with LoRA layers inside, so it is called and exported like the original."""
    folder = adapter_folder(handle)
    if folder is None:
        return model
    try:
        from peft import PeftModel
    except ImportError as exc:
        raise ModelLoadError(
            f"'{handle.path}' carries a LoRA adapter ({folder.name}), and peft is not installed",
            hint="pip install olive-torch-quant (it brings peft)",
        ) from exc
    try:
        with warnings.catch_warnings():
            # peft 0.21 reads a property transformers 5 deprecates: nothing for a user to do
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
            return PeftModel.from_pretrained(model, str(folder)).get_base_model().eval()
    except Exception as exc:
        raise _unreadable(folder, "a peft LoRA adapter", exc) from exc


def _hf_load_error(handle: ModelHandler, exc: Exception, trust: bool) -> ModelLoadError:
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if "trust_remote_code" in text and not trust:
        return ModelLoadError(
            f"'{handle.path}' needs code shipped with the model, which is not run by default",
            hint="if you trust its source, set trust_remote_code: true in input_model.config",
        )
    if "does not recognize this architecture" in text:
        return ModelLoadError(
            f"'{handle.path}': {first}",
            hint="upgrade transformers, or set trust_remote_code: true if the model ships its own code",
        )
    return ModelLoadError(
        f"'{handle.path}' cannot be loaded as a {handle.attributes.get('task')} model: {type(exc).__name__}: {first}",
        hint="check model_path, task and load_kwargs in input_model.config",
    )


# -- pytorch --------------------------------------------------------------------------------


def load_pytorch_model(handle: ModelHandler) -> torch.nn.Module:
    """Load by the format found when the handle was made; see :mod:`olive_torch.pytorch_model`."""
    import torch

    model_format = handle.attributes.get("model_format")
    path = Path(handle.path)
    if model_format == "exported_program":
        try:
            # An exported program's module cannot switch modes: it is already an inference graph.
            return torch.export.load(str(path)).module()
        except Exception as exc:
            raise _unreadable(path, "a torch.export program", exc) from exc
    if model_format == "torchscript":
        try:
            return torch.jit.load(str(path), map_location="cpu").eval()
        except Exception as exc:
            raise _unreadable(path, "a TorchScript module", exc) from exc

    loader = import_loader(loader_spec(handle), handle.attributes.get("trusted_modules") or ())
    kwargs = handle.attributes.get("loader_kwargs") or {}
    if model_format in ("safetensors", "torch_save"):
        model = _call_loader(loader, handle, (), kwargs)
        _load_weights(model, path, model_format)
    elif model_format == "loader_path":
        model = _call_loader(loader, handle, (str(path),), kwargs)
    else:
        model = _call_loader(loader, handle, (), kwargs)
    return model.eval()


def _call_loader(loader: Callable[..., Any], handle: ModelHandler, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.nn.Module:
    import torch

    spec = loader_spec(handle)
    try:
        model = loader(*args, **kwargs)
    except Exception as exc:
        raise ModelLoadError(
            f"model_loader '{spec}' failed: {type(exc).__name__}: {exc}", hint="fix the loader function"
        ) from exc
    if not isinstance(model, torch.nn.Module):
        raise ModelLoadError(
            f"model_loader '{spec}' returned {type(model).__name__}, not a torch.nn.Module",
            hint="make the loader return the model (an nn.Module)",
        )
    return model


def _load_weights(model: torch.nn.Module, path: Path, model_format: str) -> None:
    import torch

    try:
        if model_format == "safetensors":
            from safetensors.torch import load_file

            state = load_file(str(path))
        else:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        if "Weights only load failed" in str(exc):
            raise ModelLoadError(
                f"'{path}' holds a pickled Python object (a whole module), which olive does not unpickle: "
                "loading it could run arbitrary code",
                hint="save the weights with torch.save(model.state_dict(), ...) and give model_loader, "
                "or save the model as TorchScript (torch.jit.save) or with torch.export.save",
            ) from exc
        raise _unreadable(path, "a state dict", exc) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelLoadError(
            f"'{path}' does not hold a state dict (a mapping of names to tensors) but {type(state).__name__}",
            hint="save it with torch.save(model.state_dict(), path)",
        )
    # torchao's quantized tensors must replace the float parameters, not be copied into them
    assign = any(type(value) is not torch.Tensor for value in state.values())
    try:
        result = model.load_state_dict(state, strict=False, assign=assign)
    except RuntimeError as exc:  # same names, other shapes
        raise ModelLoadError(
            f"the weights in '{path}' do not fit the module model_loader built: {str(exc).strip()}",
            hint="make model_loader build the architecture the state dict was saved from",
        ) from exc
    if result.missing_keys or result.unexpected_keys:
        raise ModelLoadError(
            f"the weights in '{path}' do not fit the module model_loader built: "
            f"missing {_few(result.missing_keys)}, unexpected {_few(result.unexpected_keys)}",
            hint="make model_loader build the architecture the state dict was saved from",
        )


def _few(keys: list[str]) -> str:
    return "none" if not keys else ", ".join(keys[:5]) + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _unreadable(path: Path, what: str, exc: Exception) -> ModelLoadError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ModelLoadError(
        f"'{path}' cannot be read as {what}: {type(exc).__name__}: {first}",
        hint="the file may be truncated or damaged; save it again",
    )
