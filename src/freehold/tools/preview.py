"""Diffs of file changes: what an Edit or Write would do (for the approval prompt, computed
without writing) and what one did (for the transcript, /diff and the change journal)."""

from __future__ import annotations

import difflib
from typing import Any

from freehold.tools.base import Tool, ToolError, Workspace

MAX_LINES = 400
# difflib is slow on big files and a person cannot review a diff that long anyway.
MAX_BYTES = 2 * 1024 * 1024
_SNIFF_BYTES = 8192
_NO_EOL = "\n\\ No newline at end of file\n"


def unified_diff(path: str, before: str | None, after: str | None, max_lines: int = MAX_LINES) -> str:
    """The unified diff from `before` to `after` (None: no such file), at most `max_lines` lines."""
    old = "/dev/null" if before is None else f"a/{path}"
    new = "/dev/null" if after is None else f"b/{path}"
    text = "".join(difflib.unified_diff(_lines(before), _lines(after), old, new, n=3))
    if not text and (before is None) != (after is None):
        text = f"--- {old}\n+++ {new}\n"  # an empty file made or removed: no hunk, but a change
    lines = text.removesuffix("\n").split("\n") if text else []
    if len(lines) > max_lines:
        lines = lines[:max_lines] + [f"… {len(lines) - max_lines} more diff lines"]
    return "\n".join(lines)


def _lines(text: str | None) -> list[str]:
    """Lines split at "\\n" only (as Read and Edit count them), marking a last line without one."""
    parts = (text or "").split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    return lines + [parts[-1] + _NO_EOL] if parts[-1] else lines


def file_diff(path: str, before: bytes | None, after: bytes | None) -> str:
    """`unified_diff` of file contents; a binary or huge file gets a one-line note instead."""
    if not any(_unshowable(data) for data in (before, after)):
        return unified_diff(path, _text(before), _text(after))
    old = "/dev/null" if before is None else f"a/{path}"
    new = "/dev/null" if after is None else f"b/{path}"
    sizes = " -> ".join("none" if d is None else f"{len(d):,} bytes" for d in (before, after))
    return f"--- {old}\n+++ {new}\nbinary or large file changed ({sizes}); no diff shown"


def _unshowable(data: bytes | None) -> bool:
    return data is not None and (len(data) > MAX_BYTES or b"\0" in data[:_SNIFF_BYTES])


def _text(data: bytes | None) -> str | None:
    return None if data is None else data.decode("utf-8", "replace")


def preview(workspace: Workspace, tool: Tool, args: dict[str, Any]) -> str | None:
    """The diff running `tool` with `args` would make, or None: not a file tool, a binary or
    huge file, or the call would fail (the tool then says why when it runs)."""
    from freehold.tools.files import planned

    if tool.name not in ("Edit", "Write") or _size_now(workspace, args) > MAX_BYTES:
        return None
    try:
        # The same resolution, workspace checks and matcher the tools use, without the write.
        path, before, after = planned(workspace, args, tool.name)
    except (ToolError, OSError):
        return None
    if len(after.encode("utf-8", "surrogatepass")) > MAX_BYTES or "\0" in after:
        return None
    return unified_diff(workspace.display(path), before, after)


def _size_now(workspace: Workspace, args: dict[str, Any]) -> int:
    """The target's size, checked before `planned` reads it; 0 when it cannot be known here."""
    asked = args.get("file_path")
    try:
        return workspace.resolve(asked).stat().st_size if isinstance(asked, str) else 0
    except (ToolError, OSError):
        return 0
