"""The single place Freehold starts subprocesses.

Everything that runs a program (the Bash tool, ripgrep and git for Grep and Glob) goes through `run`,
so that confinement (bubblewrap, bwrap.py) and environment scrubbing apply to all of them at once.
Nothing else in Freehold may call `subprocess` or `os.exec*` (bwrap.py's probe of bwrap itself aside).

A child runs in its own process group with stdin closed and stdout and stderr on one pipe. Its output
is read as it comes, in the calling thread through a selector (so no reader thread can be left behind),
into a buffer that keeps only the head and the tail: a command printing a gigabyte costs tens of
kilobytes. On timeout the whole group is stopped (SIGTERM, a short grace, SIGKILL), grandchildren
included; a background child that keeps the pipe open after the command has exited is given a short
grace and then stopped too, so `server &` cannot hang the agent. When the person interrupts (the
thread's `cancel.current()` is raised), the group is stopped the same way within a poll interval.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from freehold import cancel
from freehold.sandbox.bwrap import git_redirects, git_sweep, wrap
from freehold.sandbox.confine import Confinement

OUTPUT_LIMIT = 30_000
# How long a background child may hold the output open after the command itself has exited.
EXIT_GRACE = 1.0
# How long SIGTERM has to end the group before SIGKILL follows.
KILL_GRACE = 2.0
_CHUNK = 65_536
# Wake-up interval while the pipe is quiet, to notice the command's exit and the deadline.
_POLL = 0.1
# Freehold's own settings and secrets (FREEHOLD_API_KEY above all) are for Freehold, not for the
# commands the model runs: a command could print them into the transcript or send them elsewhere.
_PRIVATE_PREFIX = "FREEHOLD_"


@dataclass(frozen=True)
class ProcessResult:
    """What a finished (or stopped) child left behind."""

    # The return code as subprocess reports it: negative when a signal ended the process.
    exit_code: int | None
    head: str
    tail: str
    # Characters dropped between head and tail; 0 means head + tail is the whole output.
    omitted_chars: int = 0
    timed_out: bool = False
    # The command exited, but processes it left in the background held the output open and were stopped.
    stopped_leftovers: bool = False
    # What the sandbox undid after the command (see bwrap.git_sweep).
    notes: tuple[str, ...] = ()
    # The person interrupted the run, and the group was stopped.
    interrupted: bool = False

    @property
    def output(self) -> str:
        if not self.omitted_chars:
            return self.head + self.tail
        head, tail = _whole_lines(self.head, self.tail)
        omitted = self.omitted_chars + len(self.head) - len(head) + len(self.tail) - len(tail)
        return f"{head}\n[... {omitted} characters omitted ...]\n{tail}"


# How far back (or forward) a cut may move to fall between lines.
_LINE_SNAP = 2_000


def _whole_lines(head: str, tail: str) -> tuple[str, str]:
    """Head and tail cut between lines, not inside one, where a line break is near: a token
    cut in half would slip past secret redaction, which sees only what is left."""
    end = head.rfind("\n", max(0, len(head) - _LINE_SNAP))
    start = tail.find("\n", 0, _LINE_SNAP)
    return (head[: end + 1] if end != -1 else head), (tail[start + 1 :] if start != -1 else tail)


class _HeadTail:
    """Decodes a byte stream as UTF-8 and keeps its first and last `limit // 2` characters."""

    def __init__(self, limit: int) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._head_room = limit // 2
        self._tail_room = limit - self._head_room
        self._head: list[str] = []
        self._tail = ""
        self.omitted = 0

    def feed(self, data: bytes, final: bool = False) -> None:
        text = self._decoder.decode(data, final)
        if self._head_room > 0:
            taken = text[: self._head_room]
            self._head.append(taken)
            self._head_room -= len(taken)
            text = text[len(taken) :]
        if text:
            self._tail += text
            excess = len(self._tail) - self._tail_room
            if excess > 0:
                self.omitted += excess
                self._tail = self._tail[excess:]

    def head(self) -> str:
        return "".join(self._head)

    def tail(self) -> str:
        return self._tail


def child_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a child gets: `base` (default: ours) without Freehold's own variables."""
    source = os.environ if base is None else base
    return {name: value for name, value in source.items() if not name.startswith(_PRIVATE_PREFIX)}


