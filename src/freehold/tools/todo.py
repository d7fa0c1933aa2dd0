"""TodoWrite: the task list the model keeps for a multi-step task, and the UI shows.

Each call sends the whole list, which replaces the one before. It changes nothing on disk, so it
is allowed in every mode, plan mode included. Small models get the shape wrong in known ways
(the list as a JSON string, "done" for "completed"); those are taken as meant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from freehold.tools.base import Tool, ToolError, Workspace

STATUSES = ("pending", "in_progress", "completed")
_SYNONYMS = {"in progress": "in_progress", "in-progress": "in_progress", "inprogress": "in_progress",
             "doing": "in_progress", "active": "in_progress", "done": "completed", "complete": "completed",
             "finished": "completed", "todo": "pending", "not started": "pending"}
MAX_ITEMS = 50
MAX_CONTENT = 500

DESCRIPTION = (
    "Keep a task list for a task of 3 or more steps (not for trivial ones). Send the whole list each time. "
    "Mark one item in_progress before starting it, and completed as soon as it is done."
)
PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "todos": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "content": {"type": "string", "description": 'Imperative, e.g. "Run the tests"'},
                    # Advertised to the model; schema.py does not check nested enums, so synonyms
                    # such as "done" still reach _item and are normalized there.
                    "status": {"type": "string", "enum": list(STATUSES)},
                    "id": {"type": "string"},
                },
                "required": ["content", "status"],
            },
        },
    },
    "required": ["todos"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Todo:
    content: str
    status: str


@dataclass
class TodoList:
    items: list[Todo] = field(default_factory=list)

    def update(self, raw: Any) -> str:
        """Replace the list with `raw` (as the model sent it); the result the model reads."""
        entries = _as_list(raw)
        if len(entries) > MAX_ITEMS:
            raise ToolError(f"at most {MAX_ITEMS} items, got {len(entries)}; merge some")
        items = [_item(entry, n) for n, entry in enumerate(entries, 1)]
        if sum(item.status == "in_progress" for item in items) > 1:
            raise ToolError("only one item may be in_progress; mark the others pending or completed")
        self.items = items
        return summary(items)


def summary(items: list[Todo]) -> str:
    if not items:
        return "Todo list cleared."
    counts = {status: sum(item.status == status for item in items) for status in STATUSES}
    if counts["completed"] == len(items):
        return f"All {len(items)} items completed." if len(items) > 1 else "The one item is completed."
    now = next((item.content for item in items if item.status == "in_progress"), None)
    return (f"Todo list updated: {counts['completed']} completed, {counts['in_progress']} in progress, "
            f"{counts['pending']} pending." + (f" Now: {_sentence(now)}" if now else ""))


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def todo_tool(todos: TodoList) -> Tool:
    def run(workspace: Workspace, args: dict[str, Any]) -> str:
        return todos.update(args.get("todos"))

    return Tool("TodoWrite", DESCRIPTION, PARAMETERS, run, read_only=True)


def _as_list(raw: Any) -> list[Any]:
    if isinstance(raw, str):  # a list sent as JSON text
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ToolError("todos must be a list of {content, status} objects") from None
    if not isinstance(raw, list):
        raise ToolError("todos must be a list of {content, status} objects")
    return raw


def _item(entry: Any, number: int) -> Todo:
    if not isinstance(entry, dict):
        raise ToolError(f"item {number} must be an object with content and status")
    content = entry.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ToolError(f"item {number} needs a non-empty content")
    if len(content) > MAX_CONTENT:
        raise ToolError(f"item {number} is over {MAX_CONTENT} characters; make it shorter")
    status = str(entry.get("status", "")).strip().lower()
    status = _SYNONYMS.get(status, status.replace(" ", "_"))
    if status not in STATUSES:
        raise ToolError(f"item {number} has status {entry.get('status')!r}; use pending, in_progress or completed")
    return Todo(" ".join(content.split()), status)
