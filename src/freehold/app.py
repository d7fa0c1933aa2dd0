"""Assemble a session from settings and policy (model client, tools, session, agent, index) as a
`Runtime` that front ends drive: headless for one prompt, the terminal UI for many."""

from __future__ import annotations

import os
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from freehold.agent.changes import ChangeJournal
from freehold.agent.checkpoints import Checkpoints
from freehold.agent.loop import Agent
from freehold.agent.memory import Memory, load_memory
from freehold.agent.prompt import system_prompt
from freehold.agent.session import Session, SessionStore
from freehold.audit.recorder import NullRecorder, Recorder
from freehold.cancel import Cancel
from freehold.config import RunOptions, Settings, data_home, user_config_path
from freehold.errors import SessionError, UsageError
from freehold.index.live import LiveIndex, map_block
from freehold.messages import Message
from freehold.models.openai_compat import Endpoint, OpenAICompatModel
from freehold.policy.org import Policy
from freehold.policy.permissions import Approver, Permissions, gate, sourced
from freehold.protocol import Emit, ModelRetrying, RunFinished, SessionStarted, SubagentEvent, TextDelta
from freehold.tools import FileChange, Toolbox, default_tools
from freehold.tools.base import BUILTIN_DENY_READ, Workspace


def endpoint_of(settings: Settings) -> Endpoint:
    assert settings.endpoint is not None
    return Endpoint(settings.endpoint, settings.model, settings.api_key, settings.timeout, settings.max_retries,
                    settings.retry_backoff, settings.stream, settings.temperature, settings.max_tokens)


def permissions_for(settings: Settings, policy: Policy, workspace: Workspace) -> Permissions:
    """The engine with every rule in force: the policy's first (they cannot be overridden, as
    deny and ask beat allow), then config and flags, each with where it came from."""
    rules = []
    for verdict in ("deny", "ask", "allow"):
        rules += sourced(verdict, getattr(policy, f"{verdict}_rules"), policy.where())
        for text, origin in getattr(settings, f"{verdict}_rules"):
            rules += sourced(verdict, [text], origin)
    return Permissions(settings.permission_mode, workspace, rules)


def workspace_for(cwd: Path, settings: Settings, policy: Policy) -> Workspace:
    """The workspace and its boundary: what commands and file tools may see and change."""
    builtin = BUILTIN_DENY_READ if settings.builtin_deny_read else ()
    key = Path(policy.audit_key_path).expanduser() if policy.audit_key_path else None
    private = [data_home(), audit_directory(policy), user_config_path().parent, policy.path, key]
    private += [Path(p).expanduser() for p in policy.sandbox_hide]
    return Workspace.at(cwd, builtin + settings.deny_read + policy.deny_read, settings.deny_write + policy.deny_write,
                        network=settings.network_tools == "allow", home=Path.home(),
                        private=tuple(p for p in private if p is not None),
                        expose=tuple(Path(p).expanduser() for p in settings.sandbox_expose), sandboxed=policy.sandbox)


def sandbox_state(workspace: Workspace, policy: Policy) -> str:
    """What confines commands in this session, for the audit log and the user."""
    if not workspace.sandboxed:
        return f"none: commands run unconfined ({policy.path}: [sandbox] enabled = false)"
    from freehold.sandbox.bwrap import SandboxUnavailable, bwrap_path

    network = "with network" if workspace.network else "no network"
    try:
        return f"bubblewrap {bwrap_path(workspace.network)}, {network}"
    except SandboxUnavailable as exc:
        import sys

        print(f"freehold: warning: commands will be refused: {exc}", file=sys.stderr)
        return f"unavailable: commands are refused ({exc})"


def resumed_session(store: SessionStore, workspace: Workspace, options: RunOptions) -> Session | None:
    """The session the options ask to go on with (None: a new one), found before any network call."""
    if not (options.resume or options.continue_latest):
        return None
    cwd = str(workspace.root)
    resumed = store.open(options.resume or store.latest(cwd))
    if resumed.info.cwd != cwd:
        raise SessionError(f"session {resumed.id} belongs to {resumed.info.cwd}; run freehold from there")
    return resumed


