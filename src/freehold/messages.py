"""Provider-neutral conversation data: what the agent, the store and the model client share."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """One call the model asked for. `arguments` is the JSON text as the model wrote it."""

    id: str
    name: str
    arguments: str


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    # True when the server reported no counts and these were estimated from sizes.
    estimated: bool = False

    def add(self, other: Usage) -> None:
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.estimated = self.estimated or other.estimated


@dataclass(frozen=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    # The model's reasoning, kept for the record but never sent back: chat templates drop it.
    reasoning: str | None = None
    is_error: bool = False

    def to_openai(self) -> dict[str, Any]:
        """The message as the chat completions API takes it; keys in a fixed order."""
        out: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            out["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
                for c in self.tool_calls
            ]
        if self.tool_call_id is not None:
            out["tool_call_id"] = self.tool_call_id
        return out

    def to_json(self) -> str:
        data: dict[str, Any] = {"role": self.role, "content": self.content}
        if self.tool_calls:
            data["tool_calls"] = [[c.id, c.name, c.arguments] for c in self.tool_calls]
        if self.tool_call_id is not None:
            data["tool_call_id"] = self.tool_call_id
        if self.reasoning:
            data["reasoning"] = self.reasoning
        if self.is_error:
            data["is_error"] = True
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Message:
        data = json.loads(text)
        return cls(
            role=data["role"],
            content=data.get("content", ""),
            tool_calls=tuple(ToolCall(*c) for c in data.get("tool_calls", ())),
            tool_call_id=data.get("tool_call_id"),
            reasoning=data.get("reasoning"),
            is_error=data.get("is_error", False),
        )


@dataclass
class Reply:
    """What one model request produced, after dialects are resolved."""

    text: str
    tool_calls: list[ToolCall] = field(default_factory=list)
    reasoning: str = ""
    usage: Usage = field(default_factory=Usage)
    finish_reason: str | None = None

    def as_message(self) -> Message:
        return Message("assistant", self.text, tuple(self.tool_calls), reasoning=self.reasoning or None)
