"""Tell a pickled module from a state dict without unpickling it.

A ``torch.save`` file is a pickle (inside a zip, or several pickles in a row in the legacy
format). Reading its opcodes with :mod:`pickletools` lists the classes it would import when
unpickled: a state dict names only tensor-rebuilding functions, storages and ``OrderedDict``; a
whole module names its own class (``torch.nn.modules.linear.Linear``, ``__main__.Net``).
"""

from __future__ import annotations

import io
import pickletools
import zipfile
from pathlib import Path

#: modules whose globals a state dict's pickle uses (torchao's for its quantized tensor classes)
_STATE_DICT_MODULES = ("torch", "torch._utils", "torch._tensor", "torch.serialization")

#: how many pickles a legacy (non-zip) torch.save file starts with: magic, protocol, sys info, data, keys
_LEGACY_PICKLES = 5

_STRING_OPS = ("SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "SHORT_BINSTRING", "BINSTRING", "STRING")


def foreign_globals(path: Path) -> list[str]:
    """``module.name`` of each global the file's pickle would import that a state dict never does."""
    return [name for name in pickle_globals(path) if not _is_state_dict_global(name)]


def pickle_globals(path: Path) -> list[str]:
    """Every ``module.name`` the pickle(s) of a torch.save file reference, in order, once each."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            data = next((archive.read(n) for n in archive.namelist() if n.split("/", 1)[-1] == "data.pkl"), b"")
        streams = [io.BytesIO(data)]
    else:
        streams = [path.open("rb")]
    found: list[str] = []
    for stream in streams:
        with stream:
            for _ in range(_LEGACY_PICKLES if not isinstance(stream, io.BytesIO) else 1):
                try:
                    _scan(stream, found)
                except Exception:  # past the pickles (raw storage bytes), or a damaged file
                    break
    return list(dict.fromkeys(found))


def _scan(stream: io.IOBase, found: list[str]) -> None:
    """Append the globals of one pickle: GLOBAL names them inline, STACK_GLOBAL takes the two
    strings pushed before it (possibly fetched back from the memo)."""
    memo: dict[int, object] = {}
    recent: list[object] = []
    for opcode, arg, _ in pickletools.genops(stream):
        name = opcode.name
        if name == "GLOBAL":
            module, _, attr = str(arg).partition(" ")
            found.append(f"{module}.{attr}")
        elif name == "STACK_GLOBAL" and len(recent) >= 2:
            found.append(f"{recent[-2]}.{recent[-1]}")
        if name in _STRING_OPS:
            recent.append(arg)
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            recent.append(memo.get(int(arg)))
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(arg)] = recent[-1] if recent else None
        elif name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif name not in ("STACK_GLOBAL", "FRAME", "PROTO"):
            recent.append(None)
        recent = recent[-2:]


def _is_state_dict_global(name: str) -> bool:
    module, _, attr = name.rpartition(".")
    if module in _STATE_DICT_MODULES or module == "torchao" or module.startswith("torchao."):
        return True
    return module == "collections" and attr == "OrderedDict"
