"""GenAIModelBuilder: ONNX Runtime GenAI's model builder, from an `hf` causal LM to a `genai` folder.

The builder (``python -m onnxruntime_genai.models.builder``) writes the optimized decoder with its
key/value cache (GroupQueryAttention, fused QKV, rotary embeddings), the MatMulNBits INT4/INT8
weights, ``genai_config.json`` and the tokenizer files. It runs in a child process: it prints
freely (progress bars, advice), which goes into the step's report instead of the console, and
its memory is returned when it ends. A token goes to it through the environment, never its
command line; remote code runs only when the workflow trusts it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from olive_core.errors import IncompatibleModelError, PassError
from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable
from olive_core.redaction import is_secret_key

#: LlamaForCausalLM & co.: the architectures onnxruntime-genai 0.18's builder turns into decoders
BUILDER_ARCHITECTURES = frozenset(
    {
        "ChatGLMForConditionalGeneration",
        "ChatGLMModel",
        "Ernie4_5ForCausalLM",
        "GemmaForCausalLM",
        "Gemma2ForCausalLM",
        "Gemma3ForCausalLM",
        "GptOssForCausalLM",
        "GraniteForCausalLM",
        "HunYuanDenseV1ForCausalLM",
        "InternLM2ForCausalLM",
        "Lfm2ForCausalLM",
        "LlamaForCausalLM",
        "MistralForCausalLM",
        "NemotronForCausalLM",
        "OlmoForCausalLM",
        "PhiForCausalLM",
        "Phi3ForCausalLM",
        "Phi3SmallForCausalLM",
        "Qwen2ForCausalLM",
        "Qwen3ForCausalLM",
        "SmolLM3ForCausalLM",
    }
)
#: lines of the builder's own output kept in the step's report
REPORT_LINES = 60
#: progress bars the builder draws in place: "Progress: [####  ] 45.45%", "0it [00:00, ?it/s]"
_PROGRESS = re.compile(r"Progress: \[[# ]*\]\s*[\d.]+%|\d+it \[[^\]]*\]")


class GenAIModelBuilderConfig(PassConfig):
    """What the builder makes: precision, and for INT4 how the weights are blocked and computed."""

    precision: Annotated[Literal["fp32", "int8", "int4"], Searchable()] = Field(
        default="int4", description="weights of the decoder's MatMuls: fp32, or int8/int4 blocks (MatMulNBits)"
    )
    block_size: Annotated[Literal[16, 32, 64, 128, 256], Searchable(choices=(32, 64, 128), when=(("precision", "int4"),))] = (
        Field(default=32, description="weights per quantization block; smaller blocks keep accuracy and cost size")
    )
    symmetric: Annotated[bool, Searchable(when=(("precision", "int4"),))] = Field(
        default=True, description="symmetric blocks (int4, no zero point) or asymmetric ones (uint4 with zero points)"
    )
    accuracy_level: Annotated[Literal[1, 2, 3, 4], Searchable(choices=(1, 4), when=(("precision", "int4"),))] = Field(
        default=4,
        description="precision of the activations MatMulNBits multiplies with on CPU: 4 int8 (fastest), 1 fp32",
    )
    algorithm: Annotated[Literal["default", "rtn", "k_quant"], Searchable(choices=("rtn", "k_quant"), when=(("precision", "int4"),))] = (
        Field(default="rtn", description="how block values are chosen: round-to-nearest, or k_quant's searched scales")
    )
    quantize_embeddings: Annotated[bool, Searchable(when=(("precision", "int4"),))] = Field(
        default=False, description="also quantize the token embedding table (a Gather), which shrinks the model most"
    )
    quantize_lm_head: Annotated[bool, Searchable(when=(("precision", "int4"),))] = Field(
        default=True, description="quantize the output projection too (the largest MatMul, the one logits depend on)"
    )


class GenAIModelBuilder(Pass):
    """Build an ONNX Runtime GenAI model (decoder with KV cache, genai_config.json, tokenizer) from an
    `hf` causal language model, in fp32 or with INT8/INT4 weights.

    Architectures the builder lacks are refused before anything runs: export them with
    GenAIKVCacheExport instead.
    """

    Config = GenAIModelBuilderConfig
    version = "1"
    input_types = ("hf",)
    output_type = "genai"

    def check_input(self, model: ModelHandler, config: GenAIModelBuilderConfig, context: PassContext) -> None:
        super().check_input(model, config, context)
        check_causal_lm(model, type(self).__name__)
        architecture = architecture_of(model)
        if architecture not in BUILDER_ARCHITECTURES:
            raise IncompatibleModelError(
                f"GenAIModelBuilder cannot build a {architecture} model: the onnxruntime-genai builder does not "
                "support that architecture",
                hint="export it with GenAIKVCacheExport, which traces any transformers causal LM",
            )

    def run(self, model: ModelHandler, config: GenAIModelBuilderConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        from olive_genai.model import genai_handle

        scratch = output_dir / ".builder"
        scratch.mkdir()
        command = builder_command(model, config, output_dir, scratch)
        environment = {**os.environ, "TMPDIR": str(scratch), "PYTHONUNBUFFERED": "1"}
        token = next((v for k, v in (model.attributes.get("load_kwargs") or {}).items() if is_secret_key(k)), None)
        if isinstance(token, str) and token:
            environment["HF_TOKEN"] = token
        try:
            done = subprocess.run(command, cwd=scratch, env=environment, capture_output=True, text=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        log = builder_log(done.stdout + "\n" + done.stderr)
        context.report["builder"] = {"precision": config.precision, "exit_code": done.returncode, "log": log}
        if done.returncode != 0:
            raise PassError(
                "GenAIModelBuilder",
                f"the onnxruntime-genai builder failed (exit {done.returncode}): {last_error(log)}",
                hint="see this step's report in run.json for the builder's output",
            )
        return genai_handle(output_dir, {"source_architecture": architecture_of(model)})


def check_causal_lm(model: ModelHandler, pass_name: str) -> None:
    """A decoder language model is an `hf` model loaded for text generation."""
    task = model.attributes.get("task")
    if task != "text-generation":
        raise IncompatibleModelError(
            f"{pass_name} makes language models from 'text-generation' hf models, not from a '{task}' model",
            hint="set input_model.config.task: text-generation",
        )


def architecture_of(model: ModelHandler) -> str:
    """``architectures[0]`` of the model's config.json (read as JSON: no transformers import)."""
    from olive_torch.api import read_hf_config

    architectures = read_hf_config(model).get("architectures") or []
    return str(architectures[0]) if architectures else "(no architectures in config.json)"


