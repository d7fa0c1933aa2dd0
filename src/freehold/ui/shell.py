"""`!command`: a command the person runs themselves, in the same sandbox as the agent's.

Its output is shown, recorded in the audit log, and given to the model with the next prompt
(redacted on the way, like everything the model sees).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text

TIMEOUT = 600
_CONTEXT_CHARS = 20_000


def run_user_command(runtime: Any, command: str) -> tuple[Text, str]:
    """(what to show, the context block for the next prompt)."""
    from freehold.sandbox import SandboxUnavailable, process
    from freehold.tools import bounded
    from freehold.tools.shell import shell_program

    workspace = runtime.workspace
    try:
        result = process.run([shell_program(), "-c", command], cwd=workspace.root, timeout=TIMEOUT,
                             confinement=workspace.command_confinement())
    except (SandboxUnavailable, OSError) as exc:
        return Text(f"freehold: the command was not run: {exc}", style="red"), ""
    output = result.output.rstrip("\n")
    status = "timed out" if result.timed_out else f"exit {result.exit_code}"
    runtime.audit.user_command(command, result.exit_code, output)
    shown = Text(output + "\n" if output else "", style="default")
    shown.append(f"({status})", style="dim" if result.exit_code == 0 else "red")
    context = (f"<user-shell-command>\nThe user ran this command themselves:\n$ {command}\n"
               f"{bounded(output, _CONTEXT_CHARS)}\n({status})\n</user-shell-command>\n")
    return shown, context
