"""The loop when the person interrupts: every call answered, the run ended as "interrupted",
the conversation valid for the next prompt; and what it tells the front end about files."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from freehold.agent.loop import INTERRUPTED_REPLY, NOT_RUN, Agent
from freehold.agent.session import SessionStore
from freehold.cancel import Cancel
from freehold.errors import Interrupted
from freehold.messages import Message, Reply, ToolCall
from freehold.policy.permissions import Permissions, gate
from freehold.protocol import FileChanged
from freehold.tools import Toolbox, default_tools
from freehold.tools.base import Tool, Workspace

class Script:
    """Replies in order; a reply that is an exception is raised instead (as the client would)."""

    def __init__(self, replies: list[Reply | Exception]) -> None:
        self.replies = replies
        self.seen: list[list[Message]] = []

    def complete(self, messages: Sequence[Message], tools: Sequence[Tool]) -> Reply:
        self.seen.append(list(messages))
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

def agent_for(tmp_path: Path, model: Script, cancel: Cancel, events: list) -> Agent:
    root = tmp_path / "ws"
    root.mkdir(exist_ok=True)
    workspace = Workspace.at(root)
    session = SessionStore(tmp_path / "home").create(str(root), "m", "here")
    session.add(Message("system", "sys"))
    decide = gate(Permissions("auto", workspace), approver=None)
    return Agent(model, Toolbox(default_tools(), workspace), session, decide, events.append, cancel=cancel)

def test_an_interrupt_during_a_command_stops_it_and_answers_every_call(tmp_path):
    calls = [ToolCall("a", "Bash", '{"command": "sleep 1004.5"}'), ToolCall("b", "Bash", '{"command": "echo no"}')]
    model, cancel, events = Script([Reply("", calls), Reply("never asked")]), Cancel(), []
    agent = agent_for(tmp_path, model, cancel, events)
    timer = threading.Timer(0.5, cancel.set)
    timer.start()
    with cancel.active():
        done = agent.run("go")
    timer.cancel()
    assert done.subtype == "interrupted" and done.is_error
    assert agent.failure is not None and agent.failure.exit_code == 130
    results = {m.tool_call_id: m.content for m in agent.session.messages if m.role == "tool"}
    assert results["a"].endswith("Interrupted: the user stopped the command; its process group was killed")
    assert results["b"] == NOT_RUN
    assert model.replies == [Reply("never asked")]  # no model turn after the interrupt

def test_an_interrupt_before_the_answer_leaves_a_valid_exchange(tmp_path):
    model, cancel, events = Script([Interrupted("interrupted by the user"), Reply("Hello again.")]), Cancel(), []
    agent = agent_for(tmp_path, model, cancel, events)
    done = agent.run("first")
    assert done.subtype == "interrupted"
    assert [(m.role, m.content) for m in agent.session.messages[1:]] == [("user", "first"),
                                                                      ("assistant", INTERRUPTED_REPLY)]
    again = agent.run("second")
    assert again.subtype == "success" and again.result == "Hello again."
    roles = [m.role for m in model.seen[-1]]
    assert roles == ["system", "user", "assistant", "user"]

def test_an_edit_is_shown_as_a_diff_and_handed_to_the_journal(tmp_path):
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    edit = ToolCall("e", "Edit", '{"file_path": "calc.py", "old_string": "a - b", "new_string": "a + b"}')
    model, cancel, events = Script([Reply("", [edit]), Reply("Fixed.")]), Cancel(), []
    agent = agent_for(tmp_path, model, cancel, events)
    changes = []
    agent.on_change = lambda call_id, change: changes.append((call_id, change.before, change.after))
    agent.run("fix it")
    shown = [e for e in events if isinstance(e, FileChanged)]
    assert len(shown) == 1 and shown[0].path == "calc.py"
    assert "-    return a - b" in shown[0].diff and "+    return a + b" in shown[0].diff
    assert changes == [("e", b"def add(a, b):\n    return a - b\n", b"def add(a, b):\n    return a + b\n")]
