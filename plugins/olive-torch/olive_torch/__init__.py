"""olive-torch: the `hf` and `pytorch` model types, a torch runtime, io configs and dummy inputs.

Importing this package (or its plugin module) loads neither torch nor transformers; they load
when a model is first loaded or run.
"""

__version__ = "0.1.0"
