"""olive-diffusion: Stable-Diffusion-style pipelines for olive-core.

Two model types (``diffusers``, a PyTorch pipeline folder, and ``onnx_diffusion``, one ONNX model
per component), passes that merge LoRA adapters, export every component and apply any ONNX pass
component by component, and metrics for pipelines (latency per denoising step and per image,
image similarity). Importing this package loads neither torch, diffusers nor onnx.
"""

__version__ = "0.1.0"
