"""Build the example's data and base model in seconds, offline.

The data are short product and film reviews made from templates (seeded, so every run builds
the same files), labeled 1 (positive) or 0 (negative). A third of them say "not": "the food was
not good" is negative. The base model is a tiny BERT classifier trained for a few seconds on
reviews *without* negations; it reads sentiment words but not what "not" does to them. LoRA
finetuning on the full training set is what teaches it.

Writes build/base-model/ (an HF folder: config, safetensors weights, tokenizer), build/train.jsonl
and build/test.jsonl (held out), each line {"text": ..., "labels": 0 or 1}.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

HERE = Path(__file__).resolve().parent

SUBJECTS = [
    "the movie",
    "this phone",
    "the service",
    "the food",
    "our hotel",
    "the book",
    "the staff",
    "this laptop",
    "the concert",
    "the room",
    "the coffee",
    "the game",
]
VERBS = ["was", "is", "seemed", "felt", "looked"]
POSITIVE = [
    "great",
    "good",
    "excellent",
    "wonderful",
    "lovely",
    "fantastic",
    "pleasant",
    "superb",
    "brilliant",
    "enjoyable",
]
NEGATIVE = [
    "bad",
    "awful",
    "terrible",
    "poor",
    "horrible",
    "dreadful",
    "boring",
    "disappointing",
    "mediocre",
    "annoying",
]
INTENSIFIERS = ["", "really", "very", "quite", "truly", "rather", "so"]
OPENINGS = ["", "overall", "honestly", "to be fair", "in short", "sadly", "luckily"]
MAX_LENGTH = 16


def review(rng: random.Random, negation_rate: float) -> dict[str, object]:
    positive = rng.random() < 0.5
    negated = rng.random() < negation_rate
    words = [
        rng.choice(OPENINGS),
        rng.choice(SUBJECTS),
        rng.choice(VERBS),
        "not" if negated else "",
        rng.choice(INTENSIFIERS),
        rng.choice(POSITIVE if positive else NEGATIVE),
    ]
    return {"text": " ".join(word for word in words if word), "labels": int(positive != negated)}


def reviews(count: int, seed: int, negation_rate: float = 1 / 3) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [review(rng, negation_rate) for _ in range(count)]


def vocabulary() -> list[str]:
    words = {"not"}
    for group in (SUBJECTS, VERBS, POSITIVE, NEGATIVE, INTENSIFIERS, OPENINGS):
        for phrase in group:
            words.update(phrase.split())
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *sorted(words)]


def train_base_model(folder: Path, samples: list[dict[str, object]], epochs: int = 5) -> BertForSequenceClassification:
    """A 2-layer BERT (hidden 64) trained in full for a few seconds; saved with its tokenizer."""
    vocab = vocabulary()
    tokenizer = BertTokenizer(vocab={word: index for index, word in enumerate(vocab)})
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=128,
        max_position_embeddings=32,
        num_labels=2,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    encoded = tokenizer([s["text"] for s in samples], padding="max_length", max_length=MAX_LENGTH, return_tensors="pt")
    labels = torch.tensor([s["labels"] for s in samples])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(labels), generator=generator).split(16):
            loss = model(**{k: v[batch] for k, v in encoded.items()}, labels=labels[batch]).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
    model.eval()
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return model


def accuracy(model: BertForSequenceClassification, folder: Path, samples: list[dict[str, object]]) -> float:
    tokenizer = BertTokenizer.from_pretrained(folder)
    encoded = tokenizer([s["text"] for s in samples], padding="max_length", max_length=MAX_LENGTH, return_tensors="pt")
    with torch.inference_mode():
        predicted = model(**encoded).logits.argmax(-1)
    return float((predicted == torch.tensor([s["labels"] for s in samples])).float().mean())


def write_jsonl(path: Path, samples: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(sample) + "\n" for sample in samples), encoding="utf-8")


def main() -> None:
    torch.set_num_threads(1)  # a tiny model trains faster on one thread
    build = HERE / "build"
    build.mkdir(exist_ok=True)
    train, test = reviews(480, seed=1), reviews(240, seed=2)
    write_jsonl(build / "train.jsonl", train)
    write_jsonl(build / "test.jsonl", test)
    model = train_base_model(build / "base-model", reviews(320, seed=0, negation_rate=0.0))
    print(
        f"built: {len(train)} training and {len(test)} held-out reviews; "
        f"base model accuracy on the held-out reviews {accuracy(model, build / 'base-model', test):.3f}"
    )


if __name__ == "__main__":
    main()
