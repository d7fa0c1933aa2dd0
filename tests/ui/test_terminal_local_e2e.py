"""The terminal UI on the in-process runtime: Esc stops a tiny random-weight GGUF between two
tokens. (Pressed while the prompt is still being read in, it takes effect at the first token:
the tiny model's reply to this prompt, a fixed seed, runs to 73 tokens when not stopped.)"""

from __future__ import annotations

import os
import sys

import pytest

from freehold.testing_terminal import Terminal

if not os.environ.get("FREEHOLD_REQUIRE_LLAMA"):
    pytest.importorskip("llama_cpp", reason="pip install -e '.[local]'")


def test_esc_stops_an_in_process_model_at_its_next_token(repo, env, tmp_path):
    from freehold.models.gguf_tiny import write_tiny_gguf

    model = write_tiny_gguf(tmp_path / "tiny.gguf", context_length=16384)
    config = tmp_path / "config" / "freehold" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[model]\nthreads = 1\nmax_tokens = 1024\n')
    argv = [sys.executable, "-m", "freehold", "--model-file", str(model), "--permission-mode", "plan"]
    with Terminal(argv, env=env, cwd=repo, rows=40, cols=110) as term:
        term.wait_for("ctx ", timeout=60)
        term.send("say something")
        term.send_key("enter")
        term.wait_for("esc to interrupt", timeout=60)
        term.send_key("esc")
        term.wait_for("interrupted", timeout=60)
        term.wait_for("1 turn ·", timeout=60)
        assert "↓0 tokens" in term.screen_text()  # stopped before a reply was counted
        term.send("/exit")
        term.send_key("enter")
        assert term.wait_exit(timeout=60) == 0
