"""Compaction: the older turns of a conversation replaced by a summary, so a long task goes on
in a small window.

When a request would fill `at` of the window's prompt room (or when the person asks, /compact),
everything between the system prompt and the newest turns is summarized: by the model, with a
structured summary (goal, decisions, files, facts, open problems, next step), or, when the model
cannot (an error, an empty answer, no room even for the request), by a digest made without it:
each prompt, each answer's first line, each tool call with its result's first line. The system
prompt, which holds the project's memory, stays as it is, and so do the newest turns, up to
`keep` of the prompt room; the summary goes in one user message between them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from freehold.errors import FreeholdError, Interrupted
from freehold.messages import Message, Reply
from freehold.tools.base import Tool

INSTRUCTION = (
    "Stop working for a moment and summarize this conversation for yourself: the work will go on from your "
    "summary alone, so keep what is needed and drop the rest. Use these headings: Goal; Decisions made; "
    "Files touched (paths and what changed); Facts learned (names, numbers, commands, errors, results); Open "
    "problems; Next step. Be specific and brief. Do not call tools."
)
NOTE = "The earlier conversation was compacted into the summary above; the newest turns follow as they were."
_BYTES_PER_TOKEN = 3  # for sizing the kept turns: errs towards keeping fewer
_DIGEST_LINE = 160


@dataclass(frozen=True)
class Compaction:
    keep_from: int  # the index of the first message kept as it was
    summary: Message
    by: str  # "model", or "digest: <why the model could not>"
    removed: list[Message]

    def removed_sha256(self) -> str:
        """One hash over the removed messages, for the audit log (the store keeps them whole)."""
        return hashlib.sha256("\n".join(m.to_json() for m in self.removed).encode()).hexdigest()


@dataclass
class Compactor:
    model: Any  # a BudgetedModel: it has count() and limit
    at: float = 0.8
    keep: float = 0.3

    def needed(self, messages: Sequence[Message], tools: Sequence[Tool]) -> bool:
        return self.at > 0 and self.model.count(messages, tools) > self.at * self.model.limit.prompt

    def compact(self, messages: Sequence[Message], tools: Sequence[Tool], focus: str = "",
                keep_recent: bool = True) -> Compaction | None:
        """The compaction to make now, or None when there is nothing old enough to replace. With
        `keep_recent`, the newest turns that fit in `keep` stay; without, only the last answer
        (so the next prompt follows an assistant turn, as every chat template wants)."""
        keep_from = self._cut(messages, tools) if keep_recent else _last_answer(messages)
        # On its own, compaction must replace a whole exchange: summarizing one prompt to make
        # room for a result too big anyway is a model call for nothing (the budget cuts the result).
        worth = "assistant" if keep_recent else "user"
        if keep_from <= 1 or not any(m.role == worth for m in messages[1:keep_from]):
            return None
        text, by = self._summary(messages[:keep_from], focus)
        content = f"<conversation-summary>\n{text}\n</conversation-summary>\n{NOTE}"
        if keep_from < len(messages) and messages[keep_from].role == "user":
            # Two user messages in a row break some chat templates: the prompt joins the summary.
            content += "\n\n" + messages[keep_from].content
            keep_from += 1
        return Compaction(keep_from, Message("user", content), by, list(messages[1:keep_from]))

    def _cut(self, messages: Sequence[Message], tools: Sequence[Tool]) -> int:
        """The first index of the newest turns that fit in `keep` of the prompt room, starting
        where a turn starts (never at a tool result); at least the last assistant turn is kept.
        In a window the system prompt and tools nearly fill, they get a quarter of what is left
        below `at`, so that most of it is free for the turns until the next compaction."""
        prompt = self.model.limit.prompt
        left = self.at * prompt - self.model.count(messages[:1], tools)
        room = max(0.0, min(self.keep * prompt, left / 4)) * _BYTES_PER_TOKEN
        starts = [i for i in range(2, len(messages)) if messages[i].role in ("user", "assistant")]
        if not starts:
            return len(messages)
        size, fitting = 0, starts[-1]
        sizes = [len(m.to_json()) for m in messages]
        for i in range(len(messages) - 1, 1, -1):
            size += sizes[i]
            if size > room:
                break
            if i in starts:
                fitting = i
        return fitting

    def _summary(self, messages: Sequence[Message], focus: str) -> tuple[str, str]:
        try:
            return summarize(self.model, messages, focus).text.strip(), "model"
        except Interrupted:
            raise
        except FreeholdError as exc:
            return digest(messages[1:]), f"digest: {exc}"


def _last_answer(messages: Sequence[Message]) -> int:
    return max((i for i, m in enumerate(messages) if m.role == "assistant"), default=len(messages))


def summarize(model: Any, messages: Sequence[Message], focus: str = "") -> Reply:
    """One request with no tools: the conversation, then the instruction (and the person's focus)."""
    from freehold.errors import ModelError

    asked = INSTRUCTION + (f" Focus on: {focus}" if focus.strip() else "")
    reply: Reply = model.complete([*messages, Message("user", asked)], [])
    if not reply.text.strip() or reply.tool_calls:
        raise ModelError("the model gave no summary")
    return reply


def digest(messages: Sequence[Message]) -> str:
    """A summary made without the model: what was asked, said and done, a line each."""
    lines = ["(Made without the model: a line for each step.)"]
    for m in messages:
        if m.role == "user":
            lines.append("User: " + _line(_prompt_only(m.content)))
        elif m.role == "assistant":
            if m.content:
                lines.append("You said: " + _line(m.content))
            lines += [f"You called {c.name}({_line(_arguments(c.arguments), 80)})" for c in m.tool_calls]
        elif m.role == "tool":
            first = m.content.strip().splitlines()[0] if m.content.strip() else "(no output)"
            count = m.content.count("\n") + 1
            lines.append(f"  -> {'error: ' if m.is_error else ''}{_line(first, 100)} ({count} lines)")
    return "\n".join(lines)


def _prompt_only(text: str) -> str:
    for tag in ("</repo-map>", "</file>", "</user-shell-command>", "</note>", "</conversation-summary>"):
        if tag in text:
            text = text.rsplit(tag, 1)[1]
    return text.strip()


def _arguments(raw: str) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(data, dict):
        return ", ".join(f"{k}={v!r}" if not isinstance(v, str) else f"{k}={v}" for k, v in data.items())
    return raw


def _line(text: str, limit: int = _DIGEST_LINE) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
