"""Fitting requests to the context window: unchanged when they fit, oldest tool results cut
first, the latest turn never cut, and a clear stop when nothing more can go."""

from __future__ import annotations

import json

import pytest

from freehold.messages import Message, ToolCall
from freehold.models.budget import ContextFull, Limit, fit


def count(messages, tools):
    """A stand-in tokenizer: one token per 4 bytes of the messages as JSON."""
    return len(json.dumps([m.to_openai() for m in messages])) // 4


def conversation(results: list[int]) -> list[Message]:
    messages = [Message("system", "You are Freehold."), Message("user", "Fix it.")]
    for i, size in enumerate(results):
        messages.append(Message("assistant", "", (ToolCall(f"c{i}", "Read", "{}"),)))
        messages.append(Message("tool", "x" * size, tool_call_id=f"c{i}"))
    return messages


def test_a_conversation_that_fits_is_sent_unchanged():
    messages = conversation([100, 100])
    assert fit(messages, [], count, Limit(4096, "test", 1024)) == messages


def test_the_oldest_tool_results_are_cut_first_and_the_latest_kept():
    messages = conversation([4000, 4000, 4000])
    fitted = fit(messages, [], count, Limit(3000, "test", 500))
    assert count(fitted, []) <= 2500
    tools = [m for m in fitted if m.role == "tool"]
    assert tools[0].content.startswith("[output removed to fit the context window: 4000 characters")
    assert tools[-1].content == "x" * 4000  # the result the model is about to read
    assert [m.role for m in fitted] == [m.role for m in messages]  # nothing dropped: the call/result pairs stay whole


def test_a_newest_result_too_big_alone_keeps_its_head_and_tail():
    messages = conversation([100, 20_000])
    fitted = fit(messages, [], count, Limit(4096, "test", 1024))
    newest = fitted[-1].content
    assert count(fitted, []) <= 3072 and "characters omitted" in newest
    assert newest.startswith("x" * 100) and newest.endswith("x" * 100)


def test_when_nothing_more_can_go_the_run_stops_with_one_clear_line():
    messages = [Message("system", "s" * 40_000), Message("user", "Fix it.")]
    with pytest.raises(ContextFull, match=r"window is 4096 \(vLLM /v1/models max_model_len\) with 1024 kept"):
        fit(messages, [], count, Limit(4096, "vLLM /v1/models max_model_len", 1024))
