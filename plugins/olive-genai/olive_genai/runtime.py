"""A `genai` folder run by ONNX Runtime GenAI: logits for metrics, greedy generation for users.

ONNX Runtime GenAI (``og.Model``, ``og.Generator``) is how these models are used, so it is what is
measured: ``append_tokens`` runs the prompt, ``generate_next_token`` picks and runs one token, and
``get_logits`` / ``get_output("logits")`` give the distributions the metrics compare. The
session also answers the plain ``run`` of olive's sessions (``input_ids`` in, ``logits`` out), so
core metrics that only need outputs work on it too.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from olive_core.errors import DataError, ModelLoadError

from olive_genai.language_model import Generation, check_context

if TYPE_CHECKING:
    import numpy as np

#: runtime settings passed on to the model's ONNX Runtime session options
THREAD_SETTINGS = ("intra_op_num_threads", "inter_op_num_threads")


class GenAISession:
    """An ``og.Model`` on the CPU with the run's thread settings; a :class:`LanguageModel`."""

    input_names = ["input_ids"]
    output_names = ["logits"]

    def __init__(self, folder: Path, genai_config: dict[str, Any], settings: dict[str, Any]) -> None:
        import onnxruntime_genai as og

        self.folder = folder
        model = genai_config.get("model", {})
        self.vocab_size = int(model.get("vocab_size", 0))
        self.context_length = model.get("context_length")
        self.settings = {key: int(settings[key]) for key in THREAD_SETTINGS if settings.get(key)}
        try:
            config = og.Config(str(folder))
            if self.settings:
                config.overlay(json.dumps({"model": {"decoder": {"session_options": self.settings}}}))
            self.model = og.Model(config)
        except Exception as exc:  # og raises RuntimeError with the native message
            raise ModelLoadError(
                f"ONNX Runtime GenAI cannot load '{folder}': {exc}",
                hint="check genai_config.json and the model files it names",
            ) from exc

    def _generator(self, batch: int, max_length: int) -> Any:
        import onnxruntime_genai as og

        params = og.GeneratorParams(self.model)
        params.set_search_options(max_length=max_length, do_sample=False, batch_size=batch)
        return og.Generator(self.model, params)

    def run(self, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        if "input_ids" not in inputs:
            raise DataError(f"the batch has no 'input_ids' (it has: {', '.join(inputs)})", hint="tokenize the text")
        return [self.logits(inputs["input_ids"])]

    def logits(self, input_ids: np.ndarray) -> np.ndarray:
        import numpy as np

        ids = _as_batch(input_ids)
        check_context(self, ids.shape[1], "the text")
        # room for the text itself: a block as long as the context is allowed, not one token more
        generator = self._generator(ids.shape[0], min(ids.shape[1] + 1, self.context_length or ids.shape[1] + 1))
        generator.append_tokens(ids.astype(np.int32))
        return np.asarray(generator.get_output("logits"), dtype=np.float32)

    def generate(self, prompts: np.ndarray, new_tokens: int, keep_logits: bool = False) -> Generation:
        import numpy as np

        ids = _as_batch(prompts)
        check_context(self, ids.shape[1] + new_tokens, "the prompt and its continuation")
        generator = self._generator(ids.shape[0], ids.shape[1] + new_tokens)
        chosen, kept, decode_s = [], [], []
        first_token_s = 0.0
        started = time.perf_counter()
        generator.append_tokens(ids.astype(np.int32))
        for step in range(new_tokens):
            if keep_logits:
                kept.append(np.asarray(generator.get_logits(), dtype=np.float32)[:, -1, :])
            if step > 0:
                started = time.perf_counter()
            generator.generate_next_token()
            chosen.append(np.asarray(generator.get_next_tokens(), dtype=np.int64))
            if step == 0:
                first_token_s = time.perf_counter() - started
            else:
                decode_s.append(time.perf_counter() - started)
        tokens = np.stack(chosen, axis=1)
        return Generation(tokens, first_token_s, decode_s, np.stack(kept, axis=1) if keep_logits else None)


def _as_batch(ids: np.ndarray) -> np.ndarray:
    import numpy as np

    array = np.asarray(ids)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.dtype.kind not in "iu" or array.shape[1] == 0:
        raise DataError(
            f"token ids must be a [batch, length] integer array, not {array.dtype}{list(array.shape)}",
            hint="tokenize the text with text_blocks or prompts",
        )
    return array