def memory_tokens(settings: Settings, model: Any) -> int:
    """The project memory's share of the system prompt: as configured, an eighth of the window at most."""
    limit = getattr(model, "limit", None)
    return min(settings.memory_tokens, limit.prompt // 8) if limit is not None else settings.memory_tokens


def audit_directory(policy: Policy) -> Path:
    return Path(policy.audit_directory).expanduser() if policy.audit_directory else data_home() / "audit"


def open_audit(policy: Policy) -> Any:
    """The audit log, or None when the policy lets Freehold run unrecorded and it cannot be opened."""
    from freehold.audit.log import AuditError, AuditLog

    key = Path(policy.audit_key_path).expanduser() if policy.audit_key_path else None
    try:
        return AuditLog.open(audit_directory(policy), key, policy.audit_checkpoint_every)
    except AuditError as exc:
        if policy.audit_required:
            raise
        import sys

        print(f"freehold: warning: running unrecorded, as the policy allows: {exc}", file=sys.stderr)
        return None


def record_refusal(policy: Policy, message: str) -> None:
    """A run the policy refused is recorded too; if even that cannot be written, the refusal stands."""
    from freehold.audit.log import AuditError

    try:
        log = open_audit(policy)
        if log is not None:
            Recorder(log).refusal("run", message)
            log.checkpoint()
            log.close()
    except AuditError as exc:
        import sys

        print(f"freehold: warning: the refusal could not be recorded: {exc}", file=sys.stderr)


def request_dumper(directory: Path) -> Any:
    """Writes each request body, exactly as sent, to DIR/NNNN-<sha256 prefix>.json."""
    import hashlib

    directory.mkdir(parents=True, exist_ok=True)
    count = len(list(directory.glob("*.json")))

    def dump(body: bytes) -> None:
        nonlocal count
        count += 1
        (directory / f"{count:04d}-{hashlib.sha256(body).hexdigest()[:16]}.json").write_bytes(body)

    return dump


def build_model(settings: Settings, policy: Policy, options: RunOptions, audit: Recorder,
                on_delta: Callable[[str, bool], None] | None = None, cancel: Cancel | None = None,
                on_retry: Callable[[str], None] | None = None) -> Any:
    """The model: a server's client, or a GGUF run in-process. Each request (the HTTP body, or
    the local prompt as rendered) is recorded, and dumped if asked, before it is sent; the reply's
    text goes to `on_delta` as it comes, and `cancel` stops it."""
    dumper = request_dumper(options.dump_requests) if options.dump_requests else None
    where = settings.endpoint or (Path(settings.model_file).resolve().as_uri() if settings.model_file else "")

    def on_request(body: bytes) -> None:
        audit.model_request(where, body)
        if dumper is not None:
            dumper(body)

    if settings.runtime == "llama.cpp":
        from freehold.models.llamacpp import LocalModel

        def on_text(text: str) -> None:  # between two tokens: where an in-process model can stop
            if cancel is not None:
                cancel.check()
            if on_delta is not None:
                on_delta(text, False)

        assert settings.model_file is not None  # config requires it for this runtime
        return LocalModel(settings.model_file, max_context=settings.context_window, temperature=settings.temperature,
                          max_tokens=settings.max_tokens, on_request=on_request, tool_choice=settings.tool_choice,
                          n_threads=settings.threads or max(1, (os.cpu_count() or 2) // 2), on_text=on_text)
    from freehold.policy.egress import egress_transport

    return OpenAICompatModel(endpoint_of(settings), transport=egress_transport(policy), on_request=on_request,
                             on_delta=on_delta, cancel=cancel, on_retry=on_retry)


def budgeted(model: Any, settings: Settings, workspace: Workspace) -> Any:
    """The model as the agent calls it: every request fitted to the context window first. For a
    GGUF the window is its n_ctx and the count exact; for a server both are asked of it
    (models/fitting.py), with a calibrated estimate where it has no tokenizer endpoint."""
    from freehold.models.budget import BudgetedModel, Limit

    if hasattr(model, "count_request"):
        return BudgetedModel(model, model.count_request, Limit(model.context_window, f"{model.path.name}: n_ctx",
                                                                model.max_tokens))
    from freehold.models.fitting import fitted_to_server

    return fitted_to_server(model, settings, fixed_part(model, workspace, settings.index, settings.subagents))


def map_tokens(settings: Settings, model: Any) -> int:
    """The first prompt's repository map: as configured, but a sixteenth of the window at most."""
    limit = getattr(model, "limit", None)
    return min(settings.map_tokens, limit.prompt // 16) if limit is not None else settings.map_tokens


def fixed_part(model: Any, workspace: Workspace, search: bool = False, task: bool = False) -> str:
    """What every request carries before the conversation: the system prompt and tool schemas."""
    from freehold.agent.subagent import GENERAL, task_tool
    from freehold.index.live import search_tool
    from freehold.tools.todo import TodoList, todo_tool
    from freehold.models.openai_compat import request_body

    tools = default_tools() + ([search_tool(lambda workspace, args: "")] if search else [])
    tools += [todo_tool(TodoList())]
    tools += [task_tool(lambda spec, description, prompt: "", {"general": GENERAL})] if task else []
    system = Message("system", system_prompt(workspace, search=search))
    return request_body(model.endpoint, [system], tools).decode()


def build_redactor(settings: Settings, store: SessionStore, session: Session) -> Any:
    if not settings.redaction:
        return None
    from freehold.policy.redaction import Redactor

    return Redactor.from_pairs(store.redactions(session.id))


class Runtime:
    """One open session and everything it runs on: workspace, store, audit log, model, index,
    permissions and the agent. Headless runs one prompt on it; the terminal UI many, and may
    switch it to another session (/clear, /resume) or model (/model)."""

    def __init__(self, settings: Settings, policy: Policy, cwd: Path, emit: Emit,
                 options: RunOptions = RunOptions(), approver: Approver | None = None) -> None:
        self.settings, self.policy, self.emit, self.options = settings, policy, emit, options
        self.workspace = workspace_for(cwd, settings, policy)
        self.store = SessionStore(data_home())
        self.journal = ChangeJournal(self.store)
        self.checkpoints = Checkpoints(self.store, data_home(), self.workspace)
        self.cancel = Cancel()
        self.log = open_audit(policy)
        self.audit = Recorder(self.log) if self.log is not None else NullRecorder()
        self.model = build_model(settings, policy, options, self.audit, self._delta, self.cancel,
                                 lambda reason: emit(ModelRetrying(reason)))
        self.permissions = permissions_for(settings, policy, self.workspace)
        self.decide = gate(self.permissions, approver)
        self.live: LiveIndex | None = None
        self.fitted: Any = None
        self.memory = Memory()
        self.agent: Agent | None = None

    def open(self) -> Runtime:
        """Open the session the options ask for (or a new one) and everything it needs; the model
        is asked first for its name and window, so a bad endpoint fails here."""
        try:
            resumed = resumed_session(self.store, self.workspace, self.options)
            self.model.ensure_model()
            self.fitted = budgeted(self.model, self.settings, self.workspace)
            # Memory files between the repository root and the working directory are read even
            # above the workspace (the convention: a root AGENTS.md holds for every directory),
            # but never one the deny_read globs name.
            self.memory = load_memory(self.workspace.root, budget_tokens=memory_tokens(self.settings, self.fitted),
                                      readable=lambda path: self.workspace.deny_read.match(path, self.workspace.root)
                                      is None)
            if self.settings.index:
                self.live = LiveIndex(self.workspace, data_home()).start()
            self.switch(resumed or self._created(), resumed is not None)
        except BaseException:
            self.close()
            raise
        return self

    @property
    def session(self) -> Session:
        assert self.agent is not None, "Runtime.open() first"
        return self.agent.session

    def switch(self, session: Session, resumed: bool) -> None:
        """Make `session` the one prompts go to, recorded in the audit log as a session start."""
        self.audit.session_id = session.id
        self.audit.session_start(cwd=str(self.workspace.root), model=self.model.name, endpoint=self.model.where,
                                 permission_mode=self.permissions.mode, policy_sha256=self.policy.sha256,
                                 resumed=resumed, sandbox=sandbox_state(self.workspace, self.policy))
        from freehold.tools.todo import TodoList, todo_tool

        self.todos = TodoList()
        extra = [todo_tool(self.todos)] + ([self._task_tool()] if self.settings.subagents else [])
        toolbox = Toolbox(self._tools() + extra, self.workspace)
        self.emit(SessionStarted(session.id, str(self.workspace.root), self.model.name,
                                 tuple(t.name for t in toolbox.tools), self.permissions.mode, resumed))
        self.agent = Agent(self.fitted, toolbox, session, self.decide, self.emit, self.settings.max_turns,
                           audit=self.audit, cancel=self.cancel, on_change=self._changed, compactor=self._compactor(),
                           before_change=self._checkpoint)
        redactor = build_redactor(self.settings, self.store, session)
        if redactor is not None:
            self.agent.redactor = redactor

    def _tools(self) -> list[Any]:
        """The tools a subagent chooses from; the main agent has these, TodoWrite and Task."""
        return default_tools() + ([self.live.tool()] if self.live else [])

    def _task_tool(self) -> Any:
        from freehold.agent.subagent import load_specs, task_tool

        specs, warnings = load_specs(self.workspace.root)
        for warning in warnings:
            print(f"freehold: warning: {warning}", file=sys.stderr)
        return task_tool(self._run_subagent, specs)

    def _run_subagent(self, spec: Any, description: str, prompt: str) -> str:
        """A Task: a fresh session and agent, the same model, permissions, audit log and cancel."""
        from freehold.agent.subagent import report

        session = self.store.create(str(self.workspace.root), self.model.name, self.model.where)
        session.add(Message("system", spec.system_prompt(self.workspace) + self.memory.block()))
        self.audit.subagent(spec.name, description, session.id)
        tools = [t for t in self._tools() if t.name in spec.tools]
        agent = Agent(self.fitted, Toolbox(tools, self.workspace), session, self.decide,
                      lambda event: self.emit(SubagentEvent(description, event)),
                      min(spec.max_turns, self.settings.max_turns), audit=self.audit,
                      cancel=self.cancel, on_change=self._changed, compactor=self._compactor())
        if self.agent is not None:
            agent.redactor = self.agent.redactor
        done = agent.run(prompt)  # an interrupt stops it, then the main loop, which sees the same cancel
        return report(done.result, done.is_error, done.subtype)

    def new_session(self) -> None:
        self.switch(self._created(), False)

    def _created(self) -> Session:
        """A new session, its system prompt holding the project's memory as it is now."""
        session = self.store.create(str(self.workspace.root), self.model.name, self.model.where)
        session.add(Message("system", system_prompt(self.workspace, search=self.settings.index,
                                                    memory=self.memory.block())))
        return session

    def resume(self, session_id: str) -> None:
        session = self.store.open(session_id)
        if session.info.cwd != str(self.workspace.root):
            raise SessionError(f"session {session.id} belongs to {session.info.cwd}; run freehold from there")
        self.switch(session, True)

    def run(self, prompt: str, context: str = "") -> RunFinished:
        """Work on `prompt` until the model answers, is stopped, or fails. A new task's first
        prompt gets the repository map, after any `context` the front end adds (files, output)."""
        assert self.agent is not None, "Runtime.open() first"
        self.cancel.clear()
        if self.live is not None and not any(m.role == "user" for m in self.session.messages):
            tokens = map_tokens(self.settings, self.fitted)
            context = map_block(self.live.repo_map(prompt, tokens, self.settings.index_wait)) + context
        with self.cancel.active():
            done = self.agent.run(prompt, context)
        self.audit.session_end(done)
        self.emit(done)
        return done

    def served_models(self) -> list[str]:
        """What the server serves ([] for an in-process model)."""
        return self.model.served_models() if hasattr(self.model, "served_models") else []

    def switch_model(self, name: str) -> None:
        """Go on with another model the same server serves; its window is asked for anew."""
        if not hasattr(self.model, "endpoint"):
            raise UsageError("an in-process model cannot be switched; start again with another --model-file")
        served = self.served_models()
        if name not in served:
            raise UsageError(f"the server does not serve {name!r}; it serves: {', '.join(served) or 'nothing'}")
        previous = self.model.endpoint
        self.model.endpoint = replace(previous, model=name)
        try:
            self.fitted = budgeted(self.model, self.settings, self.workspace)
        except BaseException:
            self.model.endpoint = previous
            raise
        self.switch(self.session, True)

    def compact(self, focus: str = "") -> Any:
        """/compact: the whole conversation so far replaced by a summary (see agent/compact.py)."""
        assert self.agent is not None
        self.cancel.clear()
        with self.cancel.active():
            return self.agent.compact(focus, reason="asked by the user (/compact)", keep_recent=False)

    def _compactor(self) -> Any:
        from freehold.agent.compact import Compactor

        if not hasattr(self.fitted, "limit"):
            return None
        return Compactor(self.fitted, self.settings.compact_at, self.settings.compact_keep)

    def undo(self) -> Any:
        """Restore the file the agent changed last to what it was before, and record that."""
        result = self.journal.undo_last(self.session.id, self.workspace.root)
        if result.ok:
            self.audit.file_restore(result.path, result.sha256_before, result.sha256_after)
        return result

    def exit_code(self, done: RunFinished) -> int:
        assert self.agent is not None
        if self.agent.failure is not None:
            return self.agent.failure.exit_code
        return 0 if not done.is_error else 1

    def close(self) -> None:
        self.model.close()
        if self.log is not None:
            self.log.close()

    def _delta(self, text: str, reasoning: bool) -> None:
        self.emit(TextDelta(text, reasoning))

    def _checkpoint(self, tool: Any, args: dict[str, Any]) -> None:
        """The workspace before a change; a checkpoint that cannot be made is said, not fatal."""
        what = args.get("file_path") or args.get("command") or ""
        label = f"before {tool.name}({' '.join(str(what).split())[:80]})"
        try:
            self.checkpoints.snapshot(self.session.id, label)
        except (OSError, sqlite3.Error) as exc:
            print(f"freehold: warning: no checkpoint before {tool.name}: {exc}", file=sys.stderr)

    def _changed(self, call_id: str, change: FileChange) -> None:
        if change.real_path is not None:
            self.journal.record(self.session.id, call_id, change.real_path, change.before, change.sha256_after)


def run_headless(settings: Settings, policy: Policy, cwd: Path, prompt: str, emit: Emit,
                 options: RunOptions = RunOptions()) -> int:
    runtime = Runtime(settings, policy, cwd, emit, options, approver=None).open()  # headless: no one to ask
    try:
        return runtime.exit_code(runtime.run(prompt))
    finally:
        runtime.close()
