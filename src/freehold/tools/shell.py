"""The Bash tool: one non-interactive shell command in the workspace root, sandboxed, its output capped."""

from __future__ import annotations

import os
import shutil
import signal
from typing import Any

from freehold.sandbox import ProcessResult, SandboxUnavailable, process
from freehold.tools.base import Tool, ToolError, Workspace

DEFAULT_TIMEOUT = 120
MAX_TIMEOUT = 600

DESCRIPTION = (
    "Run a bash command in the workspace root, sandboxed (only the workspace and /tmp are writable); returns "
    "output and exit code. No stdin: avoid prompts and pagers. Each call is a fresh shell; cd and background "
    "processes end with it. Long output keeps head and tail. timeout in seconds (default 120, max 600). "
    "Prefer Read, Grep and Glob over cat, grep and find."
)

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "command": {"type": "string", "description": "The command to run"},
        "timeout": {"type": "number", "description": "Seconds before the command is killed (max 600)"},
    },
    "required": ["command"],
    "additionalProperties": False,
}


def run_bash(ws: Workspace, args: dict[str, Any]) -> str:
    command = args.get("command")
    if not isinstance(command, str) or not command.strip():
        raise ToolError("command is required: the shell command to run")
    timeout, notes = _timeout(args.get("timeout"))
    try:
        result = process.run([shell_program(), "-c", command], cwd=ws.root, timeout=timeout,
                             confinement=ws.command_confinement())
    except SandboxUnavailable as exc:
        raise ToolError(f"refused: commands run only inside the sandbox, and it cannot start here: {exc}. "
                        "The command was not run.") from exc
    except OSError as exc:
        raise ToolError(f"could not start the shell: {exc}") from exc
    return _report(result, timeout, notes)


def _timeout(value: Any) -> tuple[float, list[str]]:
    """The timeout to use, and a note for the model when its request was clamped."""
    if value is None:
        return DEFAULT_TIMEOUT, []
    if isinstance(value, bool):
        raise ToolError("timeout must be a number of seconds")
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise ToolError(f"timeout must be a number of seconds, not {value!r}") from None
    if not seconds > 0:
        raise ToolError("timeout must be a positive number of seconds")
    if seconds > MAX_TIMEOUT:
        return MAX_TIMEOUT, [f"Note: timeout {seconds:g}s is over the {MAX_TIMEOUT}s maximum; used {MAX_TIMEOUT}s."]
    return seconds, []


def shell_program() -> str:
    if os.access("/bin/bash", os.X_OK):
        return "/bin/bash"
    return shutil.which("bash") or "/bin/sh"


def _report(result: ProcessResult, timeout: float, notes: list[str]) -> str:
    body = result.output.rstrip("\n") if result.output.strip() else "(no output)"
    lines = [body, *notes, *(f"Note: the sandbox {note}." for note in result.notes)]
    if result.stopped_leftovers:
        lines.append(
            "Note: background processes still holding the output were stopped; "
            "to keep one running, redirect its output (nohup cmd > log 2>&1 &)."
        )
    lines.append(_status(result, timeout))
    return "\n".join(lines)


def _status(result: ProcessResult, timeout: float) -> str:
    if result.interrupted:
        return "Interrupted: the user stopped the command; its process group was killed"
    if result.timed_out:
        return f"Timed out after {timeout:g}s; the process group was killed"
    code = result.exit_code
    if code is not None and code < 0:
        # A shell reports death by signal N as 128 + N; say which signal too.
        return f"Exit code: {128 - code} (killed by {_signal_name(-code)})"
    return f"Exit code: {code}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


BASH = Tool(name="Bash", description=DESCRIPTION, parameters=PARAMETERS, run=run_bash)
