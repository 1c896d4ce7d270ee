"""Print the comparison the README shows, from output/run.json; with ``--run``, run the workflow first.

``--run`` runs ``olive run workflow.json`` and notes the CPU's relevant instruction sets and the
load average before and after it in output/machine.json: speed on a shared machine means little
without them. One row per model: the input (PyTorch FP32), then every candidate of the run, named by how it
was made. Perplexity is on the held-out stories, agreement and divergence against the input
model's greedy continuations, speed is ONNX Runtime GenAI's (PyTorch's for the input).
Candidates the passes refused (quantizing a model that is already INT4) are listed below the
table with their reason.

    python report.py --run     # olive run workflow.json, then the table
    python report.py           # the table of the last run
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
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
        zero_points = ", asymmetric" if not quantize["symmetric"] and quantize["algorithm"] != "hqq" else ""
        name += f" -> {quantize['algorithm']} (block {quantize['block_size']}{zero_points})"
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


def machine() -> dict[str, Any]:
    """The CPU flags speed depends on (VNNI for int8 activations) and the load average now."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    flags = sorted(set(re.findall(r"\b(avx512_vnni|avx_vnni|avx2|amx_int8)\b", text)))
    model = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    load = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else []
    return {"cpu": model.group(1) if model else "", "flags": flags, "cpus": os.cpu_count(), "load": load}


def run_workflow(output: Path) -> int:
    """``olive run workflow.json`` with the machine noted before and after."""
    olive = shutil.which("olive", path=str(Path(sys.executable).parent)) or "olive"
    before, started = machine(), time.time()
    done = subprocess.run([olive, "run", str(HERE / "workflow.json")], cwd=HERE, check=False)
    after = machine()
    facts = {"cpu": before["cpu"], "flags": before["flags"], "cpus": before["cpus"], "load_before": before["load"],
             "load_after": after["load"], "seconds": round(time.time() - started)}  # fmt: skip
    if done.returncode == 0:
        (output / "machine.json").write_text(json.dumps(facts, indent=1) + "\n")
    return done.returncode


def provenance(output: Path) -> str:
    path = output / "machine.json"
    if not path.is_file():
        return "(machine not recorded: run `python report.py --run`)"
    facts = json.loads(path.read_text())
    return (
        f"{facts['cpu']} ({facts['cpus']} CPUs, {', '.join(facts['flags'])}); load average "
        f"{facts['load_before'][0]} before / {facts['load_after'][0]} after the {facts['seconds']} s run"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="run the workflow first (olive run workflow.json)")
    parser.add_argument("--output", type=Path, default=HERE / "output", help="the run's output folder")
    args = parser.parse_args()
    if args.run and (code := run_workflow(args.output)) != 0:
        return code
    print(provenance(args.output))
    print()
    print(markdown(json.loads((args.output / "run.json").read_text(encoding="utf-8"))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
