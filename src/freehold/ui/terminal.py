"""`freehold` with no `-p`: the interactive terminal UI.

The main thread owns the terminal. The prompt is read with prompt_toolkit; a prompt runs the
agent in a worker thread, whose events (protocol.py) come back through a queue and are drawn
with rich while the keyboard is watched for Esc. When the permission engine asks, the worker
waits on the main thread's answer. The session is opened in the background while the first
prompt is already taking keys, so the prompt is ready at once.

Nothing here changes the conversation except through the `Runtime`: an interrupted or failed
run leaves the session as the agent left it (consistent, persisted, resumable).
"""

from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from freehold import __version__
from freehold.config import Settings, data_home
from freehold.errors import FreeholdError
from freehold.messages import Usage
from freehold.policy.org import Policy
from freehold.policy.permissions import Approval, Decision, suggested_rules
from freehold.protocol import (AssistantText, Compacted, FileChanged, ModelReplied, ModelRetrying, RunFinished,
                               SessionStarted, SubagentEvent, TextDelta, ToolResult, ToolUse)
from freehold.tools.base import Tool
from freehold.ui.input import PROMPT, Pastes, PromptCompleter, prompt_session
from freehold.ui.keys import KeyWatcher

if TYPE_CHECKING:
    from freehold.app import Runtime

# Two Ctrl-C within this many seconds end the program.
DOUBLE_PRESS = 2.0
_FRAME = 0.08  # seconds between redraws of the live region


@dataclass
class _Ask:
    """A permission question from the worker thread, answered by the main thread."""

    tool: Tool
    args: dict[str, Any]
    decision: Decision
    done: threading.Event = field(default_factory=threading.Event)
    answer: Approval = field(default_factory=lambda: Approval(False))


@dataclass
class _Crashed:
    message: str


@dataclass
class Totals:
    """What this terminal session has used, for the status line and /cost."""

    started: float = field(default_factory=time.monotonic)
    usage: Usage = field(default_factory=Usage)
    context: int = 0  # tokens in the last request and its reply: how full the window is
    turns: int = 0
    runs: int = 0
    run_seconds: float = 0.0
    last_run: float = 0.0


