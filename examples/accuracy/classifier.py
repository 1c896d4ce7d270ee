"""The example's model: a small MLP classifying breast-cancer biopsies from 30 measurements."""

from __future__ import annotations

import torch
from torch import nn

FEATURES = 30
CLASSES = 2


def build_model() -> nn.Module:
    """The architecture; prepare.py trains it and saves the weights as a state dict."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Linear(FEATURES, 256),
        nn.ReLU(),
        nn.Linear(256, 256),
        nn.ReLU(),
        nn.Linear(256, CLASSES),
    )
