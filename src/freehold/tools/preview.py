"""Diffs of file changes: what an Edit or Write would do (for the approval prompt, computed
without writing) and what one did (for the transcript, /diff and the change journal)."""

from __future__ import annotations

import difflib
from typing import Any

from freehold.tools.base import Tool, ToolError, Workspace

MAX_LINES = 400


def unified_diff(path: str, before: str | None, after: str | None, max_lines: int = MAX_LINES) -> str:
    """The unified diff from `before` to `after` (None: no such file), at most `max_lines` lines."""
    old = "/dev/null" if before is None else f"a/{path}"
    new = "/dev/null" if after is None else f"b/{path}"
    lines = list(difflib.unified_diff((before or "").splitlines(), (after or "").splitlines(), old, new,
                                      lineterm="", n=3))
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"… {len(lines) - max_lines} more diff lines"]
    return "\n".join(lines)


def preview(workspace: Workspace, tool: Tool, args: dict[str, Any]) -> str | None:
    """The diff running `tool` with `args` would make, or None: not a file tool, or the call
    would fail (the tool then says why when it runs)."""
    from freehold.tools.files import planned

    if tool.name not in ("Edit", "Write"):
        return None
    try:
        path, before, after = planned(workspace, args, tool.name)
    except (ToolError, OSError):
        return None
    return unified_diff(workspace.display(path), before, after)