class TerminalUI:
    def __init__(self, settings: Settings, policy: Policy, cwd: Path, options: Any) -> None:
        self.settings, self.policy, self.cwd, self.options = settings, policy, cwd, options
        self.events: queue.Queue[Any] = queue.Queue()
        self.runtime: Runtime | None = None
        self.open_error: str | None = None
        self._opener: threading.Thread | None = None
        self.pending: list[str] = []  # context for the next prompt: command output, notes
        self.results: list[tuple[str, str]] = []  # (tool line, full result), for /expand
        self.totals = Totals()
        self.keys = KeyWatcher()
        self.pastes = Pastes()
        self.quit: int | None = None
        self._last_ctrl_c = 0.0
        self._console: Any = None
        self._stream: Any = None
        self._diffed: set[str] = set()  # tool calls whose change was drawn as a diff
        self._last_done: RunFinished | None = None
        self._names: dict[str, str] = {}  # tool call id -> tool name
        from freehold.ui import slash

        self.commands = slash.Commands(self)
        self.prompt = prompt_session(data_home() / "history", PromptCompleter(self.commands.names, self._files),
                                     self.pastes, self._toolbar)

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> int:
        self._check_session_exists()
        self._start_opening()
        print(f"freehold {__version__} · {_home_relative(self.cwd)}\n"
              "/help for commands · Esc interrupts · Ctrl-C twice exits", flush=True)
        threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
        while self.quit is None:
            try:
                text = self._read_prompt()
            except KeyboardInterrupt:
                self._ctrl_c("(press Ctrl-C again to exit)")
                continue
            except EOFError:
                self.quit = 0
                break
            try:
                self._handle(text)
            except Exception as exc:  # a bug in a command must not end the session
                self.console.print(f"[red]freehold: internal error: {type(exc).__name__}: {exc}[/red]")
        self._goodbye()
        return self.quit or 0

    def _read_prompt(self) -> str:
        """The next prompt. Meanwhile what other threads print (a warning from opening the
        session: a window Ollama may cut, a sandbox that cannot start) goes above it, whole."""
        from prompt_toolkit.patch_stdout import patch_stdout

        with patch_stdout(raw=True):
            return self.prompt.prompt(PROMPT, default=self.keys.take_typed(), refresh_interval=0.5)

    def _handle(self, text: str) -> None:
        text = text.strip()
        if not text:
            return
        if text.startswith("/"):
            self.commands.dispatch(text)
        elif text.startswith("!"):
            self.shell(text[1:].strip())
        else:
            self.submit(text)

    def submit(self, text: str) -> None:
        """Send a prompt to the model, with whatever the person attached or ran since the last."""
        runtime = self.ready_runtime()
        if runtime is None:
            return
        prompt = self.pastes.expand(text)
        context = attachments(runtime.workspace, prompt) + "".join(self.pending)
        self.pending.clear()
        self.run_in_worker(lambda: runtime.run(prompt, context))
        if runtime.permissions.mode == "plan" and self._last_done is not None and not self._last_done.is_error:
            self._offer_plan(runtime)

    def _offer_plan(self, runtime: Runtime) -> None:
        """In plan mode a finished answer is a plan: accepting it goes on in another mode."""
        from freehold.ui.approve import choose_plan

        mode = choose_plan(self.keys, self.console, self.policy)
        if mode is None:
            self.console.print("[dim]still in plan mode; say what to change in the plan[/dim]")
            return
        runtime.permissions.mode = mode
        self.console.print(f"[green]plan accepted[/green] [dim]· mode is now {mode}[/dim]")
        self.submit("The plan is accepted. Carry it out now, step by step.")

    def ready_runtime(self) -> Runtime | None:
        """The open runtime, waiting for it if it is still opening; None (said why) if it failed.
        A failed opening is tried again on the next prompt: the server may be back."""
        if self.runtime is None and self._opener is not None:
            if self._opener.is_alive():
                self.console.print("[dim]connecting to the model…[/dim]")
            self._opener.join()
        if self.runtime is None:
            self.console.print(f"[red]freehold: {self.open_error}[/red]")
            self.console.print("[dim]nothing was sent; the next prompt tries again[/dim]")
            self._start_opening()
        return self.runtime

    def _check_session_exists(self) -> None:
        """--continue or --resume with nothing to go on is an error now (exit 2), not at the
        first prompt."""
        if not (self.options.resume or self.options.continue_latest):
            return
        from freehold.agent.session import SessionStore

        store = SessionStore(data_home())
        try:
            session_id = self.options.resume or store.latest(str(Path(os.path.realpath(self.cwd))))
            store.open(session_id)
        finally:
            store.db.close()

    def _start_opening(self) -> None:
        self.open_error = None
        self._opener = threading.Thread(target=self._open, name="open-session", daemon=True)
        self._opener.start()

    def _open(self) -> None:
        from freehold.app import Runtime

        try:
            self.runtime = Runtime(self.settings, self.policy, self.cwd, self.events.put, self.options,
                                   approver=self.approve).open()
        except FreeholdError as exc:
            self.open_error = str(exc)
        except Exception as exc:  # a bug: the UI stays, the error is one line
            self.open_error = f"internal error: {type(exc).__name__}: {exc}"
        finally:
            self.prompt.app.invalidate()  # redraw the status line now, not at the next refresh

    # -- a run -----------------------------------------------------------------------------

    def run_in_worker(self, work: Any) -> None:
        """Run `work` (which emits events) in a worker thread, drawing its events until it ends."""
        from freehold.ui.render import Stream

        self._stream = Stream()
        started = time.monotonic()
        worker = threading.Thread(target=self._work, args=(work,), name="agent", daemon=True)
        worker.start()
        self._pump(worker)
        self.totals.last_run = time.monotonic() - started
        self.totals.run_seconds += self.totals.last_run

    def _work(self, work: Any) -> None:
        try:
            work()
        except FreeholdError as exc:
            self.events.put(_Crashed(str(exc)))
        except Exception as exc:  # a bug must not end the session; it is shown, in one line
            self.events.put(_Crashed(f"internal error: {type(exc).__name__}: {exc}"))

    def _pump(self, worker: threading.Thread) -> None:
        from rich.live import Live

        drawn = 0.0
        with self.keys.watching(), Live(console=self.console, transient=True, auto_refresh=False) as live:
            self.live = live
            while True:
                try:
                    if not self._step(worker, live):
                        break
                    if time.monotonic() - drawn > _FRAME:
                        live.update(self._stream.view(self.console.height), refresh=True)
                        drawn = time.monotonic()
                except KeyboardInterrupt:
                    self._ctrl_c("interrupting… (Ctrl-C again to exit)")

    def _step(self, worker: threading.Thread, live: Any) -> bool:
        """Draw one event and look at the keyboard; False when the run is over."""
        try:
            item = self.events.get(timeout=0.03)
        except queue.Empty:
            item = None
        if item is not None:
            self._show(item, live)
        elif not worker.is_alive():
            return False
        if self.keys.poll() == "esc":
            self.interrupt()
        return True

    def interrupt(self) -> None:
        if self.runtime is not None:
            self.runtime.cancel.set()
        if self._stream is not None:
            self._stream.label = "Interrupting"

    def _ctrl_c(self, hint: str) -> None:
        now = time.monotonic()
        if now - self._last_ctrl_c < DOUBLE_PRESS:
            self.quit = 130
            self.interrupt()
            return
        self._last_ctrl_c = now
        self.interrupt()
        self.console.print(f"[dim]{hint}[/dim]")

    # -- drawing events --------------------------------------------------------------------

    def _show(self, event: Any, live: Any) -> None:
        from freehold.ui import render

        out = live.console
        if isinstance(event, TextDelta):
            self._stream.add(event.text, event.reasoning)
        elif isinstance(event, ModelReplied):
            self._count(event.usage)
        elif isinstance(event, ModelRetrying):
            out.print(f"[yellow]the model request failed ({event.reason}); trying again[/yellow]")
            self._stream.reset()
        elif isinstance(event, AssistantText):
            out.print(render.markdown(event.text))
            self._stream.reset()
        elif isinstance(event, ToolUse):
            self._names[event.id] = event.name
            line = render.tool_line(event.name, event.input, event.raw_arguments)
            out.print(line)
            self.results.append((line.plain, ""))
            self._stream.reset(f"Running {event.name}")
        elif isinstance(event, FileChanged):
            out.print(render.diff(event.diff))
            self._diffed.add(event.tool_use_id)
        elif isinstance(event, ToolResult):
            # After a diff, the result's first line says enough ("Edited calc.py at line 2").
            shown = event.content.split("\n", 1)[0].rstrip(":") if event.tool_use_id in self._diffed else event.content
            out.print(render.result_summary(shown, event.is_error))
            if self._names.get(event.tool_use_id) == "TodoWrite" and not event.is_error and self.runtime is not None:
                out.print(render.todos(self.runtime.todos.items))
            if self.results:
                self.results[-1] = (self.results[-1][0], event.content)
            self._stream.reset()
        elif isinstance(event, SubagentEvent):
            self._subagent(event, out)
        elif isinstance(event, Compacted):
            how = "by the model" if event.by == "model" else f"without the model ({event.by[8:]})"
            noun = "message" if event.removed == 1 else "messages"
            out.print(f"[cyan]⟲ compacted {event.removed} {noun} into a summary {how}[/cyan] "
                      f"[dim]· {event.reason}[/dim]")
            self._stream.reset()
            self.totals.context = 0
        elif isinstance(event, RunFinished):
            self._finished(event, out)
        elif isinstance(event, _Ask):
            self._ask(event, live)
        elif isinstance(event, _Crashed):
            out.print(f"[red]freehold: {event.message}[/red]")
        elif isinstance(event, SessionStarted):
            self.totals.context = 0

    def _subagent(self, event: SubagentEvent, out: Any) -> None:
        """A subagent's calls, indented under its Task; its text stays out (its report comes back)."""
        from rich.text import Text

        from freehold.ui import render

        inner = event.event
        if isinstance(inner, ToolUse):
            line = render.tool_line(inner.name, inner.input, inner.raw_arguments)
            out.print(Text("    ↳ ", style="dim") + line)
            self._stream.reset(f"{event.task}: {inner.name}")
        elif isinstance(inner, ModelReplied):
            self._count(inner.usage, context=False)

    def _count(self, usage: Usage, context: bool = True) -> None:
        self.totals.usage.add(usage)
        self.totals.turns += 1
        if context:  # a subagent's requests are not the main conversation's window
            self.totals.context = usage.input_tokens + usage.output_tokens

    def _finished(self, done: RunFinished, out: Any) -> None:
        from rich.text import Text

        from freehold.ui import render

        self.totals.runs += 1
        self._last_done = done
        partial = render.visible_answer(self._stream.answer) if self._stream is not None else ""
        if partial:  # what the model had said when it was stopped stays on screen, dimmed
            out.print(Text(partial, style="dim"))
        if done.subtype == "interrupted":
            out.print("[yellow]⏹ interrupted[/yellow] [dim]· the session is kept; say what to do next[/dim]")
        elif done.is_error:
            out.print(f"[red]✗ {done.result}[/red]")
            out.print("[dim]the session is kept; fix the cause and send a prompt to go on[/dim]")
        turns = f"{done.num_turns} turn" + ("s" if done.num_turns != 1 else "")
        out.print(f"[dim]{turns} · {render.duration(done.duration_ms / 1000)} · "
                  f"↑{done.usage.input_tokens:,} ↓{done.usage.output_tokens:,} tokens[/dim]")

    # -- asking the person -----------------------------------------------------------------

    def approve(self, tool: Tool, args: dict[str, Any], decision: Decision) -> Approval:
        """Called in the worker thread: hand the question to the main thread and wait."""
        ask = _Ask(tool, args, decision)
        self.events.put(ask)
        cancel = self.runtime.cancel if self.runtime is not None else None
        while not ask.done.wait(0.1):
            if cancel is not None and cancel.is_set:
                return Approval(False, "the user", "The user interrupted the run.")
        return ask.answer

    def _ask(self, ask: _Ask, live: Any) -> None:
        from freehold.ui.approve import choose, describe

        live.update("", refresh=True)
        rules = suggested_rules(ask.tool, ask.args)
        live.console.print(describe(ask.tool, ask.args, ask.decision, self.runtime.workspace, rules))
        ask.answer = choose(self.keys, rules, self._note)
        if ask.answer.note == "interrupt":
            ask.answer = Approval(False, "the user", None)
            self.interrupt()
        ask.done.set()

    def _note(self) -> str:
        """A line for the model after a "no": the terminal leaves cbreak mode to edit it."""
        from prompt_toolkit import prompt

        self.keys.pause()
        try:
            return prompt("  Tell the model what to do instead (Enter to skip): ").strip()
        except (KeyboardInterrupt, EOFError):
            return ""
        finally:
            self.keys.resume()

    # -- commands the person runs ----------------------------------------------------------

    def shell(self, command: str) -> None:
        """`!command`: run it in the sandbox, show its output, and give it to the model with the
        next prompt."""
        from freehold.ui.shell import run_user_command

        runtime = self.ready_runtime()
        if runtime is None or not command:
            return
        try:
            shown, context = run_user_command(runtime, command)
        except KeyboardInterrupt:
            self.console.print("[yellow]stopped[/yellow]")
            return
        self.console.print(shown)
        if context:
            self.pending.append(context)

    # -- the status line -------------------------------------------------------------------

    def _toolbar(self) -> Any:
        from prompt_toolkit.formatted_text import HTML

        return HTML(_escape(status_line(self)))

    def _files(self) -> list[str]:
        live = self.runtime.live if self.runtime is not None else None
        return live.paths() if live is not None else []

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(highlight=False)
        return self._console

    def _goodbye(self) -> None:
        if self.runtime is None:
            return
        session = self.runtime.session.id
        self.console.print(f"[dim]session {session} saved · resume it with: freehold --resume {session}[/dim]")
        self.runtime.close()