def builder_command(model: ModelHandler, config: GenAIModelBuilderConfig, output_dir: Path, scratch: Path) -> list[str]:
    """The builder's command line: input, output, precision and the INT4 options."""
    source = ["-m", model.path] if model.attributes.get("hub_id") else ["-i", model.path]
    options = {
        "hf_remote": "true" if model.attributes.get("trust_remote_code") else "false",
        "hf_token": "true" if any(is_secret_key(k) for k in model.attributes.get("load_kwargs") or {}) else "false",
    }
    if config.precision in ("int4", "int8"):
        options.update(
            {
                "block_size": str(config.block_size),
                "is_symmetric": "true" if config.symmetric else "false",
                "accuracy_level": str(config.accuracy_level),
                "algo_config": config.algorithm,
                "op_types_to_quantize": "MatMul/Gather" if config.quantize_embeddings else "MatMul",
            }
        )
        if not config.quantize_lm_head:
            options["nodes_to_exclude"] = "/lm_head/MatMul"
    extra = [f"{key}={value}" for key, value in options.items()]
    # absolute: the builder runs in the scratch folder, and a run's cache folder may be relative
    return [
        sys.executable, "-m", "onnxruntime_genai.models.builder", *source,
        "-o", str(output_dir.resolve()), "-p", config.precision, "-e", "cpu", "-c", str((scratch / "cache").resolve()),
        "--extra_options", *extra,
    ]  # fmt: skip


def builder_log(text: str) -> list[str]:
    """The builder's output without progress bars and per-node chatter; the last lines are kept."""
    lines = []
    for segment in text.replace("\r", "\n").splitlines():
        line = _PROGRESS.sub("", segment).strip()
        if not line or "%|" in line or "[INFO]" in line or "torchao" in line or "_pytree.py" in line:
            continue
        lines.append(line[:500])
    return lines[-REPORT_LINES:]


def last_error(log: list[str]) -> str:
    """The line of the builder's output that says what went wrong."""
    for line in reversed(log):
        if re.search(r"(Error|Exception|not currently supported)", line):
            return line
    return log[-1] if log else "no output"


__all__ = ["GenAIModelBuilder", "BUILDER_ARCHITECTURES"]
