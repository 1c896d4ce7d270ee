"""Build the example's data and model in seconds, from scikit-learn's bundled data set.

Writes build/classifier.safetensors (trained weights), build/test.jsonl (held-out samples with
labels) and build/calibration.jsonl (training samples for static quantization). Features are
standardized with the training split's statistics, so the model takes them as they are.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from classifier import build_model  # noqa: E402


def load_split(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    order = np.random.default_rng(seed).permutation(len(data.target))
    features, labels = data.data[order].astype(np.float32), data.target[order].astype(np.int64)
    cut = int(0.75 * len(labels))
    mean, std = features[:cut].mean(axis=0), features[:cut].std(axis=0) + 1e-6
    features = (features - mean) / std
    return features[:cut], labels[:cut], features[cut:], labels[cut:]


def train(features: np.ndarray, labels: np.ndarray, epochs: int = 150) -> torch.nn.Module:
    model = build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.from_numpy(features), torch.from_numpy(labels)
    generator = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        for batch in torch.randperm(len(y), generator=generator).split(64):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x[batch]), y[batch]).backward()
            optimizer.step()
    return model.eval()


def write_jsonl(path: Path, features: np.ndarray, labels: np.ndarray) -> None:
    with path.open("w") as handle:
        for row, label in zip(features, labels):
            handle.write(json.dumps({"features": [round(float(v), 6) for v in row], "label": int(label)}) + "\n")


def main() -> None:
    build = HERE / "build"
    build.mkdir(exist_ok=True)
    train_x, train_y, test_x, test_y = load_split()
    model = train(train_x, train_y)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, build / "classifier.safetensors")
    write_jsonl(build / "test.jsonl", test_x, test_y)
    write_jsonl(build / "calibration.jsonl", train_x[:128], train_y[:128])
    with torch.no_grad():
        accuracy = (model(torch.from_numpy(test_x)).argmax(1).numpy() == test_y).mean()
    print(f"trained: {len(train_y)} training samples, held-out accuracy {accuracy:.4f} on {len(test_y)} samples")


if __name__ == "__main__":
    main()
