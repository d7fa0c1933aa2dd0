"""Keep every request inside the model's context window, so no server ever truncates one.

Before a request goes out its size is counted (the server's tokenizer, the model's own
vocabulary, or a calibrated estimate that errs high). If the prompt plus the room kept for
the answer would not fit, the oldest tool results are cut to a one-line stub, oldest first,
keeping the system prompt, the task and the latest turn verbatim; then, if the latest results
alone are too big, their middles are cut (head and tail kept, with a note) until they fit; if
even that is not enough, the run stops with `ContextFull` rather than send a request the server
would cut.
The session keeps every message whole: only the request is fitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from freehold.errors import ModelError
from freehold.messages import Message, Reply
from freehold.tools import bounded
from freehold.tools.base import Tool

Count = Callable[[Sequence[Message], Sequence[Tool]], int]

STUB = "[output removed to fit the context window: {chars} characters; run the tool again if it is needed]"


class ContextFull(ModelError):
    """Even with old tool results cut, the conversation does not fit the window."""


@dataclass(frozen=True)
class Limit:
    window: int  # tokens the model serves
    source: str  # where that number came from, for messages
    reserve: int  # tokens kept free for the answer

    @property
    def prompt(self) -> int:
        return self.window - self.reserve


def fit(messages: Sequence[Message], tools: Sequence[Tool], count: Count, limit: Limit) -> list[Message]:
    """`messages` as they can be sent within `limit`: unchanged when they fit."""
    fitted = list(messages)
    used = count(fitted, tools)
    if used <= limit.prompt:
        return fitted
    for index in _cuttable(fitted):
        fitted[index] = replace(fitted[index], content=STUB.format(chars=len(fitted[index].content)))
        used = count(fitted, tools)
        if used <= limit.prompt:
            return fitted
    # The newest results alone are too big: keep the head and tail of each, halving until they fit.
    for _ in range(_HALVINGS):
        newest = [i for i in _newest_results(fitted) if len(fitted[i].content) > _SMALLEST]
        if not newest:
            break
        for i in newest:
            fitted[i] = replace(fitted[i], content=bounded(fitted[i].content, len(fitted[i].content) // 2))
        used = count(fitted, tools)
        if used <= limit.prompt:
            return fitted
    raise ContextFull(
        f"the conversation needs {used} tokens and the model's window is {limit.window} ({limit.source}) with "
        f"{limit.reserve} kept for the answer, even with earlier tool results removed; start a new session "
        "or give the model a larger window"
    )


_HALVINGS = 12
_SMALLEST = 2_000  # characters below which a result is not cut further


def _newest_results(messages: list[Message]) -> list[int]:
    last_assistant = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=len(messages))
    return [i for i in range(last_assistant + 1, len(messages)) if messages[i].role == "tool"]


def _cuttable(messages: list[Message]) -> list[int]:
    """Tool results that may be cut, oldest first: all but those after the last assistant turn."""
    last_assistant = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=len(messages))
    return [i for i, m in enumerate(messages[:last_assistant]) if m.role == "tool" and not m.content.startswith("[output removed")]


class _Model(Protocol):
    @property
    def name(self) -> str: ...
    def complete(self, messages: Sequence[Message], tools: Sequence[Tool]) -> Reply: ...


class BudgetedModel:
    """A model whose every request is fitted to its window first (see the module docstring)."""

    def __init__(self, model: _Model, count: Count, limit: Limit,
                 on_reply: Callable[[Reply], None] | None = None) -> None:
        self.model = model
        self.count = count
        self.limit = limit
        # Sees each reply: its usage calibrates an estimating count (see window.TokenCounter).
        self.on_reply = on_reply

    @property
    def name(self) -> str:
        return self.model.name

    def complete(self, messages: Sequence[Message], tools: Sequence[Tool]) -> Reply:
        reply = self.model.complete(fit(messages, tools, self.count, self.limit), tools)
        if self.on_reply is not None:
            self.on_reply(reply)
        return reply
