"""Which sensitivity measure picks the MiniLM nodes to keep in float best (exclude.most_sensitive).

For each measure of olive_onnx.sensitivity, the ranking is computed on 16 of the example's
sentences (the calibration data of examples/minilm/search.json), on the ORT-fused FP32 graph;
then the K top-ranked nodes are kept in float by ORT's dynamic per-channel quantizer and the
sentence embeddings of all 64 sentences are compared with the FP32 model's (cosine mean/min).
The better measure reaches a given cosine with fewer float nodes. No timing: quality only.

    python bench/sensitivity_measures.py [--smoke]
"""

from __future__ import annotations

import os
import time

import harness
import minilm
import numpy as np
import ort_hand_tuned

KS = (0, 1, 2, 3, 4, 6, 8, 12)
MEASURES = ("one_at_a_time", "qdq_loss", "activation_range")


def main() -> int:
    args = harness.arguments(__doc__.split("\n\n")[0])
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from olive_onnx.exclusion import quantizable_nodes
    from olive_onnx.files import load_model
    from olive_onnx.sensitivity import rank
    from onnxruntime.quantization import quantize_dynamic

    ks = KS[:2] if args.smoke else KS
    report = harness.Report("sensitivity_measures", {"smoke": args.smoke, "k": list(ks), "measures": list(MEASURES)})
    work = args.work_dir / "sensitivity_measures"
    work.mkdir(parents=True, exist_ok=True)
    fused = work / "fused.onnx"
    if not fused.exists():
        ort_hand_tuned.fuse(ort_hand_tuned.export(work / "exported.onnx"), fused)
    texts = minilm.sentences(16 if args.smoke else None)
    calibration = minilm.tokenize(texts[:16], 8)
    evaluation = minilm.tokenize(texts, 8)
    reference = minilm.onnx_runner("fp32", fused).embeddings(evaluation)
    proto = load_model(fused)
    nodes = quantizable_nodes(proto, None)
    measures: dict[str, object] = {}
    for measure in MEASURES:
        started = time.perf_counter()
        options = {"measure": measure, "per_channel": True, "static": False}
        ranking, _ = rank(proto, fused, nodes, lambda: calibration, options)
        seconds = time.perf_counter() - started
        rows = []
        for k in ks:
            target = work / f"{measure}-{k}.onnx"
            quantize_dynamic(
                str(fused),
                str(target),
                per_channel=True,
                nodes_to_exclude=[name for name, _ in ranking[:k]],
                extra_options={"DefaultTensorType": 1},
            )
            cos = minilm.cosines(minilm.onnx_runner(target.name, target).embeddings(evaluation), reference)
            rows.append({"k": k, **cos})
            print(f"{measure:18s} K={k:2d} cosine mean {cos['cosine_mean']:.5f} min {cos['cosine_min']:.5f}", flush=True)
        measures[measure] = {"seconds": round(seconds, 1), "top": ranking[:12], "rows": rows}
    headers = ["measure", *(f"K={k} mean / min" for k in ks), "ranking s"]
    table_rows = [
        [name, *(f"{r['cosine_mean']:.5f} / {r['cosine_min']:.4f}" for r in m["rows"]), m["seconds"]]
        for name, m in measures.items()
    ]
    report.figures.update(nodes=len(nodes), measures=measures, table=harness.table(headers, table_rows))
    print(report.figures["table"])
    report.write(args.results_dir)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    raise SystemExit(main())
