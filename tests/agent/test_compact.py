"""Compaction's choices without a server: where the cut falls, what a digest keeps, and that a
compacted session comes back compacted."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from freehold.agent.compact import Compactor, digest
from freehold.agent.session import SessionStore
from freehold.errors import ModelError
from freehold.messages import Message, Reply, ToolCall
from freehold.models.budget import Limit


class Sized:
    """A model whose count is the conversation's size in bytes over 3, and whose summary is fixed."""

    def __init__(self, prompt_room: int, summary: str | Exception = "Goal: g. Facts learned: f.") -> None:
        self.limit = Limit(prompt_room + 100, "test", 100)
        self.summary = summary
        self.asked: list[list[Message]] = []

    def count(self, messages: Sequence[Message], tools: Sequence[object]) -> int:
        return sum(len(m.to_json()) for m in messages) // 3

    def complete(self, messages: Sequence[Message], tools: Sequence[object]) -> Reply:
        self.asked.append(list(messages))
        if isinstance(self.summary, Exception):
            raise self.summary
        return Reply(self.summary)


def conversation(turns: int, result_size: int = 600) -> list[Message]:
    messages = [Message("system", "sys"), Message("user", "do the task")]
    for n in range(turns):
        call = ToolCall(f"c{n}", "Read", f'{{"file_path": "f{n}.py"}}')
        messages += [Message("assistant", "", (call,)), Message("tool", f"line of f{n}\n" * (result_size // 12),
                                                                   tool_call_id=f"c{n}")]
    return messages


def test_the_cut_keeps_the_newest_turns_and_never_starts_at_a_tool_result():
    messages = conversation(6)
    compactor = Compactor(Sized(1500), at=0.8, keep=0.3)
    assert compactor.needed(messages, [])
    done = compactor.compact(messages, [])
    assert done is not None and messages[done.keep_from].role == "assistant"
    kept = messages[done.keep_from:]
    assert sum(len(m.to_json()) for m in kept) <= 0.3 * 1500 * 3 and len(kept) >= 2
    assert done.removed == messages[1:done.keep_from] and done.by == "model"
    assert done.summary.role == "user" and "<conversation-summary>\nGoal: g." in done.summary.content


def test_a_prompt_right_after_the_cut_joins_the_summary():
    messages = conversation(4) + [Message("assistant", "Done reading."), Message("user", "now fix it")]
    done = Compactor(Sized(200), at=0.5, keep=0.05).compact(messages, [])
    assert done is not None and done.keep_from == len(messages)
    assert done.summary.content.endswith("\n\nnow fix it")


def test_nothing_is_compacted_when_no_exchange_would_go():
    messages = [Message("system", "sys"), Message("user", "read it"),
                Message("assistant", "", (ToolCall("c", "Read", "{}"),)), Message("tool", "x" * 9000, tool_call_id="c")]
    assert Compactor(Sized(1000)).compact(messages, []) is None


def test_without_the_model_a_digest_keeps_each_step():
    messages = conversation(2)
    messages[1] = Message("user", "<repo-map>\nmap\n</repo-map>\n\nfind the magic number")
    text = digest(messages[1:])
    assert "User: find the magic number" in text and "repo-map" not in text
    assert "You called Read(file_path=f0.py)" in text and "-> line of f0 (51 lines)" in text
    done = Compactor(Sized(2000, ModelError("down"))).compact(conversation(6), [])
    assert done is not None and done.by == "digest: down" and "You called Read" in done.summary.content


def test_a_compacted_session_comes_back_compacted(tmp_path: Path):
    store = SessionStore(tmp_path)
    session = store.create("/w", "m", "e")
    for m in conversation(3):
        session.add(m)
    summary = Message("user", "<conversation-summary>\ns\n</conversation-summary>")
    session.compact(5, summary)
    session.add(Message("assistant", "after"))
    expected = [(m.role, m.content) for m in session.messages]
    assert expected[:2] == [("system", "sys"), ("user", summary.content)] and expected[-1] == ("assistant", "after")
    again = SessionStore(tmp_path).open(session.id)
    assert [(m.role, m.content) for m in again.messages] == expected
    again.add(Message("user", "more"))  # seqs go on after every stored row, summary or not
    assert SessionStore(tmp_path).open(session.id).messages[-1].content == "more"