def run(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    timeout: float,
    confinement: Confinement | None,
    env: Mapping[str, str] | None = None,
    output_limit: int = OUTPUT_LIMIT,
) -> ProcessResult:
    """Run `argv` in `cwd` and wait for it, at most `timeout` seconds, inside `confinement`
    (None runs it unconfined: every caller says which, so none can forget). Raises OSError if it
    cannot start, and SandboxUnavailable when the sandbox cannot be had (it never runs without).

    The child's environment is `env` (default: ours) less Freehold's own variables; see `child_env`.
    """
    cwd = Path(cwd)
    environment = child_env(env)
    if confinement is not None:
        argv = wrap(argv, confinement, cwd)
        environment["TMPDIR"] = "/tmp"  # the sandbox's own, whatever the host's is
        redirects = git_redirects(confinement.workspace)
    proc = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=environment,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    buffer = _HeadTail(output_limit)
    try:
        outcome = _supervise(proc, buffer, time.monotonic() + timeout)
    except BaseException:  # Ctrl-C or a bug: never leave the group running behind us
        _stop_group(proc, buffer)
        raise
    finally:
        assert proc.stdout is not None
        proc.stdout.close()
    buffer.feed(b"", final=True)
    notes = tuple(git_sweep(confinement.workspace, redirects)) if confinement is not None else ()
    return ProcessResult(proc.returncode, buffer.head(), buffer.tail(), buffer.omitted, outcome == "deadline",
                         outcome == "leftovers", notes, outcome == "cancelled")


def _supervise(proc: subprocess.Popen[bytes], buffer: _HeadTail, deadline: float) -> str:
    """Read until the command is done; stop its group if needed. Returns how it ended: "eof",
    "deadline", "leftovers" or "cancelled"."""
    outcome = _drain(proc, buffer, deadline, exit_grace=EXIT_GRACE)
    if outcome == "eof":
        # The pipe closed, but the command may have closed its output and still be running.
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            return "eof"
        except subprocess.TimeoutExpired:
            outcome = "deadline"
    _stop_group(proc, buffer)
    return outcome


def _drain(proc: subprocess.Popen[bytes], buffer: _HeadTail, deadline: float, exit_grace: float | None) -> str:
    """Read output until end of file ("eof"), the deadline ("deadline"), or, with `exit_grace`, until
    the command has been gone that long while something else still holds the pipe ("leftovers"),
    or until the person interrupts ("cancelled"; not while winding down, without `exit_grace`)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    exited_at: float | None = None
    stop = cancel.current() if exit_grace is not None else None
    with selectors.DefaultSelector() as selector:
        selector.register(fd, selectors.EVENT_READ)
        while True:
            now = time.monotonic()
            if now >= deadline:
                return "deadline"
            if stop is not None and stop.is_set:
                return "cancelled"
            if exit_grace is not None and exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and exit_grace is not None and now - exited_at >= exit_grace:
                return "leftovers"
            if selector.select(min(_POLL, deadline - now)):
                data = os.read(fd, _CHUNK)
                if not data:
                    return "eof"
                buffer.feed(data)


def _stop_group(proc: subprocess.Popen[bytes], buffer: _HeadTail) -> None:
    """SIGTERM the whole group, keep reading while it winds down, then SIGKILL whatever is left."""
    _signal_group(proc.pid, signal.SIGTERM)
    grace_end = time.monotonic() + KILL_GRACE
    _drain(proc, buffer, grace_end, exit_grace=None)
    with contextlib.suppress(subprocess.TimeoutExpired):  # SIGKILL below ends it
        proc.wait(timeout=max(0.0, grace_end - time.monotonic()))
    _signal_group(proc.pid, signal.SIGKILL)
    # A process stuck in the kernel may outlive even SIGKILL for a while; returning beats hanging the agent.
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=KILL_GRACE)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is already gone
        os.killpg(pgid, sig)
