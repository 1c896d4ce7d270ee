"""olive-genai: decoder language models to ONNX Runtime GenAI for olive-core.

Light on purpose: importing it (or its plugin module) loads neither torch nor onnxruntime nor
onnxruntime-genai; those load when a pass runs or a model is opened.
"""

__version__ = "0.1.0"
