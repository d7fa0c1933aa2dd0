"""Assemble a run from settings: model client, tools, session, agent; then run it headless."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from freehold.agent.loop import Agent
from freehold.agent.prompt import system_prompt
from freehold.agent.session import Session, SessionStore
from freehold.config import Settings, data_home
from freehold.errors import SessionError
from freehold.messages import Message
from freehold.models.openai_compat import Endpoint, OpenAICompatModel
from freehold.policy.permissions import decide, refusal_message
from freehold.protocol import Emit, SessionStarted
from freehold.tools import Decide, Toolbox, default_tools
from freehold.tools.base import Tool, Workspace


def endpoint_of(settings: Settings) -> Endpoint:
    assert settings.endpoint is not None
    return Endpoint(settings.endpoint, settings.model, settings.api_key, settings.timeout, settings.max_retries,
                    settings.retry_backoff, settings.stream, settings.temperature, settings.max_tokens)


def headless_decider(mode: str, workspace: Workspace) -> Decide:
    def check(tool: Tool, args: dict) -> str | None:
        decision = decide(mode, tool, args, workspace)
        if decision.verdict == "allow":
            return None
        if decision.verdict == "ask":
            return refusal_message(decision)
        return f"Permission denied: {decision.reason}."

    return check


def open_session(store: SessionStore, workspace: Workspace, model: OpenAICompatModel,
                 resume: str | None, continue_latest: bool) -> tuple[Session, bool]:
    """The session to run in: the one asked for (checked before any network call), or a new one."""
    cwd = str(workspace.root)
    if resume or continue_latest:
        session = store.open(resume or store.latest(cwd))
        if session.info.cwd != cwd:
            raise SessionError(f"session {session.id} belongs to {session.info.cwd}; run freehold from there")
        _name_model(model)
        return session, True
    _name_model(model)
    session = store.create(cwd, model.name, model.endpoint.base_url)
    session.add(Message("system", system_prompt(workspace)))
    return session, False


def _name_model(model: OpenAICompatModel) -> None:
    if model.endpoint.model is None:
        model.endpoint = replace(model.endpoint, model=model.served_model())


def run_headless(settings: Settings, cwd: Path, prompt: str, emit: Emit,
                 resume: str | None = None, continue_latest: bool = False) -> int:
    workspace = Workspace.at(cwd)
    store = SessionStore(data_home())
    model = OpenAICompatModel(endpoint_of(settings))
    try:
        session, resumed = open_session(store, workspace, model, resume, continue_latest)
        toolbox = Toolbox(default_tools(), workspace)
        emit(SessionStarted(session.id, str(workspace.root), model.name, tuple(t.name for t in toolbox.tools),
                            settings.permission_mode, resumed))
        agent = Agent(model, toolbox, session, headless_decider(settings.permission_mode, workspace), emit,
                      settings.max_turns)
        done = agent.run(prompt)
        emit(done)
        if agent.failure is not None:
            return agent.failure.exit_code
        return 0 if not done.is_error else 1
    finally:
        model.close()
