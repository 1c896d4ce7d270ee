"""Tiny decoder language models for tests, built from configs (random weights, no downloads).

Only tests import this module; the plugin itself never does. Handles and passes are made with
``olive_torch.testing.hf_handle`` and ``olive_core.testing.steps.run_pass``.
"""

from __future__ import annotations

from pathlib import Path

#: a word-level vocabulary: special tokens, then w0 ... w251
WORDS = ["<unk>", "<s>", "</s>", "<pad>"] + [f"w{i}" for i in range(252)]
#: a 2-layer Llama, hidden 64, grouped-query attention (4 heads sharing 2 key/value heads)
TINY_LLAMA = dict(
    vocab_size=len(WORDS), hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, max_position_embeddings=128, bos_token_id=1, eos_token_id=2, pad_token_id=3,
)  # fmt: skip


def save_tokenizer(folder: Path) -> None:
    """A word-level tokenizer over WORDS, saved as transformers saves any fast tokenizer."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.WordLevel(vocab={w: i for i, w in enumerate(WORDS)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    fast.save_pretrained(folder)
