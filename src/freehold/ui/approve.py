"""The approval prompt: what exactly will run or change, and the person's answer.

    1  yes, once
    2  yes, and allow it for the rest of the session (adds the suggested rules)
    3  no, with a note for the model
    Esc  no, and stop the run
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from freehold.policy.permissions import Approval, Decision
from freehold.policy.rules import Rule
from freehold.tools.base import Tool, Workspace
from freehold.ui.keys import KeyWatcher

BY = "the user at the terminal"


def describe(tool: Tool, args: dict[str, Any], decision: Decision, workspace: Workspace,
             rules: tuple[Rule, ...]) -> RenderableType:
    from freehold.tools.preview import preview
    from freehold.ui.render import diff

    if tool.name == "Bash":
        body: RenderableType = Text(str(args.get("command", "")), style="bold")
        title = "Run this command?"
    else:
        change = preview(workspace, tool, args) if tool.edits_files else None
        body = diff(change) if change else Text(_arguments(args))
        title = f"{tool.name} {args.get('file_path') or args.get('path') or ''}?".replace(" ?", "?")
    options = Text()
    options.append("\n 1 ", style="bold")
    options.append("Yes")
    if rules:
        options.append("\n 2 ", style="bold")
        options.append("Yes, and don't ask again this session for " + ", ".join(r.text for r in rules))
    options.append("\n 3 ", style="bold")
    options.append("No, and tell the model what to do instead")
    options.append("\n esc ", style="bold")
    options.append("No, and stop")
    reason = Text(f"asked because {decision.reason}", style="dim")
    return Panel(Group(body, reason, options), title=title, title_align="left", border_style="yellow")


def choose(keys: KeyWatcher, rules: tuple[Rule, ...], note: Callable[[], str]) -> Approval:
    """Wait for one key, pressed after the question showed (type-ahead goes to the next prompt,
    so an Enter meant for it approves nothing). The answer's note "interrupt" asks the caller
    to stop the run."""
    keys.drain()
    while True:
        key = keys.poll(timeout=0.2, keep=False)
        if key in ("1", "y"):
            return Approval(True, BY)
        if key in ("2", "a") and rules:
            return Approval(True, BY, remember=rules)
        if key in ("3", "n"):
            return Approval(False, BY, note() or None)
        if key == "esc":
            return Approval(False, BY, "interrupt")


def _arguments(args: dict[str, Any]) -> str:
    import json

    text = json.dumps(args, ensure_ascii=False, indent=2)
    return text if len(text) <= 4000 else text[:4000] + "\n…"


PLAN_MODES = {"1": "default", "2": "accept-edits", "3": "auto"}


def choose_plan(keys: KeyWatcher, console: Any, policy: Any) -> str | None:
    """After a plan: the mode to carry it out in (only those the policy allows), or None to keep planning."""
    allowed = {key: mode for key, mode in PLAN_MODES.items() if policy.check_mode(mode)[0]}
    text = Text("Accept this plan and carry it out?", style="bold")
    for key, mode in allowed.items():
        text.append(f"\n {key} ", style="bold")
        text.append({"default": "Yes, asking before each edit and command", "accept-edits": "Yes, edits without asking",
                     "auto": "Yes, everything without asking"}[mode])
    text.append("\n n ", style="bold")
    text.append("No, keep planning")
    console.print(Panel(text, border_style="green"))
    with keys.watching():
        keys.drain()
        while True:
            key = keys.poll(timeout=0.2, keep=False)
            if key in allowed:
                return allowed[key]
            if key in ("n", "esc"):
                return None
