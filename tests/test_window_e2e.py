"""The issue's "done when" for windows: against a server reporting a 4k-token window, Freehold
budgets to it and never sends a request over it; what cannot fit ends the run in one line."""

from __future__ import annotations

import json

from conftest import run_freehold

from freehold.testing import Call, ScriptedServer, Turn


def test_a_long_session_on_a_4k_window_never_sends_a_request_over_it(repo, env):
    (repo / "big.py").write_text("".join(f"value_{i} = {i}  # a line of some length to fill the window\n"
                                         for i in range(40)))  # ~2.6 kB: one fits beside the fixed part, two do not
    turns = [Turn("", (Call("Read", {"file_path": "big.py"}),)) for _ in range(4)] + [Turn("Read it four times.")]
    # The budget alone, without compaction (tests/test_compaction_e2e.py has the two together).
    with ScriptedServer(turns, context_window=4096) as server:
        run = run_freehold(["-p", "Read big.py four times.", "--endpoint", server.url, "--model", "m",
                            "--permission-mode", "auto", "--output-format", "json"], repo,
                           {**env, "FREEHOLD_COMPACT_AT": "0", "FREEHOLD_SUBAGENTS": "0",
                                                "FREEHOLD_INDEX": "0"})
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["result"] == "Read it four times."
    assert server.over_window == []  # not one request over the window
    bodies = [json.loads(r.body) for r in server.chat_requests]
    assert len(bodies) == 5
    # Each Read result would not fit beside the others: the older ones went out as stubs.
    last = [m["content"] for m in bodies[-1]["messages"] if m["role"] == "tool"]
    assert last[-1].startswith("     1\tvalue_0 = 0") and all(c.startswith("[output removed") for c in last[:-1])


def test_a_result_too_big_for_the_window_alone_goes_out_as_its_head_and_tail(repo, env):
    turns = [Turn("", (Call("Read", {"file_path": "huge.py"}),)), Turn("Done.")]
    (repo / "huge.py").write_text("x = 1  # padding padding padding padding padding\n" * 1000)
    with ScriptedServer(turns, context_window=4096) as server:  # sized for the tools without Task and Search
        run = run_freehold(["-p", "Read huge.py.", "--endpoint", server.url, "--model", "m",
                            "--permission-mode", "auto"], repo,
                           {**env, "FREEHOLD_SUBAGENTS": "0", "FREEHOLD_INDEX": "0"})
    assert run.code == 0, run.stderr
    assert server.over_window == []
    result = [m for m in json.loads(server.chat_requests[-1].body)["messages"] if m["role"] == "tool"][-1]
    assert result["content"].startswith("     1\tx = 1") and "characters omitted" in result["content"]


def test_what_cannot_fit_stops_in_one_line_before_it_is_sent(repo, env):
    with ScriptedServer([Turn("never reached")], context_window=4096) as server:
        run = run_freehold(["-p", "Summarize: " + "word " * 8000, "--endpoint", server.url, "--model", "m"],
                           repo, env)
    assert run.code == 1 and "Traceback" not in run.stderr
    assert "window is 4096 (vLLM /v1/models max_model_len)" in run.stderr
    assert server.over_window == [] and server.chat_requests == []


def test_the_fixed_part_over_a_quarter_of_the_window_is_warned_about(repo, env):
    with ScriptedServer([Turn("Hi.")], context_window=4096) as server:
        run = run_freehold(["-p", "Hi.", "--endpoint", server.url, "--model", "m"], repo, env)
    assert run.code == 0
    warning = [line for line in run.stderr.splitlines() if "system prompt and tool schemas take" in line]
    assert len(warning) == 1 and "of the model's 4096 tokens" in warning[0]


def test_profile_sampling_is_sent_as_each_server_names_it():
    from freehold.models.fitting import sampling_for
    from freehold.config import Settings
    from freehold.models.profiles import profile_for

    qwen = profile_for("Qwen/Qwen2.5-Coder-32B-Instruct")
    assert dict(sampling_for(qwen, "vllm", Settings())) == {
        "temperature": 0.7, "top_p": 0.8, "top_k": 20, "repetition_penalty": 1.05}
    assert dict(sampling_for(qwen, "llamacpp", Settings()))["repeat_penalty"] == 1.05
    assert dict(sampling_for(qwen, "ollama", Settings())) == {"temperature": 0.7, "top_p": 0.8}
    assert "temperature" not in dict(sampling_for(qwen, "", Settings(temperature=0.1)))


def test_the_profile_is_chosen_by_the_model_name_and_its_sampling_sent(repo, env):
    with ScriptedServer([Turn("Hi.")], context_window=32768, model="qwen2.5-coder-7b-instruct") as server:
        run = run_freehold(["-p", "Hi.", "--endpoint", server.url], repo, env)
    assert run.code == 0, run.stderr
    body = json.loads(server.chat_requests[0].body)
    assert (body["temperature"], body["top_p"], body["top_k"], body["repetition_penalty"]) == (0.7, 0.8, 20, 1.05)


def test_the_remembered_body_size_is_the_exact_size_of_the_body():
    from freehold.models.fitting import body_size
    from freehold.messages import Message, ToolCall
    from freehold.models.openai_compat import Endpoint, request_body
    from freehold.tools import default_tools

    endpoint = Endpoint("http://127.0.0.1:1/v1", "m", sampling=(("top_p", 0.8),))
    messages = [Message("system", "sé\u2028"), Message("user", 'a\n"b"\\'),
                Message("assistant", "", (ToolCall("c1", "Read", '{"file_path": "ü"}'),)),
                Message("tool", "x" * 100, tool_call_id="c1", is_error=True)]
    for n in range(len(messages) + 1):
        assert body_size(endpoint, messages[:n], default_tools()) == len(request_body(endpoint, messages[:n], default_tools()))
