"""ONNX passes, one module each; every module imports onnx and onnxruntime only inside ``run``."""
