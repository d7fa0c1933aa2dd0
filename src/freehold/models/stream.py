"""Assemble one assistant reply from the chunks an OpenAI-compatible server streams.

Servers disagree on how a tool call arrives, and this accepts all of them:
- vLLM / SGLang: the id and name once, then the arguments in many pieces, several calls told
  apart by `index`, usage in a final chunk with no choices;
- Ollama and llama.cpp server: a whole call in one chunk, and `finish_reason: "stop"` even
  though tool calls are present (so the presence of calls, not the finish reason, decides);
- llama-cpp-python: every chunk repeats the id and the name next to an argument piece;
- a non-streaming response: one `message` instead of deltas.
Reasoning arrives as `reasoning_content` (vLLM, DeepSeek), `reasoning` (Ollama, LM Studio) or
inline `<think>` tags; it is kept apart from the answer and never shown as one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from freehold.messages import Reply, ToolCall, Usage
from freehold.models.dialects import extract_text_tool_calls, split_reasoning


@dataclass
class _CallParts:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def add(self, delta: dict[str, Any]) -> None:
        function = delta.get("function") or {}
        name = function.get("name")
        # Repeated names (llama-cpp-python) are the same name again, not a continuation.
        if name and name != self.name:
            self.name = name if not self.name else self.name + name
        arguments = function.get("arguments")
        if isinstance(arguments, dict):  # Ollama's own format sends an object, not text
            arguments = json.dumps(arguments, ensure_ascii=False)
        if arguments:
            self.arguments.append(arguments)


@dataclass
class ReplyBuilder:
    text: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    calls: list[_CallParts] = field(default_factory=list)
    slot_of_index: dict[int, int] = field(default_factory=dict)
    last_index: int = 0
    usage: Usage | None = None
    finish_reason: str | None = None
    # Sees each piece of text as it arrives; True marks reasoning sent apart from the answer.
    on_delta: Callable[[str, bool], None] | None = None

    def feed(self, chunk: dict[str, Any]) -> None:
        """Take one streamed chunk (`delta`) or a whole non-streamed response (`message`)."""
        if isinstance(chunk.get("usage"), dict):
            self.usage = _usage(chunk["usage"])
        for choice in chunk.get("choices") or ():
            part = choice.get("delta") or choice.get("message") or {}
            self._feed_part(part)
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def _feed_part(self, part: dict[str, Any]) -> None:
        if part.get("content"):
            self.text.append(part["content"])
            if self.on_delta is not None:
                self.on_delta(part["content"], False)
        for key in ("reasoning_content", "reasoning"):
            if isinstance(part.get(key), str):
                self.reasoning.append(part[key])
                if self.on_delta is not None and part[key]:
                    self.on_delta(part[key], True)
        for delta in part.get("tool_calls") or ():
            self._slot(delta).add(delta)

    def _slot(self, delta: dict[str, Any]) -> _CallParts:
        call_id = delta.get("id") or ""
        index = delta.get("index")
        if not isinstance(index, int):  # no index: a new id starts a call, the rest continue one
            starts = not self.calls or (call_id and call_id != self.calls[-1].id)
            index = len(self.calls) if starts else self.last_index
        slot = self.slot_of_index.get(index)
        # A new id at a known index is a new call (some servers send every call as index 0);
        # later pieces at that index belong to the newest call there.
        if slot is None or (call_id and self.calls[slot].id not in ("", call_id)):
            self.calls.append(_CallParts())
            slot = self.slot_of_index[index] = len(self.calls) - 1
        self.last_index = index
        if call_id and not self.calls[slot].id:
            self.calls[slot].id = call_id
        return self.calls[slot]

    def build(self, tool_names: list[str]) -> Reply:
        answer, inline_reasoning = split_reasoning("".join(self.text))
        reasoning = "\n".join(r for r in ("".join(self.reasoning).strip(), inline_reasoning) if r)
        calls = [ToolCall(c.id, c.name, "".join(c.arguments)) for c in self.calls if c.name]
        if not calls:
            answer, found = extract_text_tool_calls(answer, tool_names)
            calls = [ToolCall("", name, arguments) for name, arguments in found]
        return Reply(answer.strip(), calls, reasoning, self.usage or Usage(), self.finish_reason)


def _usage(raw: dict[str, Any]) -> Usage:
    def count(key: str) -> int:
        value = raw.get(key)
        return value if isinstance(value, int) else 0

    return Usage(count("prompt_tokens"), count("completion_tokens"))
