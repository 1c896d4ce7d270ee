"""Print the comparison the README shows, read from output/run.json (nothing is measured here).

One row per model: the input (PyTorch FP32), then every candidate of the run, named by how it
was made. Perplexity is on the held-out stories, agreement and divergence against the input
model's greedy continuations, speed is ONNX Runtime GenAI's (PyTorch's for the input).
Candidates the passes refused (quantizing a model that is already INT4) are listed below the
table with their reason.

    python report.py [RUN_JSON]
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PERPLEXITY, SPEED = "perplexity-perplexity", "speed-decode_tokens_per_s_p50"
COLUMNS = (
    ("perplexity", PERPLEXITY, "{:.3f}"),
    ("agreement", "agreement-agreement", "{:.3f}"),
    ("first diff", "agreement-first_divergence", "{:.1f}"),
    ("KL", "agreement-kl_mean", "{:.5f}"),
    ("TTFT ms", "speed-ttft_ms_p50", "{:.2f}"),
    ("decode tok/s", SPEED, "{:.0f}"),
    ("MB", "size-mb", "{:.2f}"),
)


def describe(configs: dict[str, Any]) -> str:
    """``builder int4 (rtn, block 32)`` or ``builder fp32 -> gptq (block 32)``."""
    build, quantize = configs.get("build"), configs.get("quantize")
    name = f"builder {build['precision']}"
    if build["precision"] != "fp32":
        name += f" ({build['algorithm']}, block {build['block_size']})"
    if quantize is not None:
        name += f" -> {quantize['algorithm']} (block {quantize['block_size']})"
    return name


def rows(record: dict[str, Any]) -> list[list[str]]:
    """The table's rows: the input model first, then every candidate that produced a model."""
    base = record["input_model"]["metrics"]["values"]
    best = {entry["candidate"] for entry in record["best"]}
    table = [["input (PyTorch FP32)", *cells(base, base), "", ""]]
    made = [c for c in record["candidates"] if c["error"] is None]
    # the builder's own outputs first, then the quantizations of its fp32 output
    for candidate in sorted(made, key=lambda c: (c["configs"].get("quantize") is not None, c["index"])):
        metrics = candidate["metrics"]
        goal = "met" if metrics["all_goals_met"] else "missed"
        table.append([describe(candidate["configs"]), *cells(metrics["values"], base), goal,
                      "best" if candidate["index"] in best else ""])  # fmt: skip
    return table


def cells(values: dict[str, Any], base: dict[str, Any]) -> list[str]:
    out = []
    for _, key, form in COLUMNS:
        out.append(form.format(values[key]) if key in values else "-")
        if key == PERPLEXITY:
            out.append(f"{100 * (values[key] / base[key] - 1):+.1f}%")
        if key == SPEED:
            out.append(f"{values[key] / base[key]:.1f}x")
    return out


def markdown(record: dict[str, Any]) -> str:
    headers = ["model"]
    for label, key, _ in COLUMNS:
        headers.append(label)
        if key == PERPLEXITY:
            headers.append("vs input")
        if key == SPEED:
            headers.append("x input")
    headers += ["ppl goal (3%)", ""]
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(record)]
    refused = [c for c in record["candidates"] if c["error"] is not None]
    if refused:
        lines.append("")
        lines.append(f"{len(refused)} candidate(s) refused:")
        for candidate in refused:
            reason = re.sub(r"'[^']*'", "it", candidate["error"].split("failed: ", 1)[-1]).split(": quantized ops")[0]
            lines.append(f"- {describe(candidate['configs'])}: {reason.strip()[:160]}")
    return "\n".join(lines)


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "output" / "run.json"
    print(markdown(json.loads(path.read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
