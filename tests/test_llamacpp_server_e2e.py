"""The real `freehold -p` against llama-cpp-python's own OpenAI-compatible server, serving the
tiny random GGUF on 127.0.0.1. What the model says is noise (with tool_choice "auto" it mostly
answers in text); what is tested is that the whole path, this server's dialect and its streams
that carry no usage included, ends in a result and never in a traceback.

Skips without llama-cpp-python's server extras unless FREEHOLD_REQUIRE_LLAMA is set (CI sets it).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import run_freehold

from freehold.models.gguf_tiny import write_tiny_gguf

if not os.environ.get("FREEHOLD_REQUIRE_LLAMA"):
    SERVER_EXTRAS = ("uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
    for module in ("llama_cpp", "gguf", *SERVER_EXTRAS):
        pytest.importorskip(module, reason=f"{module} is not installed (pip install 'llama-cpp-python[server]')")

READY_WITHIN = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_ready(server: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the llama.cpp server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url + "/models", timeout=2) as response:
                if response.status == 200 and json.load(response).get("data"):
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the llama.cpp server was not ready within {READY_WITHIN:.0f} s")


@pytest.fixture
def llama_server(tmp_path: Path):
    model = write_tiny_gguf(tmp_path / "tiny.gguf", context_length=8192)
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--chat_format", "chatml-function-calling",
         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--n_threads", "1", "--n_threads_batch", "1"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1"
        wait_until_ready(server, url)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


def test_freehold_runs_against_the_llama_cpp_server(llama_server, repo, env):
    # The server's default reply length is the rest of its window; a random model fills it.
    config = Path(env["XDG_CONFIG_HOME"]) / "freehold" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[model]\nmax_tokens = 256\n")
    args = ["-p", "Read calc.py and tell me what add() does.", "--endpoint", llama_server,
            "--permission-mode", "plan", "--max-turns", "3", "--output-format", "json"]
    run = run_freehold(args, repo, env, timeout=300)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code in (0, 1), run.stderr
    result = run.result()
    assert result["type"] == "result" and result["subtype"] in ("success", "error_max_turns"), result
    assert result["num_turns"] >= 1
