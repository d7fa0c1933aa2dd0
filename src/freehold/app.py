"""Assemble a run from settings and policy: model client, tools, session, agent; then run it headless."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from freehold.agent.loop import Agent, Decide
from freehold.agent.prompt import system_prompt
from freehold.agent.session import Session, SessionStore
from freehold.audit.recorder import NullRecorder, Recorder
from freehold.config import Settings, data_home
from freehold.errors import SessionError
from freehold.messages import Message
from freehold.models.openai_compat import Endpoint, OpenAICompatModel
from freehold.policy.org import Policy
from freehold.policy.permissions import Ruling, decide, refusal_message
from freehold.policy.rules import Rule
from freehold.protocol import Emit, SessionStarted
from freehold.tools import Toolbox, default_tools
from freehold.tools.base import Tool, Workspace


@dataclass(frozen=True)
class RunOptions:
    resume: str | None = None
    continue_latest: bool = False
    dump_requests: Path | None = None


def endpoint_of(settings: Settings) -> Endpoint:
    assert settings.endpoint is not None
    return Endpoint(settings.endpoint, settings.model, settings.api_key, settings.timeout, settings.max_retries,
                    settings.retry_backoff, settings.stream, settings.temperature, settings.max_tokens)


def headless_decider(mode: str, workspace: Workspace, policy: Policy) -> Decide:
    """Policy deny rules first (nothing overrides them), then the permission-mode table."""
    rules = [Rule.parse(text) for text in policy.deny_rules]

    def check(tool: Tool, args: dict[str, Any]) -> Ruling:
        for rule in rules:
            if rule.matches(tool, args, workspace):
                by = f"policy rule {rule.text} ({policy.path})"
                return Ruling(False, by, f"Permission denied by the organization's policy: rule {rule.text} ({policy.path}).")
        decision = decide(mode, tool, args, workspace)
        if decision.verdict == "allow":
            return Ruling(True, f"mode '{mode}': {decision.reason}")
        if decision.verdict == "ask":
            return Ruling(False, f"mode '{mode}': needs a person, none present (headless)", refusal_message(decision))
        return Ruling(False, f"mode '{mode}': {decision.reason}", f"Permission denied: {decision.reason}.")

    return check


def workspace_for(cwd: Path, settings: Settings, policy: Policy) -> Workspace:
    return Workspace.at(cwd, policy.deny_read, policy.deny_write, network=settings.network_tools == "allow")


def open_session(store: SessionStore, workspace: Workspace, model: OpenAICompatModel,
                 options: RunOptions) -> tuple[Session, bool]:
    """The session to run in: the one asked for (checked before any network call), or a new one."""
    cwd = str(workspace.root)
    resumed = None
    if options.resume or options.continue_latest:
        resumed = store.open(options.resume or store.latest(cwd))
        if resumed.info.cwd != cwd:
            raise SessionError(f"session {resumed.id} belongs to {resumed.info.cwd}; run freehold from there")
    model.ensure_model()
    if resumed is not None:
        return resumed, True
    session = store.create(cwd, model.name, model.endpoint.base_url)
    session.add(Message("system", system_prompt(workspace)))
    return session, False


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


def build_model(settings: Settings, policy: Policy, options: RunOptions, audit: Recorder) -> OpenAICompatModel:
    """The model client; each body is recorded (and dumped, if asked) before it is sent."""
    from freehold.policy.egress import egress_transport

    endpoint = endpoint_of(settings)
    dumper = request_dumper(options.dump_requests) if options.dump_requests else None

    def on_request(body: bytes) -> None:
        audit.model_request(endpoint.base_url, body)
        if dumper is not None:
            dumper(body)

    return OpenAICompatModel(endpoint, transport=egress_transport(policy), on_request=on_request)


def build_redactor(settings: Settings, store: SessionStore, session: Session) -> Any:
    if not settings.redaction:
        return None
    from freehold.policy.redaction import Redactor

    return Redactor.from_pairs(store.redactions(session.id))


def run_headless(settings: Settings, policy: Policy, cwd: Path, prompt: str, emit: Emit,
                 options: RunOptions = RunOptions()) -> int:
    workspace = workspace_for(cwd, settings, policy)
    store = SessionStore(data_home())
    log = open_audit(policy)
    audit = Recorder(log) if log is not None else NullRecorder()
    model = build_model(settings, policy, options, audit)
    try:
        session, resumed = open_session(store, workspace, model, options)
        audit.session_id = session.id
        audit.session_start(cwd=str(workspace.root), model=model.name, endpoint=model.endpoint.base_url,
                            permission_mode=settings.permission_mode, policy_sha256=policy.sha256, resumed=resumed)
        toolbox = Toolbox(default_tools(), workspace)
        emit(SessionStarted(session.id, str(workspace.root), model.name, tuple(t.name for t in toolbox.tools),
                            settings.permission_mode, resumed))
        agent = Agent(model, toolbox, session, headless_decider(settings.permission_mode, workspace, policy), emit,
                      settings.max_turns, audit=audit)
        redactor = build_redactor(settings, store, session)
        if redactor is not None:
            agent.redactor = redactor
        done = agent.run(prompt)
        audit.session_end(done)
        emit(done)
        if agent.failure is not None:
            return agent.failure.exit_code
        return 0 if not done.is_error else 1
    finally:
        model.close()
        if log is not None:
            log.close()
