"""The agent loop: ask the model, run the tools it calls, repeat until it answers or a limit hits.

Each message is added to the session (and so persisted) the moment it exists, and each step
is announced as an Event, so front ends and the store see the same run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Protocol

from freehold.agent.compact import Compaction, Compactor
from freehold.agent.session import Session
from freehold.cancel import Cancel
from freehold.errors import FreeholdError, Interrupted
from freehold.messages import Message, Reply, ToolCall, Usage
from freehold.protocol import (AssistantText, Compacted, Emit, FileChanged, ModelReplied, RunFinished, ToolResult,
                               ToolUse)
from freehold.audit.recorder import NullRecorder, Recorder
from freehold.policy.permissions import Decide
from freehold.tools import MAX_RESULT_CHARS, FileChange, Outcome, Prepared, Toolbox, bounded
from freehold.tools.base import Tool

# What the conversation keeps when the person interrupts: every call answered, and an assistant
# turn after the prompt, so the next prompt follows a valid exchange in every chat template.
INTERRUPTED_REPLY = "[Interrupted by the user before answering.]"
NOT_RUN = "Not run: the user interrupted the run before this call."


class Model(Protocol):
    def complete(self, messages: Sequence[Message], tools: Sequence[Tool]) -> Reply: ...


class Redact(Protocol):
    """Keeps secrets out of what the model sees, and puts them back into what tools receive."""

    def redact(self, text: str) -> str: ...
    def restore_args(self, args: dict[str, Any]) -> dict[str, Any]: ...
    def export(self) -> list[tuple[str, str]]: ...


class _NoRedaction:
    def redact(self, text: str) -> str:
        return text

    def restore_args(self, args: dict[str, Any]) -> dict[str, Any]:
        return args

    def export(self) -> list[tuple[str, str]]:
        return []


@dataclass
class Agent:
    model: Model
    toolbox: Toolbox
    session: Session
    decide: Decide
    emit: Emit
    max_turns: int = 50
    redactor: Redact = field(default_factory=_NoRedaction)
    audit: Recorder = field(default_factory=NullRecorder)
    # Raised by the front end (Esc, Ctrl-C) to stop the run where it is.
    cancel: Cancel = field(default_factory=Cancel)
    # Sees each file change a tool made, with its call id (the session's change journal, for /undo).
    on_change: Callable[[str, FileChange], None] | None = None
    # Summarizes older turns when a request nears the window (None: never).
    compactor: Compactor | None = None
    # Called before a call that may change files runs (a checkpoint of the workspace).
    before_change: Callable[[Tool, dict[str, Any]], None] | None = None
    # The error that ended the last run, when one did; the front end maps it to an exit code.
    failure: FreeholdError | None = None
    # How many of the redactor's (placeholder, value) pairs the session store already has.
    _saved_pairs: int = field(default=0, init=False, repr=False)

    def run(self, prompt: str, context: str = "") -> RunFinished:
        """Work on `prompt` until the model answers. `context` (the repository map) goes before
        the prompt in the message the model sees; the audit's user_prompt is the prompt alone,
        and the model_request record holds both."""
        started = time.monotonic()
        usage = Usage()
        self.failure = None
        text = self.redactor.redact(prompt)
        self.audit.user_prompt(text)
        self._add(Message("user", self.redactor.redact(context) + text if context else text))
        for turn in range(1, self.max_turns + 1):
            try:
                self.cancel.check()
                if self.compactor is not None and self.compactor.needed(self.session.messages, self.toolbox.tools):
                    self.compact(reason="the conversation neared the context window")
                reply = self._ask()
            except Interrupted as exc:
                self.failure = exc
                self._add(Message("assistant", INTERRUPTED_REPLY))
                return self._finish("interrupted", "Interrupted by the user.", turn, started, usage)
            except FreeholdError as exc:
                self.failure = exc
                return self._finish("error", str(exc), turn, started, usage)
            usage.add(reply.usage)
            if not reply.tool_calls:
                return self._finish("success", reply.text, turn, started, usage)
            for call in reply.tool_calls:
                if self.cancel.is_set:
                    self._skip(call)
                else:
                    self._act(call)
            if self.cancel.is_set:
                self.failure = Interrupted("interrupted by the user")
                return self._finish("interrupted", "Interrupted by the user.", turn, started, usage)
        note = f"Stopped after {self.max_turns} turns without a final answer (raise --max-turns to allow more)."
        return self._finish("error_max_turns", note, self.max_turns, started, usage)

    def compact(self, focus: str = "", reason: str = "asked by the user", keep_recent: bool = True) -> Compaction | None:
        """Replace the older turns by a summary (see compact.py), recorded before it takes effect."""
        if self.compactor is None:
            return None
        done = self.compactor.compact(self.session.messages, self.toolbox.tools, focus, keep_recent)
        if done is None:
            return None
        self.audit.compaction(reason, done.by, len(done.removed), sum(len(m.content) for m in done.removed),
                              done.removed_sha256(), done.summary.content)
        self.session.compact(done.keep_from, done.summary)
        self.emit(Compacted(len(done.removed), done.by, reason))
        return done

    def _ask(self) -> Reply:
        reply = self.model.complete(self.session.messages, self.toolbox.tools)
        reply.tool_calls = self._with_ids(reply)
        self.audit.model_response(reply)
        self.session.add(reply.as_message())
        self.emit(ModelReplied(reply.usage))
        if reply.text:
            self.emit(AssistantText(reply.text))
        return reply

    def _with_ids(self, reply: Reply) -> list[ToolCall]:
        """Calls parsed from text have no id; give them ones that are unique in the session
        and the same on every replay (random ids would differ between identical runs)."""
        position = sum(1 for m in self.session.messages if m.role == "assistant")
        taken = {c.id for m in self.session.messages for c in m.tool_calls}
        calls = []
        for i, call in enumerate(reply.tool_calls):
            if not call.id or call.id in taken:
                call = replace(call, id=f"call_{position}_{i}")
            taken.add(call.id)
            calls.append(call)
        return calls

    def _act(self, call: ToolCall) -> None:
        prepared = self.toolbox.prepare(call)
        self.emit(ToolUse(call.id, call.name, prepared.input, call.arguments))
        outcome = self._decide_and_run(prepared)
        # Cut far from where the final cut falls, redact, then cut to size: no secret is ever
        # split by the cut that decides what the model sees.
        content = bounded(self.redactor.redact(bounded(outcome.content, 4 * MAX_RESULT_CHARS)))
        if outcome.change is not None:
            self._changed(call.id, outcome.change)
        self.audit.tool_result(call.id, content, outcome.is_error)
        self._add(Message("tool", content, tool_call_id=call.id, is_error=outcome.is_error))
        self.emit(ToolResult(call.id, content, outcome.is_error))

    def _skip(self, call: ToolCall) -> None:
        """A call the person's interrupt came before: answered, never run, and recorded so."""
        self.audit.tool_call(call, None, "deny", "interrupted by the user")
        self.audit.tool_result(call.id, NOT_RUN, True)
        self._add(Message("tool", NOT_RUN, tool_call_id=call.id, is_error=True))
        self.emit(ToolResult(call.id, NOT_RUN, True))

    def _changed(self, call_id: str, change: FileChange) -> None:
        from freehold.tools.preview import file_diff

        self.audit.file_change(call_id, change.path, change.sha256_before, change.sha256_after)
        if self.on_change is not None:
            self.on_change(call_id, change)
        self.emit(FileChanged(call_id, change.path, file_diff(change.path, change.before, change.after)))

    def _decide_and_run(self, prepared: Prepared) -> Outcome:
        """Record the decision before the call runs; the audit record precedes the action."""
        call = prepared.call
        if prepared.tool is None or prepared.input is None:
            self.audit.tool_call(call, None, "invalid", prepared.error or "")
            return self.toolbox.run(prepared)
        # Placeholders the model passed back become the real values for the tool alone.
        real = replace(prepared, input=self.redactor.restore_args(prepared.input))
        ruling = self.decide(prepared.tool, real.input or {})
        self.audit.tool_call(call, prepared.input, "allow" if ruling.allowed else "deny", ruling.by)
        if not ruling.allowed:
            return Outcome(ruling.message or "Permission denied.", True)
        if self.before_change is not None and not prepared.tool.read_only:
            self.before_change(prepared.tool, prepared.input)
        return self.toolbox.run(real)

    def _add(self, message: Message) -> None:
        """Persist what the redactor learned first, so no stored placeholder is ever orphaned."""
        pairs = self.redactor.export()
        if len(pairs) > self._saved_pairs:
            self.session.store.save_redactions(self.session.id, pairs[self._saved_pairs :])
            self._saved_pairs = len(pairs)
        self.session.add(message)

    def _finish(self, subtype: str, result: str, turns: int, started: float, usage: Usage) -> RunFinished:
        elapsed = int((time.monotonic() - started) * 1000)
        return RunFinished(subtype, subtype != "success", result, self.session.id, turns, elapsed, usage)
