"""olive-torch-quant: passes that quantize, prune and finetune `hf` and `pytorch` models."""

__version__ = "0.1.0"
