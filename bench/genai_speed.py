"""Generation speed: a SmolLM-135M-shaped Llama in PyTorch and in ONNX Runtime GenAI, four ways.

Variants: PyTorch FP32 eager greedy decoding with its key/value cache (the baseline, olive-genai's
TorchLanguageModel) | our GenAIModelBuilder output in fp32 | the same pass's int4 output (its
defaults: RTN, block 32, symmetric, accuracy level 4), both made by ``olive_core.run`` | the same
model made by hand with the builder's command line (``python -m onnxruntime_genai.models.builder
-i HF -o OUT -p int4 -e cpu``). The weights are random (seeded): speed does not depend on them,
and nothing is downloaded. Every variant generates from the same prompt in this one process
with 2 threads, batch 1, variants interleaved round by round; the figures are time to first
token (the prompt's forward pass and the first pick) and decode tokens per second (the tokens
after the first over the time they took).

    python bench/genai_speed.py [--smoke] [--rounds 7] [--repeats 2]
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

import harness

#: LlamaForCausalLM with SmolLM-135M's dimensions (its config.json; weights are random here)
SMOLLM_135M = {
    "hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30,
    "num_attention_heads": 9, "num_key_value_heads": 3, "vocab_size": 49152,
    "max_position_embeddings": 2048, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True,
}  # fmt: skip
#: the smoke run's model: the same code paths in seconds
SMOKE = {
    "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
    "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 256,
    "max_position_embeddings": 128, "rms_norm_eps": 1e-5, "rope_theta": 10000.0, "tie_word_embeddings": True,
}  # fmt: skip
BASELINE = "pytorch-fp32"
OURS_FP32, OURS_INT4, BY_HAND = "ours-fp32", "ours-int4", "builder-cli-int4"
TARGET_DECODE, TARGET_VS_HAND = 3.0, 0.05


def make_hf_model(folder: Path, shape: dict[str, Any]) -> None:
    """A random-weight LlamaForCausalLM (seed 0) and a word-level tokenizer over its vocabulary.

    The builder needs tokenizer files in the folder; the benchmark feeds token ids, so any
    tokenizer of the right size does.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    torch.manual_seed(0)
    config = LlamaConfig(**shape, bos_token_id=1, eos_token_id=2, pad_token_id=3)
    LlamaForCausalLM(config).save_pretrained(folder)
    words = ["<unk>", "<s>", "</s>", "<pad>"] + [f"w{i}" for i in range(shape["vocab_size"] - 4)]
    tokenizer = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    ).save_pretrained(folder)


def ours(precision: str, hf_folder: Path, work: Path) -> tuple[Path, dict[str, Any]]:
    """GenAIModelBuilder with its defaults and this precision, through olive_core.run; the model's
    folder, and how long the run and the pass took (the pass is "cached" when work/ kept it)."""
    logging.getLogger("olive_core").setLevel(logging.WARNING)
    workflow = {
        "input_model": {"type": "hf", "config": {"model_path": str(hf_folder), "task": "text-generation"}},
        "passes": {"build": {"type": "GenAIModelBuilder", "config": {"precision": precision}}},
        "engine": {"log_level": "warning", "evaluate_input_model": False},
    }
    result, seconds = harness.run_ours(f"ours-{precision}", workflow, work)
    folder = next(iter(result.written))
    step = next(record for record in result.steps.values() if record.step == "build")
    made = {"seconds": seconds, "pass": step.status, "pass_seconds": step.seconds}
    return work / f"ours-{precision}" / folder, made


def by_hand(hf_folder: Path, out: Path) -> tuple[Path, float]:
    """The builder's command line as its README gives it: int4 for the CPU, every other option default."""
    command = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(hf_folder), "-o", str(out),
               "-p", "int4", "-e", "cpu", "-c", str(out.parent / "builder-cache")]  # fmt: skip
    return out, harness.time_command(command, env=harness.env_offline())


def graph_summary(folder: Path) -> dict[str, Any]:
    """What decides a decoder's speed, read from its graph: op counts and the quantized ops' settings."""
    import onnx
    from olive_genai.genai_config import read_genai_config

    decoder = read_genai_config(folder)["model"]["decoder"]["filename"]
    graph = onnx.load(folder / decoder, load_external_data=False).graph
    ops: dict[str, int] = {}
    quantized = set()
    for node in graph.node:
        ops[node.op_type] = ops.get(node.op_type, 0) + 1
        if node.op_type in ("MatMulNBits", "GatherBlockQuantized"):
            settings = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            quantized.add(
                f"{node.op_type} " + ", ".join(f"{k}={v}" for k, v in sorted(settings.items()) if k not in ("K", "N"))
            )
    return {"ops": dict(sorted(ops.items())), "quantized": sorted(quantized)}


