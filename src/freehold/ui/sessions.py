"""/resume and /audit: this directory's sessions to pick from, a resumed conversation's last
exchanges, and the current session's audit trail."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from freehold.errors import UsageError
from freehold.messages import Message

_REPLAY = 6  # messages of a resumed session shown again


def table(sessions: Sequence[Any], current: str) -> RenderableType:
    if not sessions:
        return Text("no sessions in this directory yet", style="dim")
    out = Table(box=None, padding=(0, 2), title="/resume N to continue one", title_justify="left")
    for column in ("#", "session", "last used", "messages", "first prompt"):
        out.add_column(column)
    for number, s in enumerate(sessions, 1):
        mark = " (this one)" if s.id == current else ""
        first = _line(_without_context(s.first_prompt), 60)
        out.add_row(str(number), s.id[:8] + mark, _ago(s.updated_at), str(s.messages), first)
    return out


def pick(sessions: Sequence[Any], choice: str) -> str:
    """The id a `/resume` argument names: a number from the list, or an id or its prefix."""
    if choice.isdigit() and 1 <= int(choice) <= len(sessions):
        return str(sessions[int(choice) - 1].id)
    matches = [s.id for s in sessions if s.id.startswith(choice)]
    if len(matches) == 1:
        return str(matches[0])
    raise UsageError(f"no single session matches {choice!r}; /resume lists them")


def replay(messages: Sequence[Message]) -> RenderableType:
    """The last prompts and answers of a resumed session, to pick up the thread."""
    from freehold.ui.render import markdown

    shown: list[RenderableType] = []
    for m in [m for m in messages if m.role in ("user", "assistant") and m.content][-_REPLAY:]:
        if m.role == "user":
            shown.append(Text("› " + _line(_without_context(m.content), 300), style="bold"))
        else:
            shown.append(markdown(m.content))
    return Group(*shown)


def audit_trail(policy: Any, session_id: str) -> RenderableType:
    """The log verified end to end, then this session's records as `freehold audit show` prints them."""
    from freehold.app import audit_directory
    from freehold.audit.command import render
    from freehold.audit.verify import read_records, verify

    directory = audit_directory(policy)
    if not (directory / "log.jsonl").exists():
        return Text(f"no audit log in {directory} (the policy lets this session run unrecorded)", style="yellow")
    result = verify(directory, None)
    head = (Text(f"verified: {result.size} records, root {result.root}", style="green") if result.ok
            else Text(f"the audit log failed verification: {result.first_bad}", style="bold red"))
    records = [r for r in read_records(directory) if r.get("session") == session_id]
    return Group(head, Text("\n".join(render(records)), style="dim"))


def _without_context(text: str) -> str:
    """A stored prompt without the map or attachments that went before it."""
    for tag in ("</repo-map>", "</file>", "</user-shell-command>", "</note>", "</conversation-summary>"):
        if tag in text:
            text = text.rsplit(tag, 1)[1]
    return text.strip()


def _line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _ago(stamp: float) -> str:
    seconds = max(0, time.time() - stamp)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit} ago"
    return "just now"
