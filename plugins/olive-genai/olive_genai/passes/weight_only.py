"""GenAIWeightOnlyQuantization: a genai model's decoder to INT4 MatMulNBits with a chosen algorithm.

ONNX Runtime's ``MatMulNBitsQuantizer`` offers four ways to pick each block's 4-bit values:
round-to-nearest (RTN), k-quant's searched scales, HQQ's half-quadratic optimization (no data,
asymmetric) and GPTQ, which corrects each column's error with second-order statistics of
calibration text (a data config of token blocks, run through the fp32 decoder). The folder's
other files (genai_config.json, tokenizer) are copied unchanged.
"""

from __future__ import annotations

import contextlib
import io
import shutil
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, model_validator

from olive_core.errors import OliveError, PassError
from olive_core.models import ModelHandler
from olive_core.passes import Pass, PassConfig, PassContext, Searchable

if TYPE_CHECKING:
    import onnx

#: attributes of the input handle the output keeps (where the model came from)
KEPT_ATTRIBUTES = ("source_architecture", "exported_by")


class GenAIWeightOnlyQuantizationConfig(PassConfig):
    algorithm: Annotated[Literal["rtn", "k_quant", "hqq", "gptq"], Searchable()] = Field(
        default="rtn",
        description="rtn: round to nearest; k_quant: searched scales; hqq: half-quadratic fit (asymmetric, no data); "
        "gptq: error-correcting, calibrated on the token blocks of 'data'",
    )
    block_size: Annotated[Literal[16, 32, 64, 128], Searchable(choices=(32, 64, 128))] = Field(
        default=32, description="weights per quantization block along K; smaller blocks keep accuracy and cost size"
    )
    symmetric: Annotated[bool, Searchable()] = Field(
        default=True, description="symmetric blocks (no zero point); hqq always fits zero points"
    )
    accuracy_level: Annotated[Literal[1, 2, 3, 4], Searchable(choices=(1, 4))] = Field(
        default=4, description="precision MatMulNBits computes with on CPU: 4 int8 activations (fastest), 1 fp32"
    )
    quantize_lm_head: Annotated[bool, Searchable()] = Field(
        default=True, description="quantize the output projection (the MatMul producing the logits) too"
    )
    data: str | None = Field(default=None, description="gptq: the data config whose token blocks calibrate")
    max_calibration_samples: int = Field(default=32, ge=1, le=10_000, description="gptq: calibrate on at most this many blocks")

    @model_validator(mode="after")
    def _gptq_needs_data(self) -> GenAIWeightOnlyQuantizationConfig:
        if self.algorithm == "gptq" and not self.data:
            raise ValueError("gptq calibrates on text: set 'data' to a data config of token blocks (text_blocks)")
        return self


class GenAIWeightOnlyQuantization(Pass):
    """Quantize a genai model's MatMul weights to INT4 blocks (MatMulNBits) with RTN, k-quant, HQQ or GPTQ.

    Refuses a decoder that is quantized already (made with GenAIModelBuilder's int4/int8).
    """

    Config = GenAIWeightOnlyQuantizationConfig
    version = "1"
    input_types = ("genai",)
    output_type = "genai"

    def check_input(self, model: ModelHandler, config: GenAIWeightOnlyQuantizationConfig, context: PassContext) -> None:
        from olive_onnx.api import read_model_proto, refuse_quantized

        super().check_input(model, config, context)
        decoder = _decoder_file(model)
        refuse_quantized(read_model_proto(decoder), str(decoder), type(self).__name__)
        if config.data is not None:
            context.require_data(config.data, type(self).__name__)

    def run(self, model: ModelHandler, config: GenAIWeightOnlyQuantizationConfig, output_dir: Path, context: PassContext) -> ModelHandler:
        from olive_onnx.api import external_data_files, load_model, op_counts, scratch_space

        from olive_genai.model import genai_handle

        decoder = _decoder_file(model)
        own = {decoder.resolve(), *(path.resolve() for path in external_data_files(decoder))}
        for source in Path(model.path).iterdir():
            if source.resolve() not in own:
                (shutil.copytree if source.is_dir() else shutil.copy2)(source, output_dir / source.name)
        graph = load_model(decoder)
        excluded = [] if config.quantize_lm_head else output_projection(graph)
        feeds = _calibration_feeds(model, graph, config, context) if config.algorithm == "gptq" else None
        try:
            with scratch_space(output_dir):
                quantized = _quantize(graph, config, excluded, feeds)
        except OliveError:
            raise
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise PassError(type(self).__name__, f"{config.algorithm}: {type(exc).__name__}: {first}") from exc
        _set_accuracy_level(quantized, config.accuracy_level)
        _save(quantized, output_dir / decoder.name)
        counts = op_counts(quantized)
        context.report.update(
            {"algorithm": config.algorithm, "MatMulNBits": counts["MatMulNBits"], "float_MatMul": counts["MatMul"], "kept_float": excluded}
        )
        if counts["MatMulNBits"] == 0:
            context.warn("no MatMul was quantized: weight-only INT4 needs MatMuls with 2-D constant weights")
        kept = {key: model.attributes[key] for key in KEPT_ATTRIBUTES if key in model.attributes}
        return genai_handle(output_dir, {**kept, "weight_only": {"bits": 4, **config.model_dump(exclude={"data", "max_calibration_samples"})}})


