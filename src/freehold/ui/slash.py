"""Slash commands: what the person can do besides prompting, and custom prompt templates from
`.freehold/commands/*.md` (and the user's `~/.config/freehold/commands/`).

Each built-in is a method `cmd_<name>` whose docstring's first line is its help.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text

from freehold.errors import FreeholdError, UsageError

KEYS = [("Enter", "send"), ("Alt-Enter, Ctrl-J, \\ Enter", "new line"), ("Esc", "interrupt the model or a command"),
        ("Ctrl-C twice", "exit (the session is kept)"), ("@path", "attach a file"),
        ("!command", "run a command yourself; the model sees its output"), ("↑ ↓", "history")]
_ALIASES = {"quit": "exit", "q": "exit", "reset": "clear", "new": "clear"}


class Commands:
    def __init__(self, ui: Any) -> None:
        self.ui = ui
        self._custom: dict[str, Any] | None = None

    # -- dispatch ------------------------------------------------------------------------

    def builtins(self) -> dict[str, Callable[[str], None]]:
        return {name[4:]: getattr(self, name) for name in dir(self) if name.startswith("cmd_")}

    def names(self) -> dict[str, str]:
        """Every command and its one-line description, for completion and /help."""
        found = {name: _first_line(handler.__doc__) for name, handler in self.builtins().items()}
        for name, command in self.custom().items():
            found.setdefault(name, command.description or f"custom: {command.source.name}")
        return found

    def custom(self) -> dict[str, Any]:
        if self._custom is None:
            from freehold.ui.custom import load_commands

            loaded = load_commands(self.ui.cwd, reserved=set(self.builtins()) | set(_ALIASES))
            for warning in loaded.warnings:
                self.ui.console.print(f"[yellow]freehold: {warning}[/yellow]")
            self._custom = loaded.commands
        return self._custom

    def dispatch(self, text: str) -> None:
        name, _, arguments = text[1:].partition(" ")
        name = _ALIASES.get(name.lower(), name.lower())
        handler = self.builtins().get(name)
        try:
            if handler is not None:
                handler(arguments.strip())
            elif name in self.custom():
                self.ui.submit(self.custom()[name].expand(arguments.strip()))
            else:
                self.ui.console.print(f"[red]unknown command /{name}[/red] [dim](/help lists them)[/dim]")
        except FreeholdError as exc:
            self.ui.console.print(f"[red]freehold: {exc}[/red]")

    def _runtime(self) -> Any:
        runtime = self.ui.ready_runtime()
        if runtime is None:
            raise FreeholdError("not connected to the model yet")
        return runtime

    def _print(self, *things: Any) -> None:
        self.ui.console.print(*things)

    # -- the commands --------------------------------------------------------------------

    def cmd_help(self, arguments: str) -> None:
        """show commands and keys"""
        table = Table(show_header=False, box=None, padding=(0, 2))
        for name, description in sorted(self.names().items()):
            table.add_row(f"/{name}", description)
        for key, what in KEYS:
            table.add_row(Text(key, style="bold"), what)
        self._print(table)

    def cmd_exit(self, arguments: str) -> None:
        """leave; the session is kept for --resume"""
        self.ui.quit = 0

    def cmd_model(self, arguments: str) -> None:
        """show the model, its window and what the server serves; /model NAME switches"""
        runtime = self._runtime()
        if arguments:
            runtime.switch_model(arguments)
        limit = getattr(runtime.fitted, "limit", None)
        self._print(f"model [bold]{runtime.model.name}[/bold] at {runtime.model.where}")
        if limit is not None:
            self._print(f"window {limit.window:,} tokens ({limit.source}), {limit.reserve:,} kept for the answer")
        served = runtime.served_models()
        if served:
            self._print("served: " + ", ".join(served))

    def cmd_permissions(self, arguments: str) -> None:
        """show the rules; /permissions allow|ask|deny RULE, remove N, mode MODE"""
        from freehold.ui.permissions import edit, table

        runtime = self._runtime()
        if arguments:
            self._print(edit(runtime.permissions, self.ui.policy, arguments))
        self._print(table(runtime.permissions))

    def cmd_policy(self, arguments: str) -> None:
        """show what the organization's policy fixes, and where each setting comes from"""
        from freehold.policy.command import show

        self._print(Text(show(self.ui.policy, self.ui.settings, self.ui.settings)))

    def cmd_clear(self, arguments: str) -> None:
        """start a new session here (the current one is kept)"""
        runtime = self._runtime()
        runtime.new_session()
        self.ui.pending.clear()
        self.ui.results.clear()
        self._print(f"[dim]new session {runtime.session.id}[/dim]")

    def cmd_resume(self, arguments: str) -> None:
        """list this directory's sessions; /resume N or ID continues one"""
        from freehold.ui.sessions import pick, replay, table

        runtime = self._runtime()
        found = runtime.store.sessions(str(runtime.workspace.root))
        if not arguments:
            self._print(table(found, runtime.session.id))
            return
        runtime.resume(pick(found, arguments))
        self.ui.pending.clear()
        self._print(replay(runtime.session.messages))
        self._print(f"[dim]resumed session {runtime.session.id}[/dim]")

    def cmd_compact(self, arguments: str) -> None:
        """replace the conversation so far by a summary, to go on in a fresh context; /compact FOCUS"""
        runtime = self._runtime()
        done: list[Any] = []
        self.ui.run_in_worker(lambda: done.append(runtime.compact(arguments)))
        if done and done[0] is None:
            self._print("[dim]nothing to compact yet[/dim]")

    def cmd_memory(self, arguments: str) -> None:
        """the project's memory files (AGENTS.md, CLAUDE.md, QWEN.md, FREEHOLD.md) in the system prompt"""
        runtime = self._runtime()
        self._print(Text(runtime.memory.describe()))
        self._print("[dim]read when a session starts; /clear starts one that reads them again[/dim]")

    def cmd_cost(self, arguments: str) -> None:
        """tokens and time used (local models cost no money)"""
        from freehold.ui.render import duration

        t = self.ui.totals
        estimated = " (estimated: the server reports no counts)" if t.usage.estimated else ""
        self._print(f"{t.runs} prompts, {t.turns} model turns\n"
                    f"tokens: {t.usage.input_tokens:,} in, {t.usage.output_tokens:,} out{estimated}\n"
                    f"time: {duration(t.run_seconds)} working, {duration(_since(t.started))} in this terminal\n"
                    "money: none; the model runs on your organization's machines")

    def cmd_diff(self, arguments: str) -> None:
        """the changes the agent made to files in this session"""
        from freehold.ui.render import diff

        runtime = self._runtime()
        diffs = runtime.journal.session_diff(runtime.session.id, runtime.workspace.root)
        if not diffs:
            self._print("[dim]no changes by the agent in this session[/dim]")
            return
        files = len(diffs)
        self._print(f"[bold]{files} file{'s' if files != 1 else ''} changed by the agent in this session[/bold]")
        self._print(diff("\n".join(diffs)))

    def cmd_undo(self, arguments: str) -> None:
        """revert the last change the agent made to a file"""
        runtime = self._runtime()
        result = runtime.undo()
        self._print(f"[green]{result.message}[/green]" if result.ok else f"[yellow]{result.message}[/yellow]")
        if result.ok:
            self.ui.pending.append(f"<note>The user undid your last change to {result.path}.</note>\n")

    def cmd_rewind(self, arguments: str) -> None:
        """the checkpoints before each change; /rewind N puts every file back as it was then"""
        runtime = self._runtime()
        steps = runtime.checkpoints.steps(runtime.session.id)
        if not arguments:
            for step in steps:
                self._print(f"{step.step:>4}  {step.label}  [dim]({step.files} files)[/dim]")
            self._print("[dim]/rewind N restores the files as they were before step N[/dim]" if steps
                        else "[dim]no checkpoints: the agent changed nothing in this session[/dim]")
            return
        chosen = next((s for s in steps if str(s.step) == arguments), None)
        if chosen is None:
            raise UsageError(f"no step {arguments}; /rewind lists them")
        done = runtime.checkpoints.rewind(runtime.session.id, chosen.step)
        for rel in done.restored:
            self._print(f"[green]restored[/green] {rel}")
        for rel in done.deleted:
            self._print(f"[yellow]deleted[/yellow] {rel}")
        self._print(f"[dim]files as they were {chosen.label}; the conversation is unchanged[/dim]")
        self.ui.pending.append(f"<note>The user rewound the files to how they were {chosen.label}.</note>\n")

    def cmd_audit(self, arguments: str) -> None:
        """verify the audit log and show this session's records"""
        from freehold.ui.sessions import audit_trail

        runtime = self._runtime()
        self._print(audit_trail(runtime.policy, runtime.session.id))

    def cmd_expand(self, arguments: str) -> None:
        """show the last tool result in full; /expand N for the Nth from last"""
        count = int(arguments) if arguments.isdigit() and int(arguments) > 0 else 1
        if count > len(self.ui.results):
            self._print("[dim]no such tool result[/dim]")
            return
        line, content = self.ui.results[-count]
        self._print(Text(line, style="bold"))
        self._print(Text(content))


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().splitlines()[0] if doc else ""


def _since(started: float) -> float:
    import time

    return time.monotonic() - started