def folder_mib(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def measure(
    models: dict[str, Any], prompt: Any, new_tokens: int, rounds: int, repeats: int, warmup: int
) -> dict[str, dict[str, harness.Timings]]:
    """Per variant: time to first token (ms), decode tokens/s and whole-call ms, round by round.

    Each round runs every variant (rotating which goes first): ``warmup`` untimed generations,
    then ``repeats`` timed ones. harness.interleave times whole calls; here one call yields
    three figures, so the same rotation is written out.
    """
    figures = {name: {"ttft_ms": harness.Timings(), "decode_tps": harness.Timings(), "total_ms": harness.Timings()}
               for name in models}  # fmt: skip
    for index, order in enumerate(harness.rotations(list(models), rounds)):
        for name in order:
            model = models[name]
            for _ in range(warmup):
                model.generate(prompt, new_tokens)
            ttft, tps, total = [], [], []
            for _ in range(repeats):
                start = time.perf_counter()
                generation = model.generate(prompt, new_tokens)
                total.append((time.perf_counter() - start) * 1000.0)
                ttft.append(generation.first_token_s * 1000.0)
                tps.append(len(generation.decode_s) / sum(generation.decode_s))
            for key, values in (("ttft_ms", ttft), ("decode_tps", tps), ("total_ms", total)):
                figures[name][key].rounds.append(values)
        print(f"round {index + 1}/{rounds}: load {harness.load_average()}", flush=True)
    return figures


def agreement(tokens: Any, reference: Any) -> dict[str, Any]:
    """Share of greedy tokens equal to PyTorch's, and the first step where they differ."""
    same = tokens[0] == reference[0]
    first = int(same.argmin()) if not same.all() else None
    return {"share": float(same.mean()), "first_divergence": first}


def main() -> int:
    def add(parser: Any) -> None:
        parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 7; smoke 1)")
        parser.add_argument("--repeats", type=int, default=None, help="timed generations per variant and round (2; 1)")
        parser.add_argument("--warmup", type=int, default=1, help="untimed generations per variant and round")
        parser.add_argument("--prompt-tokens", type=int, default=None, help="prompt length (128; smoke 16)")
        parser.add_argument("--new-tokens", type=int, default=None, help="tokens generated (128; smoke 8)")
        parser.add_argument("--threads", type=int, default=2, help="intra-op threads of every runtime")

    args = harness.arguments(__doc__.split("\n\n")[0], add)
    import numpy as np
    from olive_genai.genai_config import read_genai_config
    from olive_genai.language_model import TorchLanguageModel
    from olive_genai.runtime import GenAISession

    shape = SMOKE if args.smoke else SMOLLM_135M
    rounds = args.rounds or (1 if args.smoke else 7)
    repeats = args.repeats or (1 if args.smoke else 2)
    prompt_tokens = args.prompt_tokens or (16 if args.smoke else 128)
    new_tokens = args.new_tokens or (8 if args.smoke else 128)
    settings = {"smoke": args.smoke, "shape": shape, "rounds": rounds, "repeats": repeats, "warmup": args.warmup,
                "prompt_tokens": prompt_tokens, "new_tokens": new_tokens, "batch_size": 1, "threads": args.threads}  # fmt: skip
    report = harness.Report("genai_speed", settings)

    work = args.work_dir / ("genai_speed-smoke" if args.smoke else "genai_speed")
    hf_folder = work / "hf"
    if not (hf_folder / "model.safetensors").is_file():
        print(f"building: a random-weight Llama of shape {shape}", flush=True)
        make_hf_model(hf_folder, shape)
    made: dict[str, dict[str, Any]] = {}
    folders: dict[str, Path] = {}
    for precision, name in (("fp32", OURS_FP32), ("int4", OURS_INT4)):
        print(f"building: {name} (GenAIModelBuilder through olive_core.run)", flush=True)
        folders[name], timing = ours(precision, hf_folder, work)
        made[name] = {"how": f"GenAIModelBuilder precision={precision}, other options default", **timing}
    print(f"building: {BY_HAND} (the builder's command line)", flush=True)
    folders[BY_HAND], seconds = by_hand(hf_folder, work / BY_HAND)
    made[BY_HAND] = {
        "how": "python -m onnxruntime_genai.models.builder -i HF -o OUT -p int4 -e cpu",
        "seconds": seconds,
    }

    import torch
    from transformers import LlamaForCausalLM

    runtime = {"intra_op_num_threads": args.threads, "inter_op_num_threads": 1}
    module = LlamaForCausalLM.from_pretrained(hf_folder, dtype=torch.float32).eval()
    settings["torch_attention"] = module.config._attn_implementation
    models: dict[str, Any] = {BASELINE: TorchLanguageModel(module, runtime)}
    for name, folder in folders.items():
        models[name] = GenAISession(folder, read_genai_config(folder), runtime)

    prompt = np.random.default_rng(0).integers(4, shape["vocab_size"], size=(1, prompt_tokens), dtype=np.int64)
    reference = models[BASELINE].generate(prompt, new_tokens).tokens
    figures = measure(models, prompt, new_tokens, rounds, repeats, args.warmup)

    variants: dict[str, dict[str, Any]] = {}
    for name, timings in figures.items():
        own: dict[str, Any] = {key: timing.summary() for key, timing in timings.items()}
        # the slow tail of tokens/s is its low percentile
        own["decode_tps"]["p10"] = float(np.percentile(timings["decode_tps"].samples, 10))
        own["agreement_with_pytorch"] = agreement(models[name].generate(prompt, new_tokens).tokens, reference)
        own["mib"] = folder_mib(folders[name]) if name in folders else None
        # speed-ups, paired by round: PyTorch's TTFT over ours (higher is faster), our tokens/s over PyTorch's
        own["ttft_speedup"] = harness.paired_ratio(figures[BASELINE]["ttft_ms"], timings["ttft_ms"])
        own["decode_speedup"] = harness.paired_ratio(timings["decode_tps"], figures[BASELINE]["decode_tps"])
        if name == OURS_INT4:  # the hand-made model is INT4 too: only this comparison is like for like
            own["ttft_vs_hand"] = harness.paired_ratio(figures[BY_HAND]["ttft_ms"], timings["ttft_ms"])
            own["decode_vs_hand"] = harness.paired_ratio(timings["decode_tps"], figures[BY_HAND]["decode_tps"])
        variants[name] = own
    graphs = {name: graph_summary(folder) for name, folder in folders.items()}
    # the same ops with the same settings: then any speed difference between the two is noise
    same = graphs[OURS_INT4] == graphs[BY_HAND]
    report.figures = {"variants": variants, "how_made": made, "graphs": graphs, "int4_same_graph_as_hand": same}
    report.figures["table"] = render_table(variants)
    report.figures["targets"] = targets(variants)
    print()
    print(report.figures["table"])
    print()
    for line in report.figures["targets"]:
        print(f"- {line}")
    report.write(args.results_dir)
    return 0


