"""The tiny random-weight GGUF: models/gguf_tiny.py. Loading it needs llama-cpp-python; those
tests skip without it unless FREEHOLD_REQUIRE_LLAMA is set (CI sets it)."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from freehold.models.gguf_tiny import CONTROL, main, vocabulary, write_tiny_gguf


def need(module: str):
    """`module`, or a skip when it is missing, unless FREEHOLD_REQUIRE_LLAMA (CI) makes that a failure."""
    if os.environ.get("FREEHOLD_REQUIRE_LLAMA"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} is not installed (pip install -e '.[local]')")


need("gguf")
need("numpy")


def llama_cpp():
    return need("llama_cpp")


def test_the_vocabulary_is_every_byte_some_merges_and_the_chatml_markers():
    tokens, merges = vocabulary()
    assert len(set(tokens)) == len(tokens)
    assert 280 <= len(tokens) <= 320
    assert tokens[-3:] == list(CONTROL)
    for merge in merges:
        left, right = merge.split(" ")
        assert left in tokens and right in tokens and left + right in tokens


def test_the_same_seed_writes_the_same_bytes_and_another_seed_other_weights(tmp_path):
    a, b, c = (write_tiny_gguf(tmp_path / f"{n}.gguf", seed=s) for n, s in (("a", 1), ("b", 1), ("c", 2)))
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()
    assert a.read_bytes()[:4] == b"GGUF"
    assert 300_000 < a.stat().st_size < 800_000


def test_the_metadata_llama_cpp_needs_is_there(tmp_path):
    import gguf

    reader = gguf.GGUFReader(write_tiny_gguf(tmp_path / "m.gguf", context_length=2048))
    fields = {name: field.contents() for name, field in reader.fields.items()}
    for key in ("general.architecture", "llama.context_length", "llama.embedding_length", "llama.block_count",
                "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.layer_norm_rms_epsilon",
                "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type",
                "tokenizer.ggml.eos_token_id", "tokenizer.chat_template"):
        assert key in fields, key
    assert fields["llama.context_length"] == 2048
    tokens = fields["tokenizer.ggml.tokens"]
    assert tokens[fields["tokenizer.ggml.eos_token_id"]] == "<|im_end|>"
    assert {t.name for t in reader.tensors} >= {"token_embd.weight", "output.weight", "blk.1.ffn_down.weight"}


def test_the_command_writes_a_model(tmp_path, capsys):
    out = tmp_path / "cli.gguf"
    assert main([str(out), "--seed", "3"]) == 0
    assert out.read_bytes() == write_tiny_gguf(tmp_path / "direct.gguf", seed=3).read_bytes()
    assert capsys.readouterr().out.strip() == str(out)


def test_python_dash_m_runs_it(tmp_path):
    out = tmp_path / "m.gguf"
    command = [sys.executable, "-m", "freehold.models.gguf_tiny", str(out)]
    run = subprocess.run(command, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert out.is_file()


def test_llama_cpp_loads_it_and_reads_chatml_markers_as_control_tokens(tmp_path):
    lib = llama_cpp()
    llm = lib.Llama(str(write_tiny_gguf(tmp_path / "m.gguf")), n_ctx=0, n_threads=1, verbose=False)
    try:
        assert llm.n_ctx() == 4096
        marked = llm.tokenize(b"<|im_start|>user\nhi<|im_end|>", add_bos=False, special=True)
        assert marked[0] == len(vocabulary()[0]) - 2 and marked[-1] == llm.token_eos()
        assert llm.detokenize(marked, special=False) == b"user\nhi"  # control tokens print as nothing
        out = llm.create_completion(marked, max_tokens=8, temperature=0.8, seed=1)
        assert out["usage"]["completion_tokens"] >= 1
    finally:
        llm.close()


def test_it_writes_nothing_but_its_file(tmp_path: Path):
    write_tiny_gguf(tmp_path / "only.gguf")
    assert [p.name for p in tmp_path.iterdir()] == ["only.gguf"]
