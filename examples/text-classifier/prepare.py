"""Build the example's data and model offline, in about two minutes.

The reviews are those of examples/lora-classifier (templates, seeded), made harder: a third say
"not", and a third join two clauses with "but", where the second decides ("the food was good but
the staff was awful" is negative). The model is a 4-layer BERT (hidden 96, word-level tokenizer)
trained from scratch for a few epochs: accurate, not perfect, so that INT8 errors show in its
held-out accuracy.

Writes build/model/ (an HF folder: config, safetensors weights, tokenizer), build/train.jsonl
(the calibration data takes its first lines) and build/test.jsonl (held out, 1000 reviews), each
line {"text": ..., "labels": 0 or 1}.
"""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import torch
from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

HERE = Path(__file__).resolve().parent
MAX_LENGTH = 24


def _lora_example() -> object:
    """The LoRA example's review templates and vocabulary (one source of the words)."""
    spec = importlib.util.spec_from_file_location("lora_prepare", HERE.parent / "lora-classifier" / "prepare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


LORA = _lora_example()
CONTRAST = "but"


def review(rng: random.Random) -> dict[str, object]:
    first = LORA.review(rng, negation_rate=1 / 3)
    if rng.random() < 1 / 3:
        second = LORA.review(rng, negation_rate=1 / 3)
        return {"text": f"{first['text']} {CONTRAST} {second['text']}", "labels": second["labels"]}
    return first


def reviews(count: int, seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    return [review(rng) for _ in range(count)]


def train(folder: Path, samples: list[dict[str, object]], epochs: int = 2) -> BertForSequenceClassification:
    vocab = [*LORA.vocabulary(), CONTRAST]
    tokenizer = BertTokenizer(vocab={word: index for index, word in enumerate(vocab)})
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=96,
        num_hidden_layers=4,
        num_attention_heads=4,
        intermediate_size=384,
        max_position_embeddings=MAX_LENGTH,
        num_labels=2,
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(config)
    encoded = tokenizer(
        [s["text"] for s in samples], padding="max_length", max_length=MAX_LENGTH, truncation=True, return_tensors="pt"
    )
    labels = torch.tensor([s["labels"] for s in samples])
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-4)
    generator = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(labels), generator=generator).split(32):
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
    encoded = tokenizer(
        [s["text"] for s in samples], padding="max_length", max_length=MAX_LENGTH, truncation=True, return_tensors="pt"
    )
    with torch.inference_mode():
        predicted = model(**encoded).logits.argmax(-1)
    return float((predicted == torch.tensor([s["labels"] for s in samples])).float().mean())


def main() -> None:
    torch.set_num_threads(1)  # a small model trains faster on one thread (and does not fight other jobs)
    build = HERE / "build"
    build.mkdir(exist_ok=True)
    training, test = reviews(2000, seed=11), reviews(1000, seed=12)
    (build / "train.jsonl").write_text("".join(json.dumps(s) + "\n" for s in training), encoding="utf-8")
    (build / "test.jsonl").write_text("".join(json.dumps(s) + "\n" for s in test), encoding="utf-8")
    model = train(build / "model", training)
    print(
        f"built: {len(training)} training and {len(test)} held-out reviews; held-out accuracy "
        f"{accuracy(model, build / 'model', test):.4f}"
    )


if __name__ == "__main__":
    main()
