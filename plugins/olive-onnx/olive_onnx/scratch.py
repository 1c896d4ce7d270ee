"""Where ONNX Runtime's tools may write: a scratch folder inside the step's own output folder.

ORT's tools write beside the files they are given (``quantize_dynamic`` writes
``<input>-inferred.onnx`` next to its input), into the current directory (temp files of failed
calls, tens of MB) and into the system temp folder. A pass must write only in the staging folder
the engine gives it: the user's folder may be read-only, and files left there leak. So the
tools get the input staged inside a scratch folder, and the current directory and
``tempfile``'s default folder point into it while they run; the folder is removed afterwards, so
it never ends up in the cached artifact.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from olive_onnx.files import external_data_files

_PROCESS_STATE_LOCK = threading.RLock()


@contextmanager
def scratch_space(output_dir: Path) -> Iterator[Path]:
    """A fresh folder inside ``output_dir``, made the current directory and tempfile's default.

    Both are process-wide, so callers are serialized by a lock; pass absolute paths only inside
    this block.
    """
    output_dir = Path(output_dir).resolve()
    output_dir.mkdir(parents=True, exist_ok=True)
    with _PROCESS_STATE_LOCK:
        folder = Path(tempfile.mkdtemp(prefix=".scratch-", dir=output_dir))
        previous_cwd, previous_tempdir = Path.cwd(), tempfile.tempdir
        os.chdir(folder)
        tempfile.tempdir = str(folder)
        try:
            yield folder
        finally:
            tempfile.tempdir = previous_tempdir
            os.chdir(previous_cwd)
            shutil.rmtree(folder, ignore_errors=True)


def stage_input(model_file: Path, scratch: Path) -> Path:
    """The model hard-linked into ``scratch``, its external data files copied beside it.

    For tools that write beside the file they are given; they only read the staged files. The
    .onnx file is linked when it can be (copied across file systems); external data is always
    copied, because onnx refuses data files with several hard links (a hard-link attack guard).
    """
    folder = Path(scratch) / "input"
    folder.mkdir()
    staged = folder / model_file.name
    try:
        os.link(model_file, staged)
    except OSError:  # another file system, or links to other users' files not allowed
        shutil.copy2(model_file, staged)
    for source in external_data_files(model_file):
        target = folder / source.relative_to(model_file.parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
    return staged