def status_line(ui: TerminalUI) -> str:
    """model · context used of the window · tokens · last run's time · mode · index."""
    from freehold.ui.render import duration, tokens

    runtime, totals = ui.runtime, ui.totals
    if runtime is None:
        return f" {ui.settings.model or 'model'} · " + ("connecting…" if ui.open_error is None else "not connected")
    window = runtime.fitted.limit.window if hasattr(runtime.fitted, "limit") else 0
    share = f" ({100 * totals.context // window}%)" if window else ""
    parts = [runtime.model.name, f"ctx {tokens(totals.context)}/{tokens(window)}{share}",
             f"↑{tokens(totals.usage.input_tokens)} ↓{tokens(totals.usage.output_tokens)}",
             f"last {duration(totals.last_run)}", runtime.permissions.mode]
    if runtime.live is not None and not runtime.live.done.is_set():
        done, total = runtime.live.progress
        parts.append(f"indexing {done}/{total}" if total else "indexing")
    return " " + " · ".join(parts)


def attachments(workspace: Any, prompt: str) -> str:
    """Files named as `@path` in the prompt, read through the workspace's checks, as context."""
    import re

    from freehold.tools import bounded
    from freehold.tools.base import ToolError

    blocks = []
    for name in dict.fromkeys(re.findall(r"(?<![\w@])@([^\s@]+)", prompt)):
        name = name.rstrip(".,;:!?)")
        try:
            path = workspace.resolve(name)
            workspace.check_read(path)
            if not path.is_file():
                continue
            text = path.read_bytes().decode("utf-8", "replace")
        except (ToolError, OSError):
            continue
        blocks.append(f'<file path="{workspace.display(path)}">\n{bounded(text)}\n</file>\n')
    return "".join(blocks)


def _home_relative(path: Path) -> str:
    home = Path.home()
    return f"~/{path.relative_to(home)}" if path.is_relative_to(home) and path != home else str(path)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _warm_up() -> None:
    """Import what the first answer needs while the person types (start-up stays fast)."""
    import rich.live  # noqa: F401
    import rich.markdown  # noqa: F401

    import freehold.ui.render  # noqa: F401
