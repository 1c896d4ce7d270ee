"""Write the results tables into bench/README.md from bench/results/*.json.

The README's figures are never typed by hand: this script replaces what lies between the
``<!-- results:start -->`` and ``<!-- results:end -->`` markers. ``make -C bench all`` runs it last.

    python bench/report.py [--results-dir DIR] [--readme PATH]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import harness
from harness import BENCH, RESULTS
from search_efficiency import describe_point

START, END = "<!-- results:start -->", "<!-- results:end -->"


def load(results_dir: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: json.loads(path.read_text()) for path in sorted(results_dir.glob("*.json"))}


def provenance(result: dict[str, Any]) -> str:
    machine, load = result["machine"], result["load_average"]
    versions = ", ".join(f"{k} {v}" for k, v in result["versions"]["this"].items())
    smoke = " **SMOKE SETTINGS: the figures mean nothing**" if result["settings"].get("smoke") else ""
    return (
        f"_{result['started']}, {machine['cpu']} ({machine['logical_cpus']} logical CPUs, "
        f"{', '.join(machine['cpu_flags'])}), load average {load['start'][0]} at start / {load['end'][0]} at end, "
        f"{result['seconds']:.0f} s, commit {result['git']['commit'][:10]}{' (dirty)' if result['git']['dirty'] else ''}. "
        f"{versions}.{smoke}_"
    )


def quality(result: dict[str, Any]) -> str:
    figures = result["figures"]
    variants = figures["variants"]
    lines = [figures["table"], ""]
    if "olive-ai" in variants:
        lines.append("Speed-ups vs olive-ai's output (median over rounds of paired p50 ratios, min-max):")
        lines.append("")
        for name, own in variants.items():
            if name in ("pytorch-fp32", "olive-ai"):
                continue
            cells = [f"{s} {harness.ratio_text(own[f'{s}_speedup_vs_olive_ai'])}" for s in ("b1", "b8")]
            lines.append(f"- {name}: {', '.join(cells)}")
        lines.append("")
    made = figures.get("how_made", {})
    lines.append("What each search chose:")
    lines.append("")
    for name, own in made.items():
        if name.startswith("ours-search-best"):
            lines.append(f"- `{name}`: {describe_point(own['point'])}")
    lines.append("")
    if "ort-hand-tuned" in made:
        tuned = made["ort-hand-tuned"]
        lines.append(f"Hand-tuned ORT chose `{tuned['chosen']}` ({tuned['why']}). Every setting it tried:")
        lines.append("")
        lines.append("| setting | cosine mean | cosine min | screen b8 p50 ms |")
        lines.append("|---|---|---|---|")
        for name, tried in tuned["tried"].items():
            if "error" in tried:
                lines.append(f"| {name} | failed: {tried['error'][:80]} | | |")
            else:
                lines.append(
                    f"| {name} | {tried['cosine_mean']:.4f} | {tried['cosine_min']:.4f} | {tried['screen_b8_p50_ms']:.1f} |"
                )
        lines.append("")
    return "\n".join(lines + target_lines(figures))


def nevergrad_note(figures: dict[str, Any]) -> str:
    proposals = figures.get("nevergrad_proposals")  # older results files did not record it
    counted = f"{proposals} proposals, " if proposals else ""
    return f" (nevergrad: {counted}repeats told without running)"


def target_lines(figures: dict[str, Any]) -> list[str]:
    return ["Targets:", ""] + [f"- {line}" for line in figures["targets"]]


def overhead(result: dict[str, Any]) -> str:
    return result["figures"]["table"]


def search(result: dict[str, Any]) -> str:
    parts = []
    for name, figures in result["figures"].items():
        unit = " ms" if name.startswith("minilm") else ""
        reach = "the exact optimum" if figures.get("tolerance") == 0 else "the tolerance"
        measured = figures.get("measured")
        earlier = (
            f" _Measured by an earlier run: {measured['started']}, commit {measured['git']['commit'][:10]}, load average "
            f"{measured['load_average']['start'][0]}, {', '.join(measured['cpu_flags'] or [])}._"
            if measured
            else ""
        )
        parts.append(
            f"**{name}**: {figures['space_size']} points, {figures['feasible_points']} feasible "
            f"({figures['failed_or_infeasible_points']} failed or missed the goal); exhaustive optimum "
            f"{figures['optimum']:.4g}{unit} at {describe_point(figures['optimum_point'])}; worst feasible "
            f"{figures['worst_feasible']:.4g}{unit}; other strategies: {figures['seeds']} seeds x up to {figures['budget']} "
            f"trials{'' if measured else nevergrad_note(figures)}. "
            f"Columns `gap / reached @N`: median gap after N trials / share of seeds within {reach}.{earlier}"
        )
        parts.append("")
        parts.append(figures["table"])
        parts.append("")
    return "\n".join(parts)


def genai(result: dict[str, Any]) -> str:
    figures = result["figures"]
    settings = result["settings"]
    shape = settings["shape"]
    lines = [
        (
            f"LlamaForCausalLM, hidden {shape['hidden_size']}, {shape['num_hidden_layers']} layers, "
            f"{shape['num_attention_heads']} heads / {shape['num_key_value_heads']} KV heads, intermediate "
            f"{shape['intermediate_size']}, vocab {shape['vocab_size']} (random weights); batch {settings['batch_size']}, "
            f"prompt {settings['prompt_tokens']} tokens, {settings['new_tokens']} new tokens, {settings['threads']} threads, "
            f"{settings['rounds']} rounds x {settings['repeats']} timed generations per variant (after {settings['warmup']} "
            "untimed). Ratios: median over rounds of paired per-round medians (min-max); for TTFT, PyTorch's time "
            "over the variant's (above 1 is faster)."
        ),
        "",
        figures["table"],
        "",
    ]
    vs_hand = [(name, own) for name, own in figures["variants"].items() if "decode_vs_hand" in own]
    if vs_hand:
        graph = figures["graphs"]["ours-int4"]
        same = "the same graph as" if figures["int4_same_graph_as_hand"] else "a different graph from"
        lines.append(
            f"ours-int4 is {same} the hand-made model ({', '.join(f'{n} {op}' for op, n in graph['ops'].items())}; "
            f"{'; '.join(graph['quantized'])})."
        )
        lines.append("")
        lines.append("Against the model made by hand with the builder's command line (paired, min-max):")
        lines.append("")
        for name, own in vs_hand:
            lines.append(
                f"- {name}: decode tokens/s {harness.ratio_text(own['decode_vs_hand'])}, "
                f"time to first token {harness.ratio_text(own['ttft_vs_hand'])}"
            )
        lines.append("")
    return "\n".join(lines + target_lines(figures))


def optimize_vs_demo(result: dict[str, Any]) -> str:
    figures = result["figures"]
    chain = " -> ".join(f"{s['step']} ({s['pass']})" for s in figures["variants"]["optimize"]["chain"])
    same = {key: "yes" if figures[key] else "no" for key in ("same_model_file", "same_chain")}
    commands, seconds = figures["commands"], figures["command_seconds"]
    lines = [
        figures["table"],
        "",
        f"- {figures['target']} (median over rounds of paired p50 ratios, min-max)",
        f"- same model file: {same['same_model_file']}; same passes and configs: {same['same_chain']} ({chain})",
        f"- commands: `olive {commands['demo']}` ({seconds['demo']} s), `olive {commands['optimize']}` ({seconds['optimize']} s)",
    ]
    return "\n".join(lines)


def dask_overhead(result: dict[str, Any]) -> str:
    figures = result["figures"]
    toy, lines = figures["toy"], [figures["table"], ""]
    lines.append(
        f"- toy objective, {toy['trials']['small']} and {toy['trials']['large']} trials per run (slope, so the "
        f"LocalCluster's start and stop, {toy['dask_fixed_ms']['median']:.0f} ms, drop out); target <= "
        f"{toy['target_ms']:.0f} ms per trial; same results as inline: {'yes' if toy['same_results'] else 'no'}"
    )
    if "minilm" in figures:
        minilm = figures["minilm"]
        walls = minilm["wall_s"]
        lines.append(
            f"- MiniLM search ({minilm['trials']} trials): inline {walls['inline']:.0f} s, LocalCluster of 2 workers "
            f"{walls['dask']:.0f} s (inline/dask {minilm['speedup_dask_over_inline']:.2f}); same candidates: "
            f"{'yes' if minilm['same_candidates'] else 'no'}, same best: {'yes' if minilm['same_best'] else 'no'}"
        )
    return "\n".join(lines)


def sensitivity(result: dict[str, Any]) -> str:
    figures = result["figures"]
    return (
        f"MiniLM fused, {figures['nodes']} candidate nodes; the K top-ranked kept in float by ORT's dynamic "
        "per-channel quantizer; cosine of the sentence embeddings against the FP32 model on the 64 example "
        "sentences (mean / min); ranking time on this machine.\n\n" + figures["table"]
    )


SECTIONS = (
    ("minilm_quality", "Output model quality (`python bench/minilm_quality.py`)", quality),
    ("tool_overhead", "Tool overhead (`python bench/tool_overhead.py`)", overhead),
    ("search_efficiency", "Search efficiency (`python bench/search_efficiency.py`)", search),
    ("genai_speed", "Generation speed (`python bench/genai_speed.py`)", genai),
    ("optimize_vs_demo", "`olive optimize` vs the demo workflow (`python bench/optimize_vs_demo.py`)", optimize_vs_demo),
    ("dask_overhead", "Dask executor overhead (`python bench/dask_overhead.py`)", dask_overhead),
    ("sensitivity_measures", "Sensitivity measures for `exclude.most_sensitive` (`python bench/sensitivity_measures.py`)", sensitivity),
)


def render(results: dict[str, dict[str, Any]]) -> str:
    blocks = []
    for name, title, body in SECTIONS:
        blocks.append(f"### {title}\n")
        if name not in results:
            blocks.append(f"_No results yet: run `make -C bench {name}`._\n")
            continue
        blocks.append(provenance(results[name]) + "\n")
        blocks.append(body(results[name]) + "\n")
        for note in results[name].get("notes", []):
            blocks.append(f"> note: {note}\n")
    return "\n".join(blocks)


def update(readme: Path, text: str) -> None:
    content = readme.read_text()
    if START not in content or END not in content:
        raise SystemExit(f"{readme} has no {START} ... {END} markers")
    before, rest = content.split(START, 1)
    _, after = rest.split(END, 1)
    readme.write_text(f"{before}{START}\n{text}\n{END}{after}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results-dir", type=Path, default=RESULTS)
    parser.add_argument("--readme", type=Path, default=BENCH / "README.md")
    args = parser.parse_args()
    update(args.readme, render(load(args.results_dir)))
    print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
