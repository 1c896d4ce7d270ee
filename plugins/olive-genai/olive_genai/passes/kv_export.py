"""GenAIKVCacheExport: any transformers causal LM to a `genai` folder, by tracing it with its cache.

For architectures the onnxruntime-genai builder lacks (GPT-2, a custom decoder), the model is
exported with its key/value cache as graph inputs and outputs (``past_key_values.N.*`` ->
``present.N.*``, dynamic batch, sequence and past length), checked against PyTorch on a prompt
and on a decoding step, and written as a folder ONNX Runtime GenAI loads as a generic decoder.
The builder's outputs are faster (fused attention, rotary caches); this path makes the rest
measurable and quantizable the same way.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from olive_core.errors import PassError
from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext

from olive_genai.passes.builder import architecture_of, check_causal_lm

if TYPE_CHECKING:
    import numpy as np
    import torch

    from olive_genai.kv_wrapper import CacheShape


class GenAIKVCacheExportConfig(PassConfig):
    exporter: Literal["torchscript"] = Field(
        default="torchscript", description="torch.jit tracing, with the cache's length as a dynamic axis"
    )
    target_opset: int = Field(default=17, ge=14, le=30, description="ONNX opset of the exported decoder")
    atol: float = Field(default=1e-4, ge=0, le=1, description="absolute tolerance of the ONNX Runtime vs PyTorch check")
    rtol: float = Field(default=1e-3, ge=0, le=1, description="relative tolerance of the same check")


class GenAIKVCacheExport(Pass):
    """Export an `hf` causal LM with its key/value cache as inputs and outputs, as a `genai` folder.

    For architectures GenAIModelBuilder lacks; models whose generation state is not one key and
    value tensor per layer (state-space models, hybrids) are refused.
    """

    Config = GenAIKVCacheExportConfig
    version = "1"
    input_types = ("hf",)
    output_type = "genai"

    def check_input(self, model: ModelHandler, config: GenAIKVCacheExportConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        check_causal_lm(model, type(self).__name__)

    def run(self, model: ModelHandler, config: GenAIKVCacheExportConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        import torch

        from olive_onnx.api import MODEL_FILE_NAME, save_model
        from olive_torch.api import hf_support_files, load_torch_model

        from olive_genai.genai_config import write_genai_config
        from olive_genai.kv_wrapper import cache_shape, with_flat_cache
        from olive_genai.model import genai_handle

        architecture = architecture_of(model)
        # eager attention traces into plain ops for any architecture
        load_kwargs = {**(model.attributes.get("load_kwargs") or {}), "attn_implementation": "eager"}
        module = load_torch_model(model.derive(attributes={"load_kwargs": load_kwargs}))
        shape = cache_shape(module, architecture)
        wrapped = with_flat_cache(module, shape)
        scratch = output_dir / ".export"
        scratch.mkdir()
        try:
            exported = scratch / MODEL_FILE_NAME
            _export(wrapped, shape, exported, config)
            context.report["max_abs_diff"] = _check(wrapped, shape, exported, config, context)
            import onnx

            save_model(onnx.load(str(exported)), output_dir)  # external data when near protobuf's 2 GiB
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for source in hf_support_files(model):
            target = output_dir / source.name
            if not target.exists():
                (shutil.copytree if source.is_dir() else shutil.copy2)(source, target)
        write_genai_config(output_dir, _decoder_section(module, shape), _model_section(module))
        context.report.update({"layers": shape.layers, "kv_heads": shape.kv_heads, "head_size": shape.head_size})
        return genai_handle(output_dir, {"source_architecture": architecture, "exported_by": "GenAIKVCacheExport"})


def _example(shape: CacheShape, batch: int, length: int, past: int, vocab: int, seed: int = 0) -> tuple[Any, ...]:
    import torch

    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, vocab, (batch, length), generator=generator)
    mask = torch.ones(batch, past + length, dtype=torch.int64)
    cache = [torch.randn(batch, shape.kv_heads, past, shape.head_size, generator=generator) for _ in range(2 * shape.layers)]
    return (ids, mask, *cache)


def _export(wrapped: torch.nn.Module, shape: CacheShape, target: Path, config: GenAIKVCacheExportConfig) -> None:
    import torch

    vocab = int(wrapped.model.config.get_text_config().vocab_size)
    axes: dict[str, dict[int, str]] = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    axes.update({name: {0: "batch_size", 2: "past_sequence_length"} for name in shape.input_names()})
    axes.update({name: {0: "batch_size", 2: "total_sequence_length"} for name in shape.output_names()})
    try:
        # The tracer warns about values it freezes (cache lengths, mask checks); _check then runs the
        # graph on other lengths than traced, which is what tells whether freezing them mattered.
        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.filterwarnings("ignore", message=".*(legacy TorchScript-based|aten::index|will be removed)")
            torch.onnx.export(
                wrapped,
                _example(shape, batch=2, length=3, past=2, vocab=vocab),
                str(target),
                input_names=["input_ids", "attention_mask", *shape.input_names()],
                output_names=["logits", *shape.output_names()],
                dynamic_axes=axes,
                opset_version=config.target_opset,
                dynamo=False,
            )
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise PassError("GenAIKVCacheExport", f"torch could not export the model with its cache: {first}") from exc


def _check(wrapped: torch.nn.Module, shape: CacheShape, exported: Path, config: GenAIKVCacheExportConfig, context: PassContext) -> float:
    """ONNX Runtime against PyTorch on a prompt from an empty cache and on one decoding step."""
    import numpy as np
    import onnxruntime as ort
    import torch

    vocab = int(wrapped.model.config.get_text_config().vocab_size)
    session = ort.InferenceSession(str(exported), providers=["CPUExecutionProvider"])
    names = ["input_ids", "attention_mask", *shape.input_names()]
    worst = 0.0
    for seed, (length, past) in enumerate([(5, 0), (1, 4)], start=1):
        inputs = _example(shape, batch=1, length=length, past=past, vocab=vocab, seed=seed)
        with torch.no_grad():
            expected = wrapped(*inputs)[0].numpy()
        got = session.run(["logits"], {name: tensor.numpy() for name, tensor in zip(names, inputs)})[0]
        difference = float(np.abs(got - expected).max())
        worst = max(worst, difference)
        if not np.allclose(got, expected, atol=config.atol, rtol=config.rtol):
            raise PassError(
                "GenAIKVCacheExport",
                f"the exported decoder's logits differ from PyTorch's by {difference:.3g} "
                f"(prompt of {length} tokens after a cache of {past})",
                hint="raise atol/rtol if the difference is numerical noise; else the model does not trace faithfully",
            )
    return worst


def _text_config(module: torch.nn.Module) -> Any:
    return module.config.get_text_config()


def _decoder_section(module: torch.nn.Module, shape: CacheShape) -> dict[str, Any]:
    config = _text_config(module)
    heads = int(getattr(config, "num_attention_heads", 0) or getattr(config, "n_head", 0))
    hidden = int(getattr(config, "hidden_size", 0) or getattr(config, "n_embd", 0))
    return {
        "filename": "model.onnx",
        "head_size": shape.head_size,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_hidden_layers": shape.layers,
        "num_key_value_heads": shape.kv_heads,
    }


def _model_section(module: torch.nn.Module) -> dict[str, Any]:
    config = _text_config(module)
    context_length = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None) or 2048
    generation = getattr(module, "generation_config", None)

    def token(name: str) -> int | None:
        value = getattr(config, name, None)
        if value is None and generation is not None:
            value = getattr(generation, name, None)
        return int(value[0] if isinstance(value, (list, tuple)) else value) if value is not None else None

    eos = token("eos_token_id")
    pad = token("pad_token_id")
    ids = {"bos_token_id": token("bos_token_id"), "eos_token_id": eos, "pad_token_id": pad if pad is not None else eos}
    return {
        **{name: value for name, value in ids.items() if value is not None},
        "context_length": int(context_length),
        "vocab_size": int(config.vocab_size),
    }
