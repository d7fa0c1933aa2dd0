"""A tiny random-weight LLaMA model in GGUF (~0.5 MB), for tests and benchmarks of local runtimes.

It speaks ChatML through a byte-level vocabulary of ~300 tokens, so any text can be written and
any grammar can be followed; what it says is noise. Same seed, same bytes.

    python -m freehold.models.gguf_tiny OUT.gguf [--seed N] [--context-length N]

Needs the `gguf` and `numpy` packages (the `local` extra); both are imported only when called.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

N_EMBD, N_HEAD, N_LAYER, N_FF = 64, 4, 2, 128
CONTROL = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
# Merged tokens, so the vocabulary is byte-level BPE and not bytes alone; words common in our
# prompts, written the way GPT-2 writes bytes (Ġ is a space, Ċ a newline).
_WORDS = ("Ġthe", "Ġto", "Ġand", "Ġfile", "Ġcall", "Ġtool", "_call", "Ġname", "Ġreturn", "Ġdef",
          "ĠĠĠĠ", "ĊĊ", "\":", "Ġ\"", "ing", "ion", "er", "on", "re", "Ġa", "Ġin", "Ġis")


def byte_symbols() -> list[str]:
    """GPT-2's printable stand-in for each byte value, in byte order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = iter(range(256, 512))
    return [chr(b) if b in printable else chr(next(extra)) for b in range(256)]


def vocabulary() -> tuple[list[str], list[str]]:
    """(tokens, merges): the 256 bytes, the merges that build _WORDS, then the control tokens."""
    tokens = byte_symbols()
    known, merges = set(tokens), []
    for word in _WORDS:
        for end in range(2, len(word) + 1):
            if word[:end] not in known:
                merges.append(f"{word[:end - 1]} {word[end - 1]}")
                tokens.append(word[:end])
                known.add(word[:end])
    return tokens + list(CONTROL), merges


def write_tiny_gguf(path: Path, *, seed: int = 0, context_length: int = 4096) -> Path:
    """Write the tiny model to `path` and return it. Deterministic for a seed."""
    import gguf

    tokens, merges = vocabulary()
    writer = gguf.GGUFWriter(str(path), "llama")
    _add_hyperparameters(writer, context_length)
    _add_tokenizer(writer, tokens, merges)
    for name, array in _tensors(len(tokens), seed):
        writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _add_hyperparameters(writer: Any, context_length: int) -> None:
    writer.add_name("freehold-tiny")
    writer.add_context_length(context_length)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(N_HEAD)
    writer.add_rope_dimension_count(N_EMBD // N_HEAD)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_file_type(0)  # all F32


def _add_tokenizer(writer: Any, tokens: list[str], merges: list[str]) -> None:
    import gguf

    normal, control = gguf.TokenType.NORMAL, gguf.TokenType.CONTROL
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("qwen2")
    writer.add_token_list(tokens)
    writer.add_token_types([control if t in CONTROL else normal for t in tokens])
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokens.index("<|endoftext|>"))
    writer.add_eos_token_id(tokens.index("<|im_end|>"))
    writer.add_pad_token_id(tokens.index("<|endoftext|>"))
    writer.add_add_bos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)


def _tensors(n_vocab: int, seed: int) -> list[tuple[str, Any]]:
    """(name, array) in file order; numpy shapes are ggml's reversed. The output matrix is its
    own: tied to the embeddings, a random model repeats one character forever."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def normal(*shape: int, std: float = 0.02) -> Any:
        return rng.normal(0.0, std, shape).astype(np.float32)

    ones = np.ones(N_EMBD, dtype=np.float32)
    out = [("token_embd.weight", normal(n_vocab, N_EMBD)), ("output_norm.weight", ones)]
    for i in range(N_LAYER):
        out += [
            (f"blk.{i}.attn_norm.weight", ones),
            (f"blk.{i}.attn_q.weight", normal(N_EMBD, N_EMBD)),
            (f"blk.{i}.attn_k.weight", normal(N_EMBD, N_EMBD)),
            (f"blk.{i}.attn_v.weight", normal(N_EMBD, N_EMBD)),
            (f"blk.{i}.attn_output.weight", normal(N_EMBD, N_EMBD)),
            (f"blk.{i}.ffn_norm.weight", ones),
            (f"blk.{i}.ffn_gate.weight", normal(N_FF, N_EMBD)),
            (f"blk.{i}.ffn_up.weight", normal(N_FF, N_EMBD)),
            (f"blk.{i}.ffn_down.weight", normal(N_EMBD, N_FF)),
        ]
    return out + [("output.weight", normal(n_vocab, N_EMBD, std=0.1))]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m freehold.models.gguf_tiny", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--context-length", type=int, default=4096)
    args = parser.parse_args(argv)
    write_tiny_gguf(args.out, seed=args.seed, context_length=args.context_length)
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
