"""The real `freehold -p` against the scripted server: fix a failing test in a sample repo,
once per server dialect, per reasoning style and per fault a real server produces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CALC, run_freehold

from freehold.testing import DIALECTS, Call, ScriptedServer, Turn

FINAL = "Fixed add() in calc.py: it subtracted instead of adding. The test passes now."
SECRET = "PRIVATE-CHAIN-OF-THOUGHT"


def fix_turns() -> list[Turn]:
    """Read, Edit, run the tests, answer: each step expects the previous tool's result."""
    pytest_cmd = f"{sys.executable} -m pytest -q -p no:cacheprovider test_calc.py"
    return [
        Turn("I'll read the code.", (Call("Read", {"file_path": "calc.py"}),), reasoning="Start with calc.py."),
        Turn("", (Call("Edit", {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}),),
             expect="return a - b", reasoning="add subtracts; fix it"),
        Turn("", (Call("Bash", {"command": pytest_cmd}),), expect="return a + b"),
        Turn(FINAL, expect="1 passed", reasoning=SECRET),
    ]


def run_fix(server: ScriptedServer, repo: Path, env: dict[str, str], *extra: str):
    with server:
        run = run_freehold(["-p", "Fix the failing test.", "--endpoint", server.url, "--model", "m",
                            "--permission-mode", "auto", "--output-format", "json", *extra], repo, env)
    return run


def assert_fixed(run, repo: Path, turns: int = 4) -> dict:
    assert run.code == 0, run.stderr
    result = run.result()
    assert result["type"] == "result" and result["subtype"] == "success" and result["is_error"] is False
    assert result["result"] == FINAL
    assert result["num_turns"] == turns
    assert SECRET not in run.stdout
    assert "return a + b" in (repo / "calc.py").read_text()
    return result


@pytest.mark.parametrize("dialect", DIALECTS)
def test_fixes_the_repo_in_every_dialect(dialect, repo, env):
    server = ScriptedServer(fix_turns(), dialect=dialect)
    result = assert_fixed(run_fix(server, repo, env), repo)
    bodies = [r.body for r in server.chat_requests]
    assert len(bodies) == 4
    assert all(SECRET.encode() not in b for b in bodies)
    assert result["usage"]["input_tokens"] >= 0


@pytest.mark.parametrize("style", ["reasoning_content", "reasoning", "think", "think_close"])
def test_reasoning_is_never_the_answer(style, repo, env):
    server = ScriptedServer(fix_turns(), dialect="vllm", reasoning_style=style)
    assert_fixed(run_fix(server, repo, env), repo)


@pytest.mark.parametrize("dialect", ["vllm", "ollama", "hermes"])
def test_non_streaming_responses(dialect, repo, env):
    env["FREEHOLD_STREAM"] = "false"
    server = ScriptedServer(fix_turns(), dialect=dialect)
    assert_fixed(run_fix(server, repo, env), repo)
    assert all(json.loads(r.body)["stream"] is False for r in server.chat_requests)


@pytest.mark.parametrize("fault", ["http_500", "http_429", "drop", "cut"])
def test_recovers_from_server_faults(fault, repo, env):
    turns = fix_turns()
    turns[2:2] = [Turn(fault=fault), Turn(fault=fault)]
    server = ScriptedServer(turns, dialect="vllm")
    assert_fixed(run_fix(server, repo, env), repo)
    bodies = [r.body for r in server.chat_requests]
    assert len(bodies) == 6
    # a retry resends exactly the same bytes
    assert bodies[2] == bodies[3] == bodies[4]


def test_gives_up_with_exit_4_after_retries(repo, env):
    env["FREEHOLD_MAX_RETRIES"] = "2"
    server = ScriptedServer([Turn(fault="http_500")] * 5)
    run = run_fix(server, repo, env)
    assert run.code == 4
    assert server.url in run.stderr and "after 3 attempts" in run.stderr
    assert run.result()["is_error"] is True and run.result()["subtype"] == "error"
    assert len(server.chat_requests) == 3
    assert "Traceback" not in run.stderr


def test_unreachable_endpoint_exits_4_naming_it(repo, env):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env["FREEHOLD_MAX_RETRIES"] = "1"
    url = f"http://127.0.0.1:{port}/v1"
    run = run_freehold(["-p", "hi", "--endpoint", url, "--model", "m"], repo, env)
    assert run.code == 4
    assert run.stderr.count("\n") == 1 and url in run.stderr
    assert run.stdout == ""


def test_malformed_arguments_are_repaired_or_sent_back(repo, env):
    turns = fix_turns()
    # unambiguous damage (here a closing brace lost to a stop token) is repaired ...
    turns[0] = Turn("", (Call("Read", '{"file_path": "calc.py"'),))
    # ... ambiguous damage goes back to the model, which tries again
    turns[1:1] = [
        Turn("", (Call("Edit", "{'file_path': 'calc.py'}"),), expect="return a - b"),
        Turn("", (Call("Edit", {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}),),
             expect="invalid arguments for Edit"),
    ]
    del turns[3]
    server = ScriptedServer(turns, dialect="vllm")
    assert_fixed(run_fix(server, repo, env), repo, turns=5)


def test_unknown_tool_gets_the_list_of_valid_tools(repo, env):
    turns = fix_turns()
    turns.insert(0, Turn("", (Call("Fetch", {"url": "http://example.com"}),)))
    turns[1] = Turn("", turns[1].calls, expect="Valid tools: Read")
    server = ScriptedServer(turns, dialect="ollama")
    assert_fixed(run_fix(server, repo, env), repo, turns=5)


