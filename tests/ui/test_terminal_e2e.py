"""The real `freehold` in a pseudo-terminal against the scripted server: what a person at the
keyboard sees and does. Screens are read through pyte, as a terminal would draw them.

Each test bounds every wait; none asserts how fast anything is.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from conftest import CALC, write

from freehold.testing import Call, ScriptedServer, Turn
from freehold.testing_terminal import Terminal

FIXED = CALC.replace("return a - b", "return a + b")
SCREENS = Path(os.environ.get("FREEHOLD_SCREENS", "")) if os.environ.get("FREEHOLD_SCREENS") else None


def freehold(server: ScriptedServer, repo: Path, env: dict[str, str], *args: str, rows: int = 40) -> Terminal:
    argv = [sys.executable, "-m", "freehold", "--endpoint", server.url, "--model", "m", *args]
    # The repository inside the home directory, as most people's are (the banner shows ~/repo).
    return Terminal(argv, env={**env, "HOME": str(repo.parent)}, cwd=repo, rows=rows, cols=110)


def ready(term: Terminal) -> Terminal:
    term.wait_for("›")
    term.wait_for("ctx ")  # the status line shows the window: the session is open
    return term


def prompt(term: Terminal, text: str) -> None:
    term.send(text)
    term.send_key("enter")


def capture(term: Terminal, name: str) -> None:
    """Keep the screen for docs/screens when FREEHOLD_SCREENS names a directory."""
    if SCREENS is not None:
        SCREENS.mkdir(parents=True, exist_ok=True)
        term.capture(SCREENS / f"{name}.txt")


def audit_records(env: dict[str, str], kind: str) -> list[dict]:
    log = Path(env["FREEHOLD_HOME"]) / "audit" / "log.jsonl"
    return [r for r in map(json.loads, log.read_text().splitlines()) if r.get("type") == kind]


def bodies(server: ScriptedServer) -> list[str]:
    return [r.body.decode() for r in server.chat_requests]


def fix_turns() -> list[Turn]:
    edit = {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}
    return [
        Turn("I'll look at calc.py first.", (Call("Read", {"file_path": "calc.py"}),)),
        Turn("`add` subtracts. Fixing it:", (Call("Edit", edit),), expect="return a - b"),
        Turn("Fixed **add** in `calc.py`:\n\n```python\ndef add(a, b):\n    return a + b\n```", expect="calc.py"),
    ]


def test_one_prompt_and_one_approval_fix_the_bug_and_the_diff_shows_first(repo, env):
    with ScriptedServer(fix_turns()) as server, ready(freehold(server, repo, env)) as term:
        capture(term, "start")
        prompt(term, "Fix the failing test in test_calc.py")
        term.wait_for("Yes, and don't ask again this session for Edit")
        screen = term.screen_text()
        assert "-    return a - b" in screen and "+    return a + b" in screen
        assert (repo / "calc.py").read_text() == CALC  # shown before it is applied
        capture(term, "approval")
        term.send("1")
        term.wait_for("Fixed add in calc.py")
        term.wait_for("›")
        capture(term, "answer")
        assert (repo / "calc.py").read_text() == FIXED
        assert "● Read(calc.py)" in term.transcript and "● Edit(calc.py)" in term.transcript
        prompt(term, "/exit")
        assert term.wait_exit() == 0
    assert "resume it with: freehold --resume" in term.transcript
    edit = [r for r in audit_records(env, "tool_call") if r["name"] == "Edit"]
    assert edit[0]["decided_by"].startswith("the user at the terminal (allowed; asked because mode 'default')")
    history = Path(env["FREEHOLD_HOME"]) / "history"
    assert "Fix the failing test" in history.read_text() and history.stat().st_mode & 0o777 == 0o600


def test_no_with_a_note_tells_the_model_and_changes_nothing(repo, env):
    edit = {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}
    turns = [Turn("", (Call("Edit", edit),)), Turn("Understood, I'll leave it.", expect="use mul instead")]
    with ScriptedServer(turns) as server, ready(freehold(server, repo, env)) as term:
        prompt(term, "fix it")
        term.wait_for("No, and tell the model what to do instead")
        term.send("3")
        term.wait_for("Tell the model what to do instead")
        term.send("use mul instead")
        term.send_key("enter")
        term.wait_for("Understood, I'll leave it.")
        assert (repo / "calc.py").read_text() == CALC
        assert "Permission denied by the user. They said: use mul instead" in bodies(server)[-1]


def test_allow_always_adds_a_session_rule_that_permissions_shows(repo, env):
    echo = Call("Bash", {"command": "echo hi there"})
    turns = [Turn("", (echo,)), Turn("once"), Turn("", (echo,)), Turn("twice")]
    with ScriptedServer(turns) as server, ready(freehold(server, repo, env)) as term:
        prompt(term, "say hi")
        term.wait_for("Bash(echo hi:*)")
        term.send("2")
        term.wait_for("once")
        prompt(term, "again")
        term.wait_for("twice")  # no second question
        assert term.transcript.count("Run this command?") == 1
        prompt(term, "/permissions")
        term.wait_for("session, by the user at the terminal")
    decided = [r["decided_by"] for r in audit_records(env, "tool_call")]
    assert decided[0].endswith("added session allow rules Bash(echo hi:*)")
    assert decided[1].startswith("allow rule Bash(echo hi:*) (session, by the user at the terminal)")


def test_esc_stops_a_streaming_answer_and_the_session_goes_on(repo, env):
    long = " ".join(f"word{i}" for i in range(400))
    turns = [Turn(long, delay=0.05), Turn("Back again.", expect="Interrupted by the user")]
    with ScriptedServer(turns, chunk_size=4) as server, ready(freehold(server, repo, env)) as term:
        prompt(term, "talk for a while")
        term.wait_for("word20")
        term.send_key("esc")
        term.wait_for("interrupted")
        term.wait_until(lambda: "Interrupting" not in term.screen_text(), 30, "the run to end")
        assert "word20" in term.screen_text()  # what was said before the interrupt stays
        capture(term, "interrupted")
        prompt(term, "and now?")
        term.wait_for("Back again.")
    assert server.disconnects >= 1  # the stream was abandoned, not read to the end


def test_esc_stops_a_running_command(repo, env):
    turns = [Turn("", (Call("Bash", {"command": "echo started; sleep 1005.5"}),)),
             Turn("never", expect="never sent")]
    with ScriptedServer(turns) as server, ready(freehold(server, repo, env, "--permission-mode", "auto")) as term:
        prompt(term, "wait")
        term.wait_for("Running Bash")
        term.send_key("esc")
        term.wait_for("interrupted")
        term.wait_for("›")
        assert len(server.chat_requests) == 1


def test_ctrl_c_twice_exits_and_the_session_resumes(repo, env):
    with ScriptedServer([Turn("First answer."), Turn("Second answer.", expect="First answer.")]) as server:
        with ready(freehold(server, repo, env)) as term:
            prompt(term, "hello")
            term.wait_for("First answer.")
            term.wait_for("›")
            term.send_key("ctrl-c")
            term.wait_for("press Ctrl-C again to exit")
            term.send_key("ctrl-c")
            assert term.wait_exit() == 130
        assert "freehold --resume" in term.transcript
        with ready(freehold(server, repo, env, "--continue")) as term:
            term.send_key("up")  # history from the earlier session
            term.wait_for("› hello")
            term.send_key("ctrl-c")  # clears the line
            prompt(term, "and again")
            term.wait_for("Second answer.")


def test_a_dropped_connection_and_a_resize_lose_nothing(repo, env):
    env = {**env, "FREEHOLD_MAX_RETRIES": "0"}
    turns = [Turn(fault="drop"), Turn("Still here.", expect="try once more")]
    with ScriptedServer(turns) as server, ready(freehold(server, repo, env)) as term:
        prompt(term, "first try")
        term.wait_for("the session is kept")
        term.resize(30, 80)
        prompt(term, "try once more")
        term.wait_for("Still here.")
        asked = [m["content"] for m in json.loads(server.chat_requests[-1].body)["messages"] if m["role"] == "user"]
        assert len(asked) == 2 and asked[0].endswith("first try") and asked[1] == "try once more"


def test_bang_runs_a_command_and_the_model_sees_its_output(repo, env):
    with ScriptedServer([Turn("Seen.", expect="marker-4711")]) as server, ready(freehold(server, repo, env)) as term:
        prompt(term, "!echo marker-4711; touch ../escaped.txt")
        term.wait_for("(exit 0)")
        # It ran in the sandbox: the repository's parent is under the host's /tmp, and the
        # sandbox's /tmp is its own, so the file is not where the host would have put it.
        assert not (repo.parent / "escaped.txt").exists()
        prompt(term, "what did I run?")
        term.wait_for("Seen.")
        assert "The user ran this command themselves" in bodies(server)[0]
    ran = audit_records(env, "user_command")
    assert ran[0]["command"] == "echo marker-4711; touch ../escaped.txt" and ran[0]["exit_code"] == 0


def test_at_path_attaches_a_file_and_completes_it(repo, env):
    with ScriptedServer([Turn("It subtracts.", expect="return a - b")]) as server, \
            ready(freehold(server, repo, env)) as term:
        term.send("what does @cal")
        term.wait_for("calc.py")  # the completion menu
        term.send_key("tab")
        term.send(" do?")
        term.send_key("enter")
        term.wait_for("It subtracts.")
        asked = json.loads(server.chat_requests[0].body)["messages"][-1]["content"]
        assert '<file path="calc.py">\n' + CALC in asked and asked.endswith("what does @calc.py do?")


def test_a_large_paste_is_folded_and_sent_whole(repo, env):
    pasted = "\n".join(f"log line {i}" for i in range(40))
    with ScriptedServer([Turn("Got the log.", expect="log line 39")]) as server, \
            ready(freehold(server, repo, env)) as term:
        term.send("look: ")
        term.send(f"\x1b[200~{pasted}\x1b[201~")
        term.wait_for("[Pasted text #1 +40 lines]")
        term.send_key("enter")
        term.wait_for("Got the log.")


def test_slash_commands(repo, env):
    edit = {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}
    write(repo, ".freehold/commands/explain.md", "---\ndescription: explain a file\n---\nExplain $ARGUMENTS briefly.")
    turns = [Turn("", (Call("Edit", edit),)), Turn("Done."), Turn("It adds.", expect="Explain calc.py briefly.")]
    with ScriptedServer(turns) as server, \
            ready(freehold(server, repo, env, "--permission-mode", "accept-edits")) as term:
        prompt(term, "/help")
        term.wait_for("explain a file")
        capture(term, "help")
        for name in ("/model", "/permissions", "/compact", "/resume", "/undo", "/audit", "/policy", "/diff"):
            assert name in term.screen_text()
        prompt(term, "fix it")
        term.wait_for("Done.")
        prompt(term, "/diff")
        def session_diff_shown() -> bool:
            head, found, tail = term.screen_text().rpartition("1 file changed by the agent in this session")
            return bool(found) and "+    return a + b" in tail

        term.wait_until(session_diff_shown, 20, "the session's diff")
        capture(term, "diff")
        prompt(term, "/expand")
        term.wait_for("Edited calc.py at line 2:")
        prompt(term, "/cost")
        term.wait_for("money: none")
        prompt(term, "/undo")
        term.wait_for("restored")
        assert (repo / "calc.py").read_text() == CALC
        prompt(term, "/rewind")
        term.wait_for("1  before Edit(calc.py)")
        prompt(term, "/rewind 1")
        term.wait_for("the conversation is unchanged")
        assert (repo / "calc.py").read_text() == CALC
        prompt(term, "/audit")
        term.wait_for("verified:")
        term.wait_for("restored by the user: calc.py")
        prompt(term, "/model")
        term.wait_for("served: scripted-model")
        prompt(term, "/permissions deny Bash(rm:*)")
        term.wait_for("added deny Bash(rm:*)")
        prompt(term, "/explain calc.py")
        term.wait_for("It adds.")
        assert "The user undid your last change to calc.py" in bodies(server)[-1]
        prompt(term, "/clear")
        term.wait_for("new session")
        prompt(term, "/resume")
        term.wait_for("(this one)")
        capture(term, "resume")
        prompt(term, "/exit")
        assert term.wait_exit() == 0


def test_a_server_down_at_start_is_retried_on_the_next_prompt(repo, env):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**env, "FREEHOLD_MAX_RETRIES": "0"}
    argv = [sys.executable, "-m", "freehold", "--endpoint", f"http://127.0.0.1:{port}/v1", "--model", "m"]
    with Terminal(argv, env=env, cwd=repo, rows=40, cols=110) as term:
        term.wait_for("›")
        prompt(term, "are you there?")
        term.wait_for("[Errno 111]")
        term.wait_for("the session is kept")
        with ScriptedServer([Turn("Here now.")], port=port):
            prompt(term, "are you there now?")
            term.wait_for("Here now.")


def test_compact_replaces_the_conversation_by_a_summary(repo, env):
    summary = "Goal: greet. Facts learned: the user's name is Ada."
    turns = [Turn("Hello Ada."), Turn(summary, expect="summarize this conversation"),
             Turn("Still Ada.", expect="the user's name is Ada")]
    with ScriptedServer(turns) as server, ready(freehold(server, repo, env)) as term:
        prompt(term, "I am Ada")
        term.wait_for("Hello Ada.")
        prompt(term, "/compact names")
        term.wait_for("compacted 1 message into a summary by the model")
        prompt(term, "who am I?")
        term.wait_for("Still Ada.")
        last = json.loads(server.chat_requests[-1].body)["messages"]
        # The prompt is replaced by the summary; the last answer stays, so roles still alternate.
        assert [(m["role"], m["content"][:22]) for m in last] == [
            ("system", last[0]["content"][:22]), ("user", "<conversation-summary>"), ("assistant", "Hello Ada."),
            ("user", "who am I?")]
        assert "I am Ada" not in json.dumps(last)
        assert "Focus on: names" in bodies(server)[1]
    compactions = audit_records(env, "compaction")
    assert compactions[0]["by"] == "model" and compactions[0]["removed_messages"] == 1


def test_model_switches_to_another_served_model(repo, env):
    with ScriptedServer([Turn("From the other one.")]) as server:
        server.extra_models = ("other-model",)
        with ready(freehold(server, repo, env)) as term:
            prompt(term, "/model other-model")
            term.wait_for("model other-model at")
            prompt(term, "/model no-such-model")
            term.wait_for("the server does not serve 'no-such-model'")
            prompt(term, "hello")
            term.wait_for("From the other one.")
        assert json.loads(server.chat_requests[-1].body)["model"] == "other-model"


def test_keys_typed_ahead_never_answer_a_question(repo, env):
    edit = {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}
    turns = [Turn("Looking closely at it. " * 12, (Call("Edit", edit),), delay=0.03), Turn("Left alone.")]
    with ScriptedServer(turns, chunk_size=6) as server, ready(freehold(server, repo, env)) as term:
        prompt(term, "fix it")
        term.wait_for("Looking closely")
        term.send("1")  # typed while the model streams, before any question
        term.wait_for("No, and tell the model what to do instead")
        term.read(1.0)  # time for a wrongly taken answer to show
        assert (repo / "calc.py").read_text() == CALC and "Edit calc.py?" in term.screen_text()
        term.send("3")
        term.wait_for("Tell the model what to do instead")
        term.send_key("enter")
        term.wait_for("Left alone.")
        term.wait_for("› 1")  # the typed-ahead key waits in the next prompt
        assert (repo / "calc.py").read_text() == CALC


def test_continue_with_no_session_is_one_line_and_exit_2(repo, env):
    with ScriptedServer([]) as server, freehold(server, repo, env, "--continue") as term:
        assert term.wait_exit() == 2
    assert "freehold: no earlier session in" in term.transcript and "Traceback" not in term.transcript


def test_a_stream_cut_short_is_retried_and_its_text_not_kept(repo, env):
    turns = [Turn(fault="drop"), Turn("The whole answer.")]
    with ScriptedServer(turns) as server, ready(freehold(server, repo, env)) as term:
        prompt(term, "hello")
        term.wait_for("trying again")
        term.wait_for("The whole answer.")
        term.wait_for("1 turn ·")
        assert "I will start by reading" not in term.screen_text()  # the cut attempt's text is gone


def test_a_warning_while_the_session_opens_shows_above_the_prompt(repo, env):
    server = ScriptedServer([Turn("Fine.")], dialect="ollama", model="m", context_window=4096)
    server.ollama_num_ctx_set = False  # Ollama's default window: a warning, printed by the opener
    with server, ready(freehold(server, repo, env)) as term:
        term.wait_for("Ollama cuts longer")
        prompt(term, "hello")
        term.wait_for("Fine.")
        screen = term.screen_text()
        assert screen.index("Ollama cuts longer") < screen.index("› hello")  # above, not inside the prompt


def test_a_plan_accepted_goes_on_in_the_chosen_mode(repo, env):
    edit = {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}
    turns = [Turn("Plan:\n1. In calc.py, make add() add.\n2. Run the test."),
             Turn("", (Call("Edit", edit),), expect="The plan is accepted"), Turn("Done as planned.")]
    with ScriptedServer(turns) as server, ready(freehold(server, repo, env, "--permission-mode", "plan")) as term:
        prompt(term, "fix the failing test")
        term.wait_for("Accept this plan and carry it out?")
        assert (repo / "calc.py").read_text() == CALC
        term.send("2")
        term.wait_for("Done as planned.")
        assert (repo / "calc.py").read_text() == FIXED  # no question: accept-edits
        assert "Edit calc.py?" not in term.transcript


def test_the_task_list_is_shown_as_the_model_keeps_it(repo, env):
    todos = [{"content": "Read calc.py", "status": "completed"}, {"content": "Fix add", "status": "in_progress"},
             {"content": "Run the tests", "status": "pending"}]
    turns = [Turn("", (Call("TodoWrite", {"todos": todos}),)), Turn("Working on it.", expect="Now: Fix add")]
    with ScriptedServer(turns) as server, ready(freehold(server, repo, env, "--permission-mode", "plan")) as term:
        prompt(term, "fix it")
        term.wait_for("Working on it.")
        screen = term.screen_text()
        assert "☒ Read calc.py" in screen and "▸ Fix add" in screen and "☐ Run the tests" in screen
