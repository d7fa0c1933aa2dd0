"""Decide whether a tool call may run, from the permission mode alone.

    mode           read tools    file edits    shell commands
    plan           allow         deny          deny
    default        allow         ask           ask
    accept-edits   allow         allow         ask
    auto           allow         allow         allow

Reading outside the workspace asks in every mode but `auto`. With no person present
(headless), "ask" is a refusal whose message tells the model why. Rules such as
`Bash(pytest:*)` and organization policy come on top of this table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from freehold.tools.base import Tool, ToolError, Workspace

Verdict = Literal["allow", "ask", "deny"]


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    reason: str


@dataclass(frozen=True)
class Ruling:
    """The final word on one call: whether it runs, what decided, and what the model is told if not."""

    allowed: bool
    by: str
    message: str | None = None


def decide(mode: str, tool: Tool, args: dict[str, Any], workspace: Workspace) -> Decision:
    if tool.read_only:
        if mode != "auto" and _reaches_outside(args, workspace):
            return Decision("ask", f"{tool.name} outside the workspace needs approval in '{mode}' mode")
        return Decision("allow", f"{tool.name} is read-only")
    if mode == "plan":
        return Decision("deny", f"'plan' mode allows read-only tools only; {tool.name} changes things")
    if mode == "auto" or (mode == "accept-edits" and tool.edits_files):
        return Decision("allow", f"'{mode}' mode allows {tool.name}")
    return Decision("ask", f"{tool.name} needs approval in '{mode}' mode")


def _reaches_outside(args: dict[str, Any], workspace: Workspace) -> bool:
    for key in ("file_path", "path"):
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            try:
                if not workspace.contains(workspace.resolve(value)):
                    return True
            except ToolError:
                return False
    return False


def refusal_message(decision: Decision) -> str:
    """What the model is told when a call that needs a person is made with no one to ask."""
    return (
        f"Permission denied: {decision.reason}, and this run is headless with no one to approve it. "
        "Do not retry this call; use another way, or finish and say what you could not do."
    )
