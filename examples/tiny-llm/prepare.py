"""Build the example's language model and its text files in about two minutes, offline.

The model is a small Llama (4 layers, hidden 256, 8 query heads sharing 2 key/value heads, 3.3 M
parameters) with a byte-level BPE tokenizer trained here, taught on one CPU thread to continue
short stories made from templates (seeded: every run builds the same files). The stories have
structure at every range: words that follow each other (counts agree with plurals, counting
goes on in order, "two and three make five"), facts (each object has its one color), and a last
sentence that recalls where a person put a thing, copied from the start of the line. Two minutes
teach the local structure (held-out perplexity falls from ~550 to ~3) but hardly the facts or
the recall; the script prints how far it got. That is enough for perplexity to mean something:
a quantization that damages the model shows up in it.

Writes build/model/ (an HF folder: config, safetensors weights, tokenizer), build/heldout.txt
(perplexity), build/calibration.txt (GPTQ) and build/prompts.txt (generation), one story a line.

    python prepare.py [--steps N] [--threads N] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

NUMBERS = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
]  # fmt: skip
OBJECTS = [
    "apple", "ball", "cup", "hat", "box", "book", "shoe", "kite", "lamp", "key", "pen", "sock",
    "coat", "bell", "drum", "fish", "bird", "frog", "cake", "star",
]  # fmt: skip
COLORS = [
    "red", "blue", "green", "yellow", "white", "black", "brown", "pink", "orange", "purple", "gray", "gold",
]  # fmt: skip
PEOPLE = [
    "anna", "ben", "carl", "dora", "emma", "finn", "gina", "hugo", "iris", "jack", "kate", "leo",
    "mia", "noah", "olga", "paul",
]  # fmt: skip
PLACES = [
    "box", "bag", "drawer", "basket", "garden", "kitchen", "car", "shed", "closet", "attic",
]  # fmt: skip
#: special tokens, in id order: the Llama config below names them by these ids
SPECIAL = ["<unk>", "<s>", "</s>", "<pad>"]
SEQUENCE = 128  # tokens per training block; the model's context is twice that


def plural(word: str) -> str:
    return word + ("es" if word.endswith(("x", "sh", "ch", "s")) else "s")


def colors_of_objects(seed: int = 0) -> dict[str, str]:
    """The fixed facts of this little world: every object has one color."""
    rng = random.Random(seed)
    return {thing: rng.choice(COLORS) for thing in OBJECTS}


def sentence(rng: random.Random, colors: dict[str, str]) -> str:
    """One sentence of a kind the model can learn from the words before it."""
    kind = rng.randrange(4)
    person, thing = rng.choice(PEOPLE), rng.choice(OBJECTS)
    if kind == 0:
        return f"the {thing} is {colors[thing]} ."
    if kind == 1:
        count = rng.randrange(1, 13)
        noun = thing if count == 1 else plural(thing)
        return f"{person} has {NUMBERS[count]} {colors[thing]} {noun} ."
    if kind == 2:
        start = rng.randrange(1, 16)
        return f"{person} counts " + " ".join(NUMBERS[start : start + rng.randrange(3, 6)]) + " ."
    a, b = rng.randrange(0, 10), rng.randrange(0, 10)
    return f"{NUMBERS[a]} and {NUMBERS[b]} make {NUMBERS[a + b]} ."


def story(rng: random.Random, colors: dict[str, str]) -> str:
    """A line: a person puts a thing somewhere, a few sentences pass, the line recalls where."""
    person, thing, place = rng.choice(PEOPLE), rng.choice(OBJECTS), rng.choice(PLACES)
    middle = " ".join(sentence(rng, colors) for _ in range(rng.randrange(2, 5)))
    return (
        f"{person} put the {colors[thing]} {thing} in the {place} . {middle} "
        f"later {person} found the {thing} in the {place} ."
    )


def stories(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    colors = colors_of_objects()
    return [story(rng, colors) for _ in range(count)]


def train_tokenizer(texts: list[str], folder: Path, vocab_size: int = 512) -> None:
    """A byte-level BPE tokenizer (GPT-2's scheme), saved as transformers saves a fast tokenizer.

    Byte-level BPE is what ONNX Runtime GenAI's own tokenizer reads from tokenizer.json, so the
    built genai folders tokenize text by themselves too.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE(unk_token=None))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    fast.save_pretrained(folder)


def token_blocks(texts: list[str], tokenizer, length: int):
    """The stories' tokens joined by ``</s>`` and cut into blocks of ``length`` tokens: the same
    stream olive-genai's text_blocks makes for perplexity, so training and measuring agree."""
    import torch

    ids: list[int] = []
    for story_ids in tokenizer(texts, add_special_tokens=False)["input_ids"]:
        ids += [*story_ids, tokenizer.eos_token_id]
    usable = len(ids) // length * length
    return torch.tensor(ids[:usable]).view(-1, length)


