"""Compaction on request (/compact): the model summarizes the conversation, and work goes on
from the summary in a fresh context."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from freehold.errors import ModelError
from freehold.messages import Message, Reply

INSTRUCTION = (
    "Stop working for a moment and summarize this conversation for yourself: the work will go on from your "
    "summary alone, so keep what is needed and drop the rest. Use these headings: Goal; Decisions made; "
    "Files touched (paths and what changed); Facts learned (names, commands, errors, results); Open problems; "
    "Next step. Be specific and brief. Do not call tools."
)


def summarize(model: Any, messages: Sequence[Message], focus: str = "") -> Reply:
    """One request with no tools: the conversation, then the instruction (and the person's focus)."""
    asked = INSTRUCTION + (f" Focus on: {focus}" if focus.strip() else "")
    reply: Reply = model.complete([*messages, Message("user", asked)], [])
    if not reply.text.strip():
        raise ModelError("the model gave no summary; the conversation is unchanged")
    return reply
