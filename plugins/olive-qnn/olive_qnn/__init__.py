"""olive-qnn: Qualcomm NPUs (Snapdragon HTP) through ONNX Runtime's QNN execution provider.

Light on purpose: importing it (or its plugin module) loads neither onnxruntime nor
onnxruntime-qnn; they load when a provider is set up, a pass runs or a session opens.
"""

__version__ = "0.1.0"