def build_model(vocab_size: int):
    from transformers import LlamaConfig, LlamaForCausalLM

    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=256,
        intermediate_size=768,
        num_hidden_layers=4,
        num_attention_heads=8,
        num_key_value_heads=2,
        max_position_embeddings=2 * SEQUENCE,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=3,
        tie_word_embeddings=False,
    )
    return LlamaForCausalLM(config)


def train(model, blocks, steps: int, batch_size: int = 8, lr: float = 3e-3) -> list[float]:
    """AdamW with a linear warm-up and a cosine decay; the loss of every step."""
    import torch

    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01, betas=(0.9, 0.95))
    warmup = max(1, steps // 20)

    def rate(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    generator = torch.Generator().manual_seed(0)
    losses = []
    model.train()
    for _ in range(steps):
        batch = blocks[torch.randint(len(blocks), (batch_size,), generator=generator)]
        loss = model(input_ids=batch, labels=batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    model.eval()
    return losses


def perplexity(model, blocks) -> float:
    import torch

    with torch.inference_mode():
        losses = [float(model(input_ids=block[None], labels=block[None]).loss) for block in blocks]
    return math.exp(sum(losses) / len(losses))


def greedy(model, prompt: list[int], new_tokens: int) -> list[int]:
    import torch

    with torch.inference_mode():
        out = model.generate(torch.tensor([prompt]), max_new_tokens=new_tokens, do_sample=False)
    return out[0, len(prompt) :].tolist()


def facts(model, tokenizer) -> float:
    """Share of objects whose one color the model names after "... . the apple is"."""
    colors = colors_of_objects()
    opening = f"anna put the {colors['ball']} ball in the box ."
    right = 0
    for thing, color in colors.items():
        prompt = tokenizer(f"{opening} the {thing} is", add_special_tokens=False)["input_ids"]
        wanted = tokenizer(f" {color}", add_special_tokens=False)["input_ids"]
        right += greedy(model, [tokenizer.eos_token_id, *prompt], len(wanted)) == wanted
    return right / len(colors)


def recall(model, tokenizer, texts: list[str]) -> float:
    """Share of stories whose last words the model gets right from the start of the line alone:
    given "... later anna found the", greedy decoding must say "cup in the bag ." (copied from
    the story's first sentence, many tokens back)."""
    right = 0
    for text in texts:
        head, tail = text.rsplit(" found the ", 1)
        prompt = [tokenizer.eos_token_id, *tokenizer(head + " found the", add_special_tokens=False)["input_ids"]]
        wanted = tokenizer(" " + tail, add_special_tokens=False)["input_ids"]
        right += greedy(model, prompt, len(wanted)) == wanted
    return right / len(texts)


def write_lines(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="training steps (the test uses fewer)")
    parser.add_argument("--out", type=Path, default=HERE / "build", help="where the model and text files go")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch threads for training")
    args = parser.parse_args()

    import torch
    from transformers import PreTrainedTokenizerFast

    torch.manual_seed(0)
    # one thread: on a shared 2-core machine two threads spin against other work and run slower
    torch.set_num_threads(args.threads)
    build = args.out
    build.mkdir(parents=True, exist_ok=True)
    train_text, heldout = stories(6000, seed=1), stories(200, seed=2)
    write_lines(build / "heldout.txt", heldout)
    write_lines(build / "calibration.txt", stories(128, seed=3))
    write_lines(build / "prompts.txt", stories(16, seed=4))

    folder = build / "model"
    train_tokenizer(train_text, folder)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(folder)
    model = build_model(len(tokenizer))
    blocks, test_blocks = token_blocks(train_text, tokenizer, SEQUENCE), token_blocks(heldout, tokenizer, SEQUENCE)
    started = time.perf_counter()
    before = perplexity(model, test_blocks)
    losses = train(model, blocks, args.steps)
    seconds = time.perf_counter() - started
    model.save_pretrained(folder)
    here, where = Path.cwd().resolve(), folder.resolve()
    shown = where.relative_to(here) if where.is_relative_to(here) else where
    print(
        f"built {shown}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters, vocab {len(tokenizer)}; "
        f"{args.steps} steps in {seconds:.0f} s, loss {losses[0]:.2f} -> {sum(losses[-20:]) / len(losses[-20:]):.2f}; "
        f"held-out perplexity {before:.1f} -> {perplexity(model, test_blocks):.2f}; "
        f"names the color of {facts(model, tokenizer):.0%} of the objects; "
        f"recalls where the thing is in {recall(model, tokenizer, heldout[:50]):.0%} of 50 held-out stories"
    )


if __name__ == "__main__":
    main()
