"""What in a workflow runs code, and the opt-ins that allow it.

A workflow file is like a Makefile: the code it names runs. That is legitimate when the user
says so, and never by accident:

- an `hf` model's own files run code through ``auto_map`` (Python shipped with the model) and
  through pickled weights (``load_kwargs.weights_only: false``); hub kernels named in
  ``load_kwargs`` run compiled code from the hub. All of these need ``trust_remote_code: true``.
- a `pytorch` model's ``model_loader`` runs: a ``file.py`` beside the workflow (or below its
  folder), or a ``package.module`` whose top-level package is in ``trusted_modules``. Standard
  library and process-spawning modules must be listed there by name.

The checks run when the input model's handle is made, before anything is imported or loaded.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

from olive_core.errors import ConfigError

#: packages outside the standard library whose functions start processes or run commands
PROCESS_MODULES = frozenset(
    {"sh", "plumbum", "pexpect", "ptyprocess", "sarge", "invoke", "fabric", "paramiko", "psutil", "execnet", "docker"}
)

#: a hub kernel reference (transformers' pattern): ``org/repo[@rev][:name]``, optionally ``wrapper|...``
_HUB_KERNEL = re.compile(r"^(?:[^|]+\|)?[^/:]+/[^/:]+(?:@[^/:]+)?(?::[^/:]+)?$")

_TRUST_HINT = "remove it; or, if you trust the model's source, set trust_remote_code: true in input_model.config"


def check_load_kwargs(load_kwargs: Mapping[str, Any], trust_remote_code: bool, field: str) -> None:
    """Refuse ``from_pretrained`` arguments that run code unless ``trust_remote_code`` is set.

    ``field`` is the dotted path of ``load_kwargs`` (``input_model.config.load_kwargs``).
    ``use_safetensors: false`` is allowed: transformers then reads ``.bin`` files with
    ``torch.load(weights_only=True)``, which unpickles tensors only.
    """
    if "trust_remote_code" in load_kwargs:
        raise ConfigError(
            "trust_remote_code belongs in input_model.config, not in load_kwargs",
            path=f"{field}.trust_remote_code",
            hint="move it to input_model.config.trust_remote_code, where olive checks what it allows",
        )
    if trust_remote_code:
        return
    if "weights_only" in load_kwargs and load_kwargs["weights_only"] is not True:
        raise ConfigError(
            f"weights_only: {load_kwargs['weights_only']!r} makes torch unpickle the model's weight files, "
            "which runs any code they hold",
            path=f"{field}.weights_only",
            hint=_TRUST_HINT,
        )
    for key in ("use_kernels", "allow_all_kernels", "kernel_config"):
        if load_kwargs.get(key):
            raise ConfigError(
                f"{key} makes transformers download and run compiled kernels from the Hugging Face hub",
                path=f"{field}.{key}",
                hint=_TRUST_HINT,
            )
    for key in ("attn_implementation", "experts_implementation"):
        value = load_kwargs.get(key)
        if isinstance(value, str) and _HUB_KERNEL.match(value):
            raise ConfigError(
                f"{key} '{value}' names a kernel on the Hugging Face hub, whose compiled code would run",
                path=f"{field}.{key}",
                hint="use a built-in implementation ('eager', 'sdpa'); or, if you trust the kernel's source, "
                "set trust_remote_code: true in input_model.config",
            )


def is_risky_module(module: str) -> bool:
    """Standard-library or process-spawning: a loader from there can run any command."""
    top = module.split(".", 1)[0]
    return top in sys.stdlib_module_names or top in PROCESS_MODULES


def is_trusted(module: str, trusted_modules: Iterable[str]) -> bool:
    """Whether ``module`` is one of ``trusted_modules`` or inside one of them (a package)."""
    return any(module == name or module.startswith(name + ".") for name in trusted_modules)


def check_module_loader(spec: str, trusted_modules: Iterable[str], field: str) -> None:
    """Refuse a ``package.module:function`` loader from a module the user did not opt into.

    Only the spec's text is looked at: importing a module runs its code.
    """
    module, _, function = spec.rpartition(":")
    if not module or not all(part.isidentifier() for part in module.split(".")) or not function.isidentifier():
        raise ConfigError(
            f"model_loader '{spec}' is neither 'package.module:function' nor 'file.py:function'",
            path=field,
            hint="name a function in a .py file beside the workflow, e.g. 'loader.py:build'",
        )
    trusted = list(trusted_modules)
    if is_trusted(module, trusted):
        return
    top = module.split(".", 1)[0]
    trusted_field = field.rsplit(".", 1)[0] + ".trusted_modules"
    if is_risky_module(module):
        raise ConfigError(
            f"model_loader '{spec}' names '{module}', a standard-library or process-spawning module: "
            "a workflow naming it could run any command",
            path=field,
            hint=f"write the loader in a .py file beside the workflow; only if you mean it, list '{module}' "
            f"in {trusted_field}",
        )
    raise ConfigError(
        f"model_loader '{spec}' names module '{module}', whose package '{top}' is not in trusted_modules: "
        "a workflow runs the code its loader names, so installed code needs an opt-in",
        path=field,
        hint=f"write the loader in a .py file beside the workflow ('loader.py:build'), or, if you trust the "
        f"package, add '{top}' to {trusted_field}",
    )
