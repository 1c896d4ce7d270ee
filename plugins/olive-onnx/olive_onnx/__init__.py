"""olive-onnx: ONNX models and ONNX Runtime for olive-core.

This package is light on purpose: importing it (or its plugin module) loads neither onnx nor
onnxruntime nor torch; those load when a pass runs or a session is created.
"""

__version__ = "0.1.0"