def render_table(variants: dict[str, dict[str, Any]]) -> str:
    headers = ["variant", "TTFT p50 ms", "TTFT spread", "decode tok/s p50", "tok/s p10", "tok/s spread",
               "TTFT x PyTorch", "decode x PyTorch", "same tokens as PyTorch", "MiB"]  # fmt: skip
    rows = []
    for name, own in variants.items():
        decode = own["decode_tps"]
        tokens = own["agreement_with_pytorch"]
        rows.append([
            name, own["ttft_ms"]["p50"], f"{own['ttft_ms']['spread_pct']:.0f}%", decode["p50"],
            decode["p10"],
            f"{decode['spread_pct']:.0f}%", harness.ratio_text(own["ttft_speedup"]), harness.ratio_text(own["decode_speedup"]),
            f"{tokens['share']:.0%}" + (f" (first differs at {tokens['first_divergence']})" if tokens["first_divergence"] is not None else ""),
            own["mib"],
        ])  # fmt: skip
    return harness.table(headers, rows)


def targets(variants: dict[str, dict[str, Any]]) -> list[str]:
    """The three targets, each said met or NOT met with its figure (never enforced)."""
    int4 = variants[OURS_INT4]
    lines = []
    decode = int4["decode_speedup"]["median"]
    lines.append(f"{OURS_INT4} decodes at {decode:.2f}x PyTorch's tokens/s: target >= {TARGET_DECODE:.0f}x "
                 f"{'met' if decode >= TARGET_DECODE else 'NOT met'}")  # fmt: skip
    ttft = int4["ttft_speedup"]["median"]
    lines.append(f"{OURS_INT4} time to first token is {ttft:.2f}x PyTorch's speed: target no worse (>= 1x) "
                 f"{'met' if ttft >= 1.0 else 'NOT met'}")  # fmt: skip
    for key, what in (("decode_vs_hand", "decode tokens/s"), ("ttft_vs_hand", "time to first token")):
        value = int4[key]["median"]
        lines.append(f"{OURS_INT4} {what} at {value:.2f}x the hand-made builder model's speed: target within "
                     f"{TARGET_VS_HAND:.0%} {'met' if value >= 1 - TARGET_VS_HAND else 'NOT met'}")  # fmt: skip
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
