"""LocalModel, the in-process llama.cpp model (models/llamacpp.py), on the tiny random GGUF.

Skips without llama-cpp-python unless FREEHOLD_REQUIRE_LLAMA is set (CI sets it).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

from freehold.errors import ModelError, UsageError
from freehold.messages import Message, ToolCall
from freehold.models.gguf_tiny import write_tiny_gguf
from freehold.models.llamacpp import LocalModel, chat_messages
from freehold.tools import default_tools
from freehold.tools.schema import validate_arguments

if not os.environ.get("FREEHOLD_REQUIRE_LLAMA"):
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (pip install -e '.[local]')")
    pytest.importorskip("gguf", reason="gguf is not installed (pip install -e '.[local]')")

TOOLS = default_tools()
BY_NAME = {tool.name: tool for tool in TOOLS}
ASK = [Message("system", "You are a coding agent."), Message("user", "Read calc.py and fix add().")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    # 16k: the six tools' descriptions alone take ~3,800 of this byte-level vocabulary's tokens.
    return write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf", context_length=16384)


@pytest.fixture(scope="module")
def model(tiny):
    model = LocalModel(tiny, max_string=32, max_tokens=2048)
    yield model
    model.close()


def valid(reply) -> bool:
    """Every call parses, names one of our tools and fits its schema; and there is one."""
    try:
        return bool(reply.tool_calls) and all(
            validate_arguments(json.loads(c.arguments), BY_NAME[c.name].parameters) is not None
            for c in reply.tool_calls
        )
    except (ValueError, KeyError):
        return False


def test_it_reports_its_name_window_and_token_counts(model):
    assert model.name == "freehold-tiny"
    assert model.context_window == 16384
    assert model.count_tokens("") == 0
    assert model.count_tokens(" the file") == 2  # " the" and " file" are merges in its vocabulary
    assert model.count_tokens("<|im_end|>") == len("<|im_end|>")  # text, not the control token


def test_the_context_defaults_to_the_gguf_s_capped_by_the_setting(tiny):
    capped = LocalModel(tiny, max_context=2048)
    try:
        assert capped.context_window == 2048 and capped.max_tokens == 512
    finally:
        capped.close()


def test_it_streams_text_and_counts_real_tokens(model):
    pieces: list[str] = []
    model.on_text = pieces.append
    try:
        reply = model.complete([Message("user", "Say hello.")], [])
    finally:
        model.on_text = None
    assert pieces and reply.text == "".join(pieces).strip()
    assert reply.finish_reason in ("stop", "length") and not reply.tool_calls
    assert reply.usage.input_tokens == model.count_request([Message("user", "Say hello.")], [])
    assert reply.usage.output_tokens >= len(pieces) - 1 and not reply.usage.estimated


def test_twenty_forced_tool_calls_are_all_valid(tiny):
    model = LocalModel(tiny, max_string=32, max_tokens=2048, tool_choice="required")
    try:
        replies = []
        for seed in range(20):
            model.seed = seed
            replies.append(model.complete(ASK, TOOLS))
    finally:
        model.close()
    assert [valid(r) for r in replies] == [True] * 20
    assert all(r.finish_reason == "tool_calls" and r.tool_calls[0].id == "call_0" for r in replies)


def test_in_auto_mode_a_reply_is_text_or_valid_calls(model):
    for seed in range(5):
        model.seed = seed
        reply = model.complete(ASK, TOOLS)
        assert reply.finish_reason in ("stop", "tool_calls")
        assert not reply.tool_calls or valid(reply)
        assert "<tool_call>" not in reply.text


def test_the_same_seed_gives_the_same_reply(model):
    model.seed = 7
    first = model.complete(ASK, TOOLS)
    model.complete([Message("user", "something else")], TOOLS)
    again = model.complete(ASK, TOOLS)
    assert (first.text, first.tool_calls) == (again.text, again.tool_calls)


def test_a_reply_cut_by_max_tokens_says_length(tiny):
    model = LocalModel(tiny, max_tokens=3, tool_choice="required")
    try:
        reply = model.complete(ASK, TOOLS)
    finally:
        model.close()
    assert reply.finish_reason == "length" and reply.usage.output_tokens == 3


def test_a_prompt_over_the_window_is_refused_before_llama_cpp_sees_it(tiny):
    model = LocalModel(tiny, n_ctx=1024, max_tokens=256)
    try:
        with pytest.raises(ModelError) as caught:
            model.complete([Message("user", "word " * 1000)], [])
        assert "\n" not in str(caught.value) and "context window (1024 tokens" in str(caught.value)
        assert model.complete([Message("user", "short")], []).usage.input_tokens < 768  # still usable
    finally:
        model.close()


def test_a_conversation_renders_the_hermes_way():
    call = ToolCall("call_0", "Read", '{"file_path": "calc.py"}')
    messages = [*ASK, Message("assistant", "Reading.", (call, call)), Message("tool", "1\tdef add"),
                Message("tool", "again"), Message("assistant", "Done.", reasoning="secret")]
    chat = chat_messages(messages, TOOLS)
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user", "assistant"]
    assert chat[0]["content"].startswith("You are a coding agent.\n\n# Tools")
    assert json.dumps(BY_NAME["Grep"].schema(), ensure_ascii=False) in chat[0]["content"]
    block = '<tool_call>\n{"name": "Read", "arguments": {"file_path": "calc.py"}}\n</tool_call>'
    assert chat[2]["content"] == f"Reading.\n{block}\n{block}"
    assert chat[3]["content"] == "<tool_response>\n1\tdef add\n</tool_response>\n" \
        "<tool_response>\nagain\n</tool_response>"
    assert chat[4]["content"] == "Done."  # reasoning is never sent back
    assert chat_messages([Message("user", "hi")], TOOLS)[0]["role"] == "system"


def test_the_prompt_uses_the_gguf_s_chat_template(model):
    text, has_bos = model.render([Message("user", "hi")], [])
    assert text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n" and has_bos


def test_a_multi_turn_conversation_continues(model):
    model.seed = 1
    first = model.complete(ASK, TOOLS)
    turn = [*ASK, first.as_message()]
    turn += [Message("tool", "ok", tool_call_id=c.id) for c in first.tool_calls] or [Message("user", "go on")]
    second = model.complete(turn, TOOLS)
    assert second.usage.input_tokens > first.usage.input_tokens + first.usage.output_tokens // 2


@pytest.mark.parametrize("case, words", [
    ("missing", "not found"),
    ("directory", "is a directory"),
    ("text", "is not a GGUF file"),
    ("truncated", "cannot load"),
    ("unreadable", "cannot be read"),
])
def test_a_bad_model_file_is_one_clear_line(tiny, tmp_path, case, words):
    path = tmp_path / "model.gguf"
    if case == "directory":
        path.mkdir()
    elif case == "text":
        path.write_text("not a model\n")
    elif case == "truncated":
        path.write_bytes(tiny.read_bytes()[:100_000])
    elif case == "unreadable":
        if os.geteuid() == 0:
            pytest.skip("root reads every file")
        path.write_bytes(tiny.read_bytes())
        path.chmod(0)
    with pytest.raises(UsageError) as caught:
        LocalModel(path)
    assert words in str(caught.value) and str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_without_llama_cpp_the_error_says_what_to_install(tiny, monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import llama_cpp now raises ImportError
    with pytest.raises(UsageError, match=r"pip install -e '\.\[local\]'"):
        LocalModel(tiny)


def test_importing_the_local_model_modules_loads_no_heavy_library():
    code = ("import sys, freehold.models.llamacpp, freehold.models.grammar, freehold.models.gguf_tiny; "
            "print([m for m in ('llama_cpp', 'gguf', 'numpy', 'jinja2') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_bad_tool_choice_or_reply_length_is_a_usage_error(tiny):
    with pytest.raises(UsageError):
        LocalModel(tiny, tool_choice="any")
    with pytest.raises(UsageError, match="no room for a prompt"):
        LocalModel(tiny, n_ctx=1024, max_tokens=1024)


def test_the_library_is_the_one_pinned():
    """The code leans on this version's API: LlamaGrammar parses nothing itself (so we check the
    grammar first), and generate() reuses the cached prompt prefix. Re-check both on upgrade."""
    assert importlib.import_module("llama_cpp").__version__ == "0.3.36"
