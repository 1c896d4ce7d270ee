"""Passes over whole pipelines: LoRA merge, component-wise ONNX export, component-wise ONNX passes."""