def _decoder_file(model: ModelHandler) -> Path:
    from olive_genai.genai_config import model_file, read_genai_config

    folder = Path(model.path)
    name = read_genai_config(folder)["model"]["decoder"]["filename"]
    return model_file(folder, name, "genai_config.json model.decoder.filename")


def output_projection(graph: onnx.ModelProto) -> list[str]:
    """The MatMul that makes the logits (possibly behind a Cast, Add or Reshape): what lm_head is."""
    producers = {output: node for node in graph.graph.node for output in node.output}
    node = producers.get("logits")
    for _ in range(4):
        if node is None:
            return []
        if node.op_type == "MatMul":
            return [node.name]
        node = producers.get(node.input[0]) if node.input else None
    return []


def _quantize(graph: onnx.ModelProto, config: GenAIWeightOnlyQuantizationConfig, excluded: list[str], feeds: Any) -> onnx.ModelProto:
    from onnxruntime.quantization.matmul_nbits_quantizer import (
        GPTQWeightOnlyQuantConfig,
        HQQWeightOnlyQuantConfig,
        KQuantWeightOnlyQuantConfig,
        MatMulNBitsQuantizer,
        RTNWeightOnlyQuantConfig,
    )

    from olive_onnx.api import quiet_logger

    algorithms = {
        "rtn": lambda: RTNWeightOnlyQuantConfig(),
        "k_quant": lambda: KQuantWeightOnlyQuantConfig(),
        "hqq": lambda: HQQWeightOnlyQuantConfig(block_size=config.block_size, bits=4),
        "gptq": lambda: GPTQWeightOnlyQuantConfig(calibration_data_reader=feeds, block_size=config.block_size),
    }
    quantizer = MatMulNBitsQuantizer(
        graph,
        block_size=config.block_size,
        is_symmetric=config.symmetric,
        accuracy_level=config.accuracy_level,
        nodes_to_exclude=excluded,
        algo_config=algorithms[config.algorithm](),
    )
    # the quantizer logs a line per node, its RTN/GPTQ code prints progress bars, and HQQ warns
    # about read-only arrays: none of it is the user's business
    quiet = quiet_logger("onnxruntime.quantization.matmul_nbits_quantizer", "onnxruntime.quantization")
    with quiet, contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        quantizer.process()
    return quantizer.model.model if hasattr(quantizer.model, "model") else quantizer.model


def _calibration_feeds(model: ModelHandler, graph: onnx.ModelProto, config: GenAIWeightOnlyQuantizationConfig, context: PassContext) -> list[dict[str, Any]]:
    """The decoder's inputs for each calibration block: the tokens, a full mask and an empty cache."""
    import numpy as np

    from olive_core.errors import DataError

    batches = list(context.require_data(config.data, "GenAIWeightOnlyQuantization")()) if config.data else []
    heads = int(model.attributes.get("num_key_value_heads") or 0)
    size = int(model.attributes.get("head_size") or 0)
    feeds: list[dict[str, Any]] = []
    for batch in batches:
        if "input_ids" not in batch:
            raise DataError(f"data '{config.data}' has no 'input_ids'", hint="make it with the text_blocks pre-processing step")
        for row in np.asarray(batch["input_ids"], dtype=np.int64).reshape(-1, np.shape(batch["input_ids"])[-1]):
            ids = row[None, :]
            feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
            for entry in graph.graph.input:
                if entry.name.startswith("past_key_values."):
                    feed[entry.name] = np.zeros((1, heads, 0, size), dtype=np.float32)
            feeds.append(feed)
            if len(feeds) >= config.max_calibration_samples:
                return feeds
    if not feeds:
        raise DataError(f"data '{config.data}' gave no token blocks to calibrate GPTQ on", hint="check the data config")
    return feeds


def _set_accuracy_level(graph: onnx.ModelProto, level: int) -> None:
    """Every MatMulNBits computes at the configured accuracy level, whichever algorithm made it."""
    import onnx

    for node in graph.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        kept = [attribute for attribute in node.attribute if attribute.name != "accuracy_level"]
        del node.attribute[:]
        node.attribute.extend([*kept, onnx.helper.make_attribute("accuracy_level", level)])


def _save(graph: onnx.ModelProto, target: Path) -> None:
    """As the builder saves decoders: the graph, and its weights in one external data file beside it."""
    import onnx

    onnx.save_model(graph, str(target), save_as_external_data=True, all_tensors_to_one_file=True, location=f"{target.name}.data", size_threshold=1024)
