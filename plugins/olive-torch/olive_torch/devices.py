"""The devices the torch runtime runs models on (kept apart so that model types import nothing heavy)."""

TORCH_DEVICES = ("cpu", "gpu")
