"""olive-torch's stable surface for other plugins: import olive-torch's helpers from here.

The names below are kept stable: renaming one, or changing what it takes or returns, is a
breaking change of olive-torch, made with a deprecation first. Every other module of
``olive_torch`` is internal and may be renamed, split or changed in any release; olive-core's
``tests/test_plugin_seams.py`` checks that no plugin imports olive-torch from anywhere else.

Importing this module is cheap: the modules it re-exports import torch, transformers and the
hub client inside their functions, never at import time, so importing a name from here is
safe at a plugin's module level (``olive --help`` and ``olive plugins`` still import no torch).
A helper whose module imports torch at import time does not belong in this list.
"""

from __future__ import annotations

# Loading a handle: an `hf` or `pytorch` model as an nn.Module in eval mode, the LoRA adapter
# folder it carries, and how it is quantized (a pass's record or its config.json).
from olive_torch.loading import adapter_folder, load_torch_model, quantization_of

# Calling it: the io config (derived where the workflow gave none), seeded example inputs in
# io-config order, and one calling convention (positional tensors in, the named outputs out),
# also in the form an exporter traces.
from olive_torch.io import dummy_inputs, resolve_io_config
from olive_torch.wrapping import wrap_for_export, wrap_for_io

# A Hugging Face model's files: its config.json, the architecture facts a handle's attributes
# carry, and the config/tokenizer/pooling files a user needs beside the weights (of an `hf`
# handle, or of any folder such as an exported model's).
from olive_torch.hf_config import read_hf_config
from olive_torch.hf_model import architecture_attributes, folder_support_files, hf_support_files

# Writing new weights that a `pytorch` handle loads back with its own model_loader.
from olive_torch.packaging import model_format_of, save_state_dict

# Running on torch: the device of an accelerator, the runtime settings torch applies, and
# applying its (per-process) thread settings before each run.
from olive_torch.runtime import apply_thread_settings, torch_device, torch_settings

# Text data: the tokenizer of the model being evaluated, and the text field of samples.
from olive_torch.data import load_tokenizer, sample_texts

# Paths a model's own files name stay inside its folder (models come from elsewhere).
from olive_torch.paths import escaping_links, is_inside, model_folder

__all__ = [
    "adapter_folder",
    "apply_thread_settings",
    "architecture_attributes",
    "dummy_inputs",
    "escaping_links",
    "folder_support_files",
    "hf_support_files",
    "is_inside",
    "load_tokenizer",
    "load_torch_model",
    "model_folder",
    "model_format_of",
    "quantization_of",
    "read_hf_config",
    "resolve_io_config",
    "sample_texts",
    "save_state_dict",
    "torch_device",
    "torch_settings",
    "wrap_for_export",
    "wrap_for_io",
]
