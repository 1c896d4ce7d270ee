"""``olive optimize``, ``olive quantize`` and ``olive convert``: one command from a model to a result.

Each collects its options and hands them to ``olive_core.cli.tasks.run_task``, which lets the
installed recipe that fits the request (olive-onnx's, or a plugin's for a model family or a
device) write an ordinary workflow, then runs or saves it. ``olive --help`` imports this module
for the one-line helps: it imports click and core's task helpers, nothing else.
"""

from __future__ import annotations

from typing import Any

import click

from olive_core.cli.tasks import run_task, task_options

_LOADER = click.option(
    "--loader",
    default=None,
    metavar="FILE.py:FUNCTION",
    help="A function returning the PyTorch module (MODEL is then its weights, or the file or folder it reads).",
)


@click.command()
@click.option("--precision", type=click.Choice(["fp32", "fp16", "int8", "int4"]), default=None, help="Target precision (default: int8 on cpu, fp16 on gpu).")
@_LOADER
@click.option("--search", is_flag=True, help="Search the quantization settings for the fastest model that keeps --min-similarity.")
@click.option("--min-similarity", type=click.FloatRange(0.0, 1.0, min_open=True), default=0.99, show_default=True, help="Goal: mean cosine similarity of the outputs to the input model's.")
@task_options
def optimize(**options: Any) -> None:
    """Convert, fuse and quantize MODEL for a device.

    Measures latency, size and similarity to MODEL. MODEL is a Hugging Face folder or hub id, an .onnx file or folder, or PyTorch weights with
    --loader. Without --data, the recipe says what it measures on.
    """
    run_task("optimize", **options)


@click.command()
@click.option("--precision", type=click.Choice(["int8", "int4"]), required=True, help="Quantize to this precision.")
@click.option("--method", default=None, help="Quantization method (olive-onnx: dynamic or static for int8, rtn for int4; default: the first).")
@_LOADER
@task_options
def quantize(**options: Any) -> None:
    """Quantize MODEL to INT8 or INT4, as ONNX.

    Converts MODEL to ONNX first if needed; measures latency, size and similarity to MODEL.
    """
    run_task("quantize", **options)


@click.command()
@click.option("--precision", type=click.Choice(["fp32", "fp16"]), default=None, help="Precision of the ONNX model (default: fp32).")
@_LOADER
@task_options
def convert(**options: Any) -> None:
    """Convert MODEL to ONNX, checked against it.

    Measures latency, size and similarity to MODEL.
    """
    run_task("convert", **options)
