"""What the audit log says happened: one record per event, written before the action it describes.

    session_start  cwd, model, endpoint, permission mode, the policy's hash, what confines commands
                   (bubblewrap, or none because the policy turned the sandbox off), Freehold's version
    user_prompt    the prompt as sent (after redaction)
    model_request  endpoint, request_sha256 of the exact body bytes, and the body itself
    model_response text, reasoning, tool calls, usage, finish reason
    tool_call      the call, its permission decision and what decided it
    tool_result    size and SHA-256 of the result, its first 2,000 characters
    file_change    path, SHA-256 before and after (Write and Edit)
    user_command   a command the person ran themselves (`!cmd` in the terminal UI), its exit
                   code, and its output's size, SHA-256 and first 2,000 characters
    file_restore   a file the person restored (/undo): path, SHA-256 before and after
    subagent       a Task started: its type, description and the session its turns are stored in
    compaction     older turns replaced by a summary: why, by the model or a digest, how many
                   messages and characters, their SHA-256, and the summary itself
    refusal        what the policy refused, and the rule
    session_end    outcome, turns, usage, duration; a signed checkpoint follows

Bodies and texts are recorded as the model saw them: secrets are already placeholders.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from freehold import __version__

RESULT_CAP = 2_000


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str | None:
    """The file's hash, or None when it does not exist (or cannot be read)."""
    try:
        return sha256_hex(path.read_bytes()) if path.is_file() else None
    except OSError:
        return None


class Recorder:
    """Writes the records of one session (or of none, for refusals before a session exists)."""

    def __init__(self, log: Any, session_id: str = "") -> None:
        self.log = log
        self.session_id = session_id

    def _write(self, kind: str, **fields: Any) -> None:
        self.log.append({"type": kind, "session": self.session_id, **fields})

    def session_start(self, *, cwd: str, model: str, endpoint: str, permission_mode: str,
                      policy_sha256: str | None, resumed: bool, sandbox: str = "") -> None:
        self._write("session_start", cwd=cwd, model=model, endpoint=endpoint, permission_mode=permission_mode,
                    policy_sha256=policy_sha256, resumed=resumed, sandbox=sandbox, freehold_version=__version__)

    def user_prompt(self, text: str) -> None:
        self._write("user_prompt", text=text)

    def model_request(self, endpoint: str, body: bytes) -> None:
        self._write("model_request", endpoint=endpoint, request_sha256=sha256_hex(body),
                    body=body.decode("utf-8", "replace"))

    def model_response(self, reply: Any) -> None:
        calls = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in reply.tool_calls]
        usage = {"input_tokens": reply.usage.input_tokens, "output_tokens": reply.usage.output_tokens,
                 "estimated": reply.usage.estimated}
        self._write("model_response", text=reply.text, reasoning=reply.reasoning, tool_calls=calls,
                    usage=usage, finish_reason=reply.finish_reason)

    def tool_call(self, call: Any, tool_input: dict[str, Any] | None, decision: str, decided_by: str) -> None:
        self._write("tool_call", id=call.id, name=call.name, input=tool_input, raw_arguments=call.arguments,
                    decision=decision, decided_by=decided_by)

    def tool_result(self, call_id: str, content: str, is_error: bool) -> None:
        raw = content.encode()
        self._write("tool_result", id=call_id, size=len(raw), sha256=sha256_hex(raw),
                    content=content[:RESULT_CAP], truncated=len(content) > RESULT_CAP, is_error=is_error)

    def file_change(self, call_id: str, path: str, before: str | None, after: str | None) -> None:
        self._write("file_change", id=call_id, path=path, sha256_before=before, sha256_after=after)

    def user_command(self, command: str, exit_code: int | None, output: str) -> None:
        raw = output.encode()
        self._write("user_command", command=command, exit_code=exit_code, size=len(raw), sha256=sha256_hex(raw),
                    output=output[:RESULT_CAP], truncated=len(output) > RESULT_CAP)

    def file_restore(self, path: str, before: str | None, after: str | None) -> None:
        self._write("file_restore", path=path, sha256_before=before, sha256_after=after)

    def compaction(self, reason: str, by: str, removed: int, removed_chars: int, removed_sha256: str,
                   summary: str) -> None:
        self._write("compaction", reason=reason, by=by, removed_messages=removed, removed_chars=removed_chars,
                    removed_sha256=removed_sha256, summary=summary)

    def subagent(self, kind: str, description: str, session: str) -> None:
        self._write("subagent", agent=kind, description=description, subagent_session=session)

    def refusal(self, what: str, rule: str) -> None:
        self._write("refusal", what=what, rule=rule)

    def session_end(self, done: Any) -> None:
        usage = {"input_tokens": done.usage.input_tokens, "output_tokens": done.usage.output_tokens}
        self._write("session_end", subtype=done.subtype, is_error=done.is_error, num_turns=done.num_turns,
                    duration_ms=done.duration_ms, usage=usage, result=done.result[:RESULT_CAP])
        self.log.checkpoint()


class NullRecorder(Recorder):
    """For runs the policy lets go unrecorded, and for tests of the loop alone."""

    def __init__(self) -> None:
        super().__init__(None)

    def _write(self, kind: str, **fields: Any) -> None:
        pass

    def session_end(self, done: Any) -> None:
        pass
