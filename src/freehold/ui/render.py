"""How the terminal UI draws things with rich: answers as Markdown, tool calls in one line,
results summarized, diffs coloured, the live region while the model streams.

Only renderers live here; nothing in this module knows about sessions or threads.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.spinner import Spinner
from rich.text import Text

# A tool's most telling argument, shown beside its name.
_KEY_ARGUMENT = {"Read": "file_path", "Edit": "file_path", "Write": "file_path", "Bash": "command",
                 "Grep": "pattern", "Glob": "pattern", "Search": "query"}
# Text-format tool calls and think tags are not part of the answer a person reads.
_HIDDEN_TAIL = re.compile(r"<tool_call>|<function=|<\|tool_call|\[TOOL_CALLS\]", re.S)
_THINK = re.compile(r"<think>.*?(</think>|$)", re.S)
_PREVIEW_LINES = 3


def markdown(text: str) -> Markdown:
    return Markdown(text, code_theme="monokai")


def tool_line(name: str, args: dict[str, Any] | None, raw: str) -> Text:
    """`● Bash(pytest -q)`: the tool and its key argument, cut to one line."""
    key = _KEY_ARGUMENT.get(name)
    if args is None:
        shown = raw
    elif key and isinstance(args.get(key), str):
        shown = args[key]
    else:
        shown = ", ".join(f"{k}={v!r}" for k, v in args.items())
    shown = " ".join(shown.split())
    if len(shown) > 100:
        shown = shown[:99] + "…"
    line = Text("● ", style="green")
    line.append(name, style="bold")
    line.append(f"({shown})", style="default")
    return line


def result_summary(content: str, is_error: bool) -> Text:
    """`  ⎿  12 lines` and the first lines of the result; /expand shows all of it."""
    lines = content.rstrip("\n").splitlines() or ["(no output)"]
    out = Text("  ⎿  ", style="dim")
    head = lines[:_PREVIEW_LINES] if is_error or len(lines) <= _PREVIEW_LINES + 1 else lines[:_PREVIEW_LINES]
    for i, line in enumerate(head):
        if i:
            out.append("\n     ")
        out.append(line[:160], style="red" if is_error else "dim")
    if len(lines) > len(head):
        out.append(f"\n     … {len(lines) - len(head)} more lines (/expand)", style="dim italic")
    return out


def diff(text: str) -> Text:
    """A unified diff, coloured line by line."""
    out = Text()
    for line in text.splitlines():
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        else:
            style = "dim"
        out.append("    " + line + "\n", style=style)
    return out


def todos(items: list[Any]) -> Text:
    """The task list: done items struck through, the current one bold."""
    out = Text()
    for item in items:
        if item.status == "completed":
            out.append(f"     ☒ {item.content}\n", style="dim strike")
        elif item.status == "in_progress":
            out.append(f"     ▸ {item.content}\n", style="bold")
        else:
            out.append(f"     ☐ {item.content}\n")
    return out


def visible_answer(text: str) -> str:
    """The part of a streaming reply a person should see: no think block, no text tool calls."""
    text = _THINK.sub("", text)
    cut = _HIDDEN_TAIL.search(text)
    return (text[: cut.start()] if cut else text).strip()


@dataclass
class Stream:
    """What the live region shows while the model works: its answer so far and a status line."""

    started: float = field(default_factory=time.monotonic)
    answer: str = ""
    thinking_chars: int = 0
    label: str = "Thinking"

    def add(self, text: str, reasoning: bool) -> None:
        if reasoning:
            self.thinking_chars += len(text)
        else:
            self.answer += text

    def reset(self, label: str = "Thinking") -> None:
        self.answer, self.thinking_chars, self.label = "", 0, label

    def tokens(self) -> int:
        return (len(self.answer) + self.thinking_chars) // 4

    def view(self, height: int) -> RenderableType:
        elapsed = time.monotonic() - self.started
        status = f"{self.label}… {elapsed:.0f}s · ↓ ~{self.tokens()} tokens · esc to interrupt"
        spinner = Spinner("dots", text=Text(status, style="dim"), style="magenta")
        shown = visible_answer(self.answer)
        if not shown:
            return spinner
        tail = "\n".join(shown.splitlines()[-max(3, height - 4):])
        return Group(markdown(tail), spinner)


def tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 10_000 else f"{n:,}"


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"
