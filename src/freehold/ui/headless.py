"""Headless output for `-p`: plain text, one JSON result, or a stream of JSON events.

The shapes follow Claude Code's `-p --output-format json|stream-json`, so CI tooling that
reads those reads Freehold's too.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from freehold.protocol import AssistantText, Event, RunFinished, SessionStarted, ToolResult, ToolUse

FORMATS = ("text", "json", "stream-json")


def result_object(done: RunFinished) -> dict[str, Any]:
    return {
        "type": "result",
        "subtype": done.subtype,
        "is_error": done.is_error,
        "result": done.result,
        "session_id": done.session_id,
        "num_turns": done.num_turns,
        "duration_ms": done.duration_ms,
        "usage": {"input_tokens": done.usage.input_tokens, "output_tokens": done.usage.output_tokens},
    }


def stream_object(event: Event, session_id: str) -> dict[str, Any] | None:
    if isinstance(event, SessionStarted):
        return {"type": "system", "subtype": "init", "session_id": event.session_id, "cwd": event.cwd,
                "model": event.model, "tools": list(event.tools), "permissionMode": event.permission_mode}
    if isinstance(event, AssistantText):
        content: list[dict[str, Any]] = [{"type": "text", "text": event.text}]
        return {"type": "assistant", "message": {"role": "assistant", "content": content}, "session_id": session_id}
    if isinstance(event, ToolUse):
        block = {"type": "tool_use", "id": event.id, "name": event.name,
                 "input": event.input if event.input is not None else {"_raw_arguments": event.raw_arguments}}
        return {"type": "assistant", "message": {"role": "assistant", "content": [block]}, "session_id": session_id}
    if isinstance(event, ToolResult):
        block = {"type": "tool_result", "tool_use_id": event.tool_use_id, "content": event.content,
                 "is_error": event.is_error}
        return {"type": "user", "message": {"role": "user", "content": [block]}, "session_id": session_id}
    if isinstance(event, RunFinished):
        return result_object(event)
    return None


class HeadlessRenderer:
    """Writes events in one of FORMATS. Text mode prints only the final answer; a failed run
    is one line on stderr in every format."""

    def __init__(self, output_format: str, out: TextIO | None = None) -> None:
        self.format = output_format
        self.out = out or sys.stdout
        self.session_id = ""

    def __call__(self, event: Event) -> None:
        if isinstance(event, SessionStarted):
            self.session_id = event.session_id
        if self.format == "stream-json":
            obj = stream_object(event, self.session_id)
            if obj is not None:
                self._line(obj)
        elif isinstance(event, RunFinished):
            self._finished(event)

    def _finished(self, done: RunFinished) -> None:
        if done.is_error:  # in every format: CI logs show why, whatever reads stdout
            print(f"freehold: {done.result}", file=sys.stderr)
        if self.format == "json":
            self._line(result_object(done))
        elif done.result and not done.is_error:
            self.out.write(done.result.rstrip("\n") + "\n")
            self.out.flush()

    def _line(self, obj: dict[str, Any]) -> None:
        self.out.write(json_line(obj))
        self.out.flush()


# Characters that JSON leaves raw but that many line readers (Python's str.splitlines, some
# JavaScript) take for line ends; escaped, one event stays one line whatever a model writes.
_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def json_line(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False).translate(_LINE_BREAKS) + "\n"
