"""The tools the model can call, and the one path every call takes to run.

    files.py       Read, Write, Edit
    edit_match.py  the Edit matcher and its fallback rules
    shell.py       Bash
    search.py      Grep, Glob
    arguments.py   argument JSON, parsed and repaired where unambiguous
    schema.py      argument validation and coercion by JSON schema
    base.py        Tool, ToolError, Workspace
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freehold.messages import ToolCall
from freehold.tools.base import Tool, ToolError, Workspace


@dataclass(frozen=True)
class Prepared:
    """A call resolved to a tool with validated arguments, or the error that stopped it."""

    call: ToolCall
    tool: Tool | None
    input: dict[str, Any] | None
    error: str | None = None


@dataclass(frozen=True)
class FileChange:
    path: str  # as the model sees it
    sha256_before: str | None
    sha256_after: str | None
    # The contents either side (None: no such file), for the diff shown and for undo.
    before: bytes | None = None
    after: bytes | None = None
    real_path: Path | None = None


@dataclass(frozen=True)
class Outcome:
    content: str
    is_error: bool
    # What a file-editing tool did to its file, for the audit log.
    change: FileChange | None = None


# No single result may flood a small context window: about 15k tokens at most.
MAX_RESULT_CHARS = 60_000


def bounded(content: str, limit: int = MAX_RESULT_CHARS) -> str:
    """`content`, or its head and tail with a note saying what was left out and what to do."""
    if len(content) <= limit:
        return content
    keep = limit // 2
    omitted = len(content) - 2 * keep
    note = f"\n[... {omitted} characters omitted: this result was too long; ask for less (offset/limit, a narrower pattern) ...]\n"
    return content[:keep] + note + content[-keep:]



def default_tools() -> list[Tool]:
    from freehold.tools.files import EDIT, READ, WRITE
    from freehold.tools.search import GLOB, GREP
    from freehold.tools.shell import BASH

    return [READ, EDIT, WRITE, BASH, GREP, GLOB]


class Toolbox:
    def __init__(self, tools: list[Tool], workspace: Workspace) -> None:
        self.tools = tools
        self.by_name = {tool.name: tool for tool in tools}
        self.workspace = workspace

    def prepare(self, call: ToolCall) -> Prepared:
        """Resolve the name and parse and validate the arguments; failures become messages."""
        from freehold.tools.arguments import parse_arguments
        from freehold.tools.schema import ArgumentsError, resolve_tool_name, validate_arguments

        name = resolve_tool_name(call.name, list(self.by_name))
        if name is None:
            valid = ", ".join(self.by_name)
            return Prepared(call, None, None, f"Error: there is no tool named {call.name!r}. Valid tools: {valid}.")
        tool = self.by_name[name]
        try:
            return Prepared(call, tool, validate_arguments(parse_arguments(call.arguments), tool.parameters))
        except ArgumentsError as exc:
            return Prepared(call, tool, None, f"Error: invalid arguments for {name}: {exc}")

    def run(self, prepared: Prepared) -> Outcome:
        """Run a prepared call (the caller has decided it may run); failures become messages."""
        tool, args = prepared.tool, prepared.input
        if prepared.error is not None or tool is None or args is None:
            return Outcome(prepared.error or "Error: the call could not be prepared", True)
        target = self._target(tool, args)
        before = _contents(target)
        outcome = self._run(tool, args)
        after = _contents(target)
        if target is not None and after != before:
            change = FileChange(self.workspace.display(target), _sha256(before), _sha256(after), before, after, target)
            return Outcome(outcome.content, outcome.is_error, change)
        return outcome

    def _run(self, tool: Tool, args: dict[str, Any]) -> Outcome:
        try:
            return Outcome(tool.run(self.workspace, args), False)
        except ToolError as exc:
            return Outcome(f"Error: {exc}", True)
        except OSError as exc:
            return Outcome(f"Error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), True)
        except Exception as exc:  # a bug in a tool must not end the session; the model is told
            return Outcome(f"Error: {tool.name} failed unexpectedly: {type(exc).__name__}: {exc}", True)

    def _target(self, tool: Tool, args: dict[str, Any]) -> Path | None:
        """The file an editing tool will change, to hash before and after."""
        path = args.get("file_path")
        if not tool.edits_files or not isinstance(path, str):
            return None
        try:
            return self.workspace.resolve(path)
        except ToolError:
            return None


def _contents(path: Path | None) -> bytes | None:
    try:
        return path.read_bytes() if path is not None and path.is_file() else None
    except OSError:
        return None


def _sha256(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None
