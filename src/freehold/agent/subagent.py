"""Subagents: the `Task` tool runs an agent with a fresh context of its own and returns only its
final report, so exploration does not flood the main conversation.

A subagent gets its own system prompt, its own session (stored like any other), its own turn
budget, and tools chosen by its definition: read-only (Read, Grep, Glob, Search) unless the
definition names others, whose calls the same permission engine decides. It cannot start
subagents itself. Definitions come from `.freehold/agents/*.md` (the project's) and the user's
`~/.config/freehold/agents/*.md`, front matter then prompt:

    ---
    name: tests
    description: finds the tests that cover a function
    tools: Read, Grep, Glob
    ---
    You find tests. Report each test's path and name, and what it checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freehold.tools.base import Tool, ToolError, Workspace

READ_ONLY = ("Read", "Grep", "Glob", "Search")
MAX_TURNS = 25
MAX_REPORT_CHARS = 8_000
_MAX_FILE_BYTES = 64 * 1024

GENERAL_PROMPT = """\
You are a subagent of Freehold, a coding agent, working in the repository at {root}. Another \
agent gave you the task below and sees only your final message, not your tool calls: make that \
message a complete, self-contained report (what you found, with file paths and line numbers; \
what you could not find). Work quickly: search, read what matters, then answer. Do not ask \
questions."""


@dataclass(frozen=True)
class AgentSpec:
    name: str
    description: str
    prompt: str  # the system prompt's instructions ({root} is the workspace)
    tools: tuple[str, ...] = READ_ONLY
    max_turns: int = MAX_TURNS
    source: Path | None = None

    def system_prompt(self, workspace: Workspace) -> str:
        return self.prompt.replace("{root}", str(workspace.root))


GENERAL = AgentSpec("general", "explores the code and reports back", GENERAL_PROMPT)

# Short: every request carries it, and small windows are the point.
DESCRIPTION = (
    "Give a task to a subagent with a fresh context and read-only tools; only its final report comes back. "
    "Use it for exploration that takes many reads. It cannot see this conversation: say everything in prompt."
)


def task_tool(run: Callable[[AgentSpec, str, str], str], specs: dict[str, AgentSpec]) -> Tool:
    """The Task tool; `run(spec, description, prompt)` runs the subagent and returns its report."""
    types = sorted(specs)
    properties: dict[str, Any] = {"description": {"type": "string", "description": "A few words"},
                                  "prompt": {"type": "string", "description": "The whole task"}}
    if len(specs) > 1:  # only defined subagents need choosing
        properties["subagent_type"] = {"type": "string", "enum": types, "description": _types_help(specs)}
    parameters: dict[str, Any] = {"type": "object", "properties": properties, "required": ["description", "prompt"],
                                  "additionalProperties": False}

    def call(workspace: Workspace, args: dict[str, Any]) -> str:
        prompt = args.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise ToolError("prompt must be the subagent's task, in full")
        spec = specs.get(str(args.get("subagent_type") or "general"))
        if spec is None:
            raise ToolError(f"no subagent type {args.get('subagent_type')!r}; one of {', '.join(types)}")
        return run(spec, str(args.get("description") or spec.name), prompt)

    return Tool("Task", DESCRIPTION, parameters, call, read_only=True)


def _types_help(specs: dict[str, AgentSpec]) -> str:
    return "; ".join(f"{name}: {spec.description}" for name, spec in sorted(specs.items()))


def report(result: str, is_error: bool, subtype: str) -> str:
    """What the main agent sees: the report, cut to size, or why there is none."""
    from freehold.tools import bounded

    if is_error:
        return f"The subagent did not finish ({subtype}): {result}"
    return bounded(result.strip() or "(the subagent gave an empty report)", MAX_REPORT_CHARS)


def load_specs(root: Path, user_dir: Path | None = None) -> tuple[dict[str, AgentSpec], list[str]]:
    """The general subagent and every definition found (the project's win), and warnings for
    definitions that cannot be used."""
    from freehold.frontmatter import front_matter

    if user_dir is None:
        from freehold.config import user_config_path

        user_dir = user_config_path().parent / "agents"
    specs, warnings = {"general": GENERAL}, []
    for directory in (user_dir, root / ".freehold" / "agents"):
        for path in sorted(directory.glob("*.md")) if directory.is_dir() else ():
            try:
                if not path.is_file() or path.stat().st_size > _MAX_FILE_BYTES:
                    raise ValueError("not a regular file of at most 64 KB")
                meta, body = front_matter(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                warnings.append(f"subagent {path} is not used: {exc}")
                continue
            tools = tuple(t.strip() for t in meta.get("tools", "").split(",") if t.strip()) or READ_ONLY
            name = meta.get("name") or path.stem
            specs[name] = AgentSpec(name, meta.get("description", ""), body.strip() or GENERAL_PROMPT,
                                    tuple(t for t in tools if t != "Task"), source=path)
    return specs, warnings
