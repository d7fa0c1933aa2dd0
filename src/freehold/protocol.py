"""Events the agent emits to a front end: the only contract between the agent and a UI.

Every front end (headless json/stream-json today, the terminal UI later) renders these and
nothing else, so what a user sees and what CI reads come from one source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Union

from freehold.messages import Usage


@dataclass(frozen=True)
class SessionStarted:
    session_id: str
    cwd: str
    model: str
    tools: tuple[str, ...]
    permission_mode: str
    resumed: bool = False


@dataclass(frozen=True)
class AssistantText:
    text: str


@dataclass(frozen=True)
class TextDelta:
    """A piece of the reply as it streams in; `AssistantText` still follows with the whole answer.
    `reasoning` marks the model's thinking, sent apart from the answer."""

    text: str
    reasoning: bool = False


@dataclass(frozen=True)
class ModelRetrying:
    """The model request failed and is tried again; text streamed by the failed attempt is void."""

    reason: str


@dataclass(frozen=True)
class ModelReplied:
    """One model turn is done: what it cost, and so how full the context is."""

    usage: Usage


@dataclass(frozen=True)
class ToolUse:
    id: str
    name: str
    # The arguments as parsed, or None when they could not be parsed (the raw text is kept).
    input: dict[str, Any] | None
    raw_arguments: str


@dataclass(frozen=True)
class ToolResult:
    tool_use_id: str
    content: str
    is_error: bool


@dataclass(frozen=True)
class FileChanged:
    """A tool changed a file: the unified diff of what it did (capped, for display)."""

    tool_use_id: str
    path: str
    diff: str


@dataclass(frozen=True)
class Compacted:
    """Older turns were replaced by a summary (`by` "model", or "digest: why")."""

    removed: int
    by: str
    reason: str


@dataclass(frozen=True)
class SubagentEvent:
    """Something a subagent did, for front ends that show it; `task` is its description."""

    task: str
    event: Any


@dataclass(frozen=True)
class RunFinished:
    subtype: str  # "success" | "error_max_turns" | "error" | "interrupted"
    is_error: bool
    result: str
    session_id: str
    num_turns: int
    duration_ms: int
    usage: Usage = field(default_factory=Usage)


Event = Union[SessionStarted, TextDelta, ModelRetrying, ModelReplied, AssistantText, ToolUse, ToolResult, FileChanged,
              Compacted, SubagentEvent, RunFinished]
Emit = Callable[[Event], None]