def test_tool_name_case_is_forgiven(repo, env):
    turns = fix_turns()
    turns[0] = Turn("", (Call("read", {"file_path": "calc.py"}),))
    server = ScriptedServer(turns, dialect="hermes")
    assert_fixed(run_fix(server, repo, env), repo)


def test_several_calls_in_one_turn(repo, env):
    turns = fix_turns()
    turns[0] = Turn("", (Call("Read", {"file_path": "calc.py"}), Call("Read", {"file_path": "test_calc.py"})))
    turns[1] = Turn("", turns[1].calls, expect="assert add(2, 3) == 5")
    for dialect in ("vllm", "qwen3coder"):
        (repo / "calc.py").write_text(CALC)
        server = ScriptedServer(list(turns), dialect=dialect)
        assert_fixed(run_fix(server, repo, env), repo)


def test_max_turns_ends_with_exit_1(repo, env):
    turns = [Turn("", (Call("Glob", {"pattern": "*.py"}),))] * 3
    server = ScriptedServer(turns)
    run = run_fix(server, repo, env, "--max-turns", "2")
    assert run.code == 1
    assert run.result()["subtype"] == "error_max_turns" and run.result()["num_turns"] == 2


def test_headless_default_mode_refuses_what_needs_a_person(repo, env):
    turns = [
        Turn("", (Call("Bash", {"command": "touch made-by-bash"}),)),
        Turn("I was not allowed to run commands.", expect="Permission denied"),
    ]
    server = ScriptedServer(turns)
    with server:
        run = run_freehold(["-p", "x", "--endpoint", server.url, "--model", "m"], repo, env)
    assert run.code == 0 and run.stdout == "I was not allowed to run commands.\n"
    assert not (repo / "made-by-bash").exists()


def test_requests_are_append_only_and_small(repo, env):
    server = ScriptedServer(fix_turns(), dialect="vllm")
    assert_fixed(run_fix(server, repo, env), repo)
    bodies = [r.body for r in server.chat_requests]
    assert len(bodies[0]) <= 12 * 1024
    for before, after in zip(bodies, bodies[1:]):
        assert after.startswith(before[:-2])  # all but the closing "]}" is shared


def test_stream_json_events(repo, env):
    server = ScriptedServer(fix_turns(), dialect="vllm")
    run = run_fix(server, repo, env, "--output-format", "stream-json")
    events = [json.loads(line) for line in run.stdout.splitlines()]
    assert events[0]["type"] == "system" and events[0]["subtype"] == "init"
    assert "Bash" in events[0]["tools"]
    kinds = [(e["type"], e["message"]["content"][0]["type"]) for e in events[1:-1]]
    assert ("assistant", "tool_use") in kinds and ("user", "tool_result") in kinds
    assert events[-1]["type"] == "result" and events[-1]["result"] == FINAL
    uses = [e["message"]["content"][0] for e in events if e["type"] == "assistant" and e["message"]["content"][0]["type"] == "tool_use"]
    assert [u["name"] for u in uses] == ["Read", "Edit", "Bash"]
    assert uses[1]["input"]["new_string"] == "return a + b"


def test_continue_restores_the_conversation(repo, env):
    first = ScriptedServer([Turn("", (Call("Read", {"file_path": "calc.py"}),)), Turn("It subtracts.")])
    with first:
        run = run_freehold(["-p", "What does add do?", "--endpoint", first.url, "--model", "m"], repo, env)
    assert run.code == 0 and run.stdout == "It subtracts.\n"
    second = ScriptedServer([Turn("You asked what add does.", expect="What does add do?")])
    with second:
        again = run_freehold(["-p", "What did I ask?", "--continue", "--endpoint", second.url, "--model", "m",
                              "--output-format", "json"], repo, env)
    assert again.code == 0, again.stderr
    previous = first.chat_requests[-1].body
    assert second.chat_requests[0].body.startswith(previous[:-2])
    session_id = again.result()["session_id"]
    third = ScriptedServer([Turn("Third.", expect="What did I ask?")])
    with third:
        resumed = run_freehold(["-p", "and now?", "--resume", session_id, "--endpoint", third.url, "--model", "m"],
                               repo, env)
    assert resumed.code == 0 and resumed.stdout == "Third.\n"


def test_interrupted_run_resumes_with_the_call_answered(repo, env, tmp_path):
    marker = repo / "started"  # inside the workspace: the only place a command can write
    turns = [Turn("", (Call("Bash", {"command": f"touch {marker}; sleep 60"}),))]
    server = ScriptedServer(turns)
    with server:
        proc = subprocess.Popen([sys.executable, "-m", "freehold", "-p", "run it", "--endpoint", server.url,
                                 "--model", "m", "--permission-mode", "auto"], cwd=repo, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(600):
            if marker.exists():
                break
            subprocess.run(["sleep", "0.05"])
        assert marker.exists(), "the command never started"
        proc.send_signal(2)  # SIGINT, as Ctrl-C
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "resume it with --continue" in err
    second = ScriptedServer([Turn("Resumed.", expect="interrupted")])
    with second:
        run = run_freehold(["-p", "go on", "--continue", "--endpoint", second.url, "--model", "m"], repo, env)
    assert run.code == 0 and run.stdout == "Resumed.\n"


def test_stream_json_keeps_one_event_per_line_whatever_the_model_writes(repo, env):
    # U+2028, U+2029 and NEL are valid raw in JSON, but str.splitlines (and JavaScript) end a line there.
    odd = "a\u2028b\u2029c\x85d"
    with ScriptedServer([Turn(odd)]) as server:
        run = run_freehold(["-p", "x", "--endpoint", server.url, "--model", "m", "--output-format", "stream-json"],
                           repo, env)
    lines = run.stdout.splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["system", "assistant", "result"]
    assert json.loads(lines[-1])["result"] == odd
