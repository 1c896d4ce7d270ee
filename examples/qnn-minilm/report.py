"""Print the example's table from output/run.json: NPU coverage and cosine (vs PyTorch) for each candidate.

    python report.py [output/run.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def rows(record: dict) -> list[tuple[str, ...]]:
    """One row for the input model, then one per candidate, best first."""
    steps = record["models"]
    best = {entry["candidate"] for entry in record["best"]}
    # the reference every cosine is against: the input PyTorch model, run on the CPU
    table = [("PyTorch FP32 (reference, CPU)", "-", "-", "1", "1", "", "")]
    for candidate in sorted(record["candidates"], key=lambda c: c["index"] not in best):
        quantize = candidate["configs"]["quantize"]
        label = f"{quantize['activation_type']} act / {quantize['weight_type']} wt" + (" (best)" if candidate["index"] in best else "")
        if candidate["error"]:
            table.append((label, "failed", "", "", "", "", candidate["error"].splitlines()[0]))
            continue
        compiled = next((steps[m] for m in candidate["lineage"] if steps[m]["step"] == "compile"), {})
        report = compiled.get("report", {})
        table.append((label, *_metrics(candidate["metrics"]["values"]), f"{report.get('compile_seconds', 0):.1f}", str(report.get("ep_sdk_version", ""))))
    return table


def _metrics(values: dict) -> tuple[str, ...]:
    return (
        f"{values['npu-coverage']:.0%}",
        f"{values['npu-cpu_nodes']:.0f}",
        f"{values['similarity-cosine_mean']:.4f}",
        f"{values['similarity-cosine_min']:.4f}",
    )


def main() -> int:
    record = json.loads(Path(sys.argv[1] if len(sys.argv) > 1 else HERE / "output" / "run.json").read_text())
    header = ("model", "NPU coverage", "CPU nodes", "cosine mean", "cosine min", "compile s", "QNN SDK")
    table = [header, *rows(record)]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for row in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    accelerator = record["accelerators"][0]
    if accelerator.get("simulated"):
        print(f"\n{accelerator['key']}: simulated on this host (HTP simulator); cosine is vs the PyTorch model on the CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
