"""The issue's "done when" for the in-process runtime: `freehold -p --model-file TINY.gguf
--permission-mode plan --max-turns 3` on a random-weight model. Its words are noise, but every
tool call it completes is well-formed for its tool (the grammar sees to that); one the reply's
token limit cuts short is told to the model as cut, and the run ends with a proper result
object, never a traceback."""

from __future__ import annotations

import json
import os

import pytest
from conftest import run_freehold

from freehold.index.live import SEARCH_PARAMETERS
from freehold.tools import default_tools
from freehold.tools.schema import validate_arguments
from freehold.tools.todo import PARAMETERS as TODO_PARAMETERS

llama_cpp = pytest.importorskip("llama_cpp", reason="pip install -e '.[local]'") \
    if not os.environ.get("FREEHOLD_REQUIRE_LLAMA") else __import__("llama_cpp")

SCHEMAS = {t.name: t.parameters for t in default_tools()} | {"Search": SEARCH_PARAMETERS, "TodoWrite": TODO_PARAMETERS}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from freehold.models.gguf_tiny import write_tiny_gguf

    # A byte-level vocabulary spends a token per byte: the six tools' descriptions need ~4k.
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", context_length=16384)


def events(run):
    return [json.loads(line) for line in run.stdout.splitlines() if line.strip()]


def local_env(env, tmp_path, tool_choice):
    config = tmp_path / "config" / "freehold" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    # No Task tool: a random-weight model would spend its turns in subagents (tests/test_subagent_e2e.py).
    config.write_text(f'[model]\nthreads = 1\nmax_tokens = 1024\ntool_choice = "{tool_choice}"\n'
                      '[agent]\nsubagents = false\n')
    return env


def test_forced_tool_calls_are_all_well_formed_and_handled(tiny, repo, env, tmp_path):
    run = run_freehold(["-p", "Look around.", "--model-file", str(tiny), "--permission-mode", "plan",
                        "--max-turns", "3", "--output-format", "stream-json"], repo, local_env(env, tmp_path, "required"))
    assert "Traceback" not in run.stderr
    out = events(run)
    result = out[-1]
    assert result["type"] == "result" and result["subtype"] == "error_max_turns", run.stderr
    uses = [c for e in out if e["type"] == "assistant" for c in e["message"]["content"] if c["type"] == "tool_use"]
    results = {c["tool_use_id"]: c["content"] for e in out if e["type"] == "user"
               for c in e["message"]["content"] if c["type"] == "tool_result"}
    assert set(results) == {use["id"] for use in uses}  # each one run or refused, with a result the model sees
    complete = [use for use in uses if "_raw_arguments" not in use["input"]]
    assert complete, "the model was made to call tools; no complete call came through"
    for use in complete:
        assert use["name"] in SCHEMAS
        validate_arguments(use["input"], SCHEMAS[use["name"]])  # well-formed for its tool, as it came
    for use in uses:
        if use not in complete:  # cut by the reply's token limit, and the model is told so
            assert "the output was cut off" in results[use["id"]]


def test_a_free_answer_ends_in_success(tiny, repo, env, tmp_path):
    run = run_freehold(["-p", "Say hello.", "--model-file", str(tiny), "--permission-mode", "plan",
                        "--max-turns", "3", "--output-format", "json"], repo, local_env(env, tmp_path, "auto"))
    assert "Traceback" not in run.stderr
    result = json.loads(run.stdout.splitlines()[-1])
    assert result["type"] == "result" and result["subtype"] in ("success", "error_max_turns")
    assert run.code == (0 if result["subtype"] == "success" else 1)


def test_a_file_that_is_not_a_model_is_one_line_and_exit_2(repo, env, tmp_path):
    bogus = tmp_path / "not.gguf"
    bogus.write_text("hello")
    run = run_freehold(["-p", "x", "--model-file", str(bogus)], repo, env)
    assert run.code == 2 and "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_the_prompt_as_rendered_is_in_the_audit_log(tiny, repo, env, tmp_path):
    run = run_freehold(["-p", "Say hello.", "--model-file", str(tiny), "--max-turns", "1"], repo,
                       local_env(env, tmp_path, "auto"))
    assert "Traceback" not in run.stderr
    log = tmp_path / "home" / "audit" / "log.jsonl"
    requests = [r for r in map(json.loads, log.read_text().splitlines()) if r["type"] == "model_request"]
    assert len(requests) == 1 and requests[0]["endpoint"] == tiny.resolve().as_uri()
    body = requests[0]["body"]
    assert body.startswith("<|im_start|>system") and "Say hello." in body and "<tools>" in body
