"""`freehold rewind SESSION [STEP]`: a session's checkpoints, and the workspace put back as it
was at one of them (before that step's change)."""

from __future__ import annotations

import sys
from pathlib import Path

from freehold.errors import SessionError, UsageError

USAGE = "usage: freehold rewind SESSION_ID [STEP]"


def rewind_command(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2 or (len(argv) == 2 and not argv[1].isdigit()):
        raise UsageError(USAGE)
    from freehold import config
    from freehold.agent.checkpoints import Checkpoints
    from freehold.agent.session import SessionStore
    from freehold.app import workspace_for
    from freehold.policy.org import enforce, load_policy

    policy = load_policy()
    workspace = workspace_for(Path.cwd(), enforce(config.load(Path.cwd(), {}), policy, strict=False), policy)
    store = SessionStore(config.data_home())
    session = store.open(argv[0])
    if session.info.cwd != str(workspace.root):
        raise SessionError(f"session {session.id} belongs to {session.info.cwd}; run freehold rewind from there")
    checkpoints = Checkpoints(store, config.data_home(), workspace)
    if len(argv) == 1:
        steps = checkpoints.steps(session.id)
        for step in steps:
            print(f"{step.step:>4}  {step.label}  ({step.files} files)")
        if not steps:
            print("no checkpoints: the agent changed nothing in this session")
        return 0
    return _rewind(checkpoints, session.id, int(argv[1]))


def _rewind(checkpoints: object, session_id: str, step: int) -> int:
    try:
        done = checkpoints.rewind(session_id, step)  # type: ignore[attr-defined]
    except KeyError:
        raise UsageError(f"no step {step} in session {session_id} (freehold rewind {session_id} lists them)")
    for rel in done.restored:
        print(f"restored {rel}")
    for rel in done.deleted:
        print(f"deleted {rel}")
    for rel in done.refused:
        print(f"freehold: {rel} now leads outside the workspace; left alone", file=sys.stderr)
    if not (done.restored or done.deleted):
        print("nothing to do: the workspace is as it was then")
    return 0
