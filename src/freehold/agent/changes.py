"""The session's change journal: each file the agent's tools changed, with its content before,
kept in the session store so /diff and /undo work after a restart or a resume too.

Changes made by shell commands are not in it (checkpoints of the whole workspace are a later
step); /diff does show a journaled file as it is now, whatever changed it since.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path

from freehold.agent.session import SessionStore
from freehold.tools.files import write_atomic
from freehold.tools.preview import file_diff


@dataclass(frozen=True)
class Change:
    seq: int
    tool_call_id: str
    path: Path  # absolute and real, as the tool resolved it
    before: bytes | None  # None: the tool created the file
    after_sha256: str | None  # None: the tool deleted it
    undone: bool


@dataclass(frozen=True)
class UndoResult:
    ok: bool
    message: str
    path: str = ""  # as the person sees it: relative to the root inside it
    sha256_before: str | None = None  # the file as the undo found it
    sha256_after: str | None = None  # and as it left it


class ChangeJournal:
    def __init__(self, store: SessionStore) -> None:
        self.db = store.db

    def record(self, session_id: str, tool_call_id: str, path: Path, before: bytes | None,
               after_sha256: str | None) -> None:
        with self.db:
            # IMMEDIATE: the next seq is read and used in one step, even with a second process.
            self.db.execute("BEGIN IMMEDIATE")
            seq = self.db.execute("SELECT COALESCE(MAX(seq), -1) + 1 FROM file_changes WHERE session_id = ?",
                                  (session_id,)).fetchone()[0]
            self.db.execute("INSERT INTO file_changes VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                            (session_id, seq, tool_call_id, str(path), before, after_sha256, time.time()))

    def changes(self, session_id: str) -> list[Change]:
        """The session's changes, oldest first."""
        rows = self.db.execute("SELECT seq, tool_call_id, path, before, after_sha256, undone FROM file_changes "
                               "WHERE session_id = ? ORDER BY seq", (session_id,))
        return [Change(seq, call, Path(path), before, after, bool(undone))
                for seq, call, path, before, after, undone in rows]

    def session_diff(self, session_id: str, root: Path) -> list[str]:
        """For each file changed (and not all undone), the diff from before the agent's first
        change to the file on disk now; none for a file that is as it was."""
        first: dict[Path, Change] = {}
        for change in self.changes(session_id):
            if not change.undone:
                first.setdefault(change.path, change)
        return [file_diff(_shown(path, root), change.before, now) for path, change in first.items()
                if (now := _read(path)) != change.before]

    def undo_last(self, session_id: str, root: Path, force: bool = False) -> UndoResult:
        """Put back the file the newest change not yet undone was made to. If the file has changed
        since, nothing is touched unless `force`: that later change is someone else's to lose."""
        pending = [c for c in self.changes(session_id) if not c.undone]
        if not pending:
            return UndoResult(False, "nothing to undo: the agent changed no file in this session (or all is undone)")
        change = pending[-1]
        shown = _shown(change.path, root)
        if not _inside(change.path, root):
            return UndoResult(False, f"{shown} is outside the workspace {root}; not undone", shown)
        now = _read(change.path)
        if _sha256(now) != change.after_sha256 and not force:
            return UndoResult(False, f"{shown} was changed since the agent's edit; not undone", shown)
        try:
            _restore(change.path, change.before)
        except OSError as exc:
            return UndoResult(False, f"cannot restore {shown}: {exc.strerror or exc}; not undone", shown)
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("UPDATE file_changes SET undone = 1 WHERE session_id = ? AND seq = ?",
                            (session_id, change.seq))
        verb = "deleted (the agent had created it)" if change.before is None else "restored"
        return UndoResult(True, f"{shown} {verb}", shown, _sha256(now), _sha256(change.before))


def _shown(path: Path, root: Path) -> str:
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _inside(path: Path, root: Path) -> bool:
    """Whether `path` is inside `root` now: its directory is resolved again, so a directory
    swapped for a symlink since the edit cannot lead the undo elsewhere."""
    real = Path(os.path.realpath(path.parent)) / path.name
    return Path(os.path.realpath(root)) in real.parents


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _sha256(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None


def _restore(path: Path, data: bytes | None) -> None:
    """Write `data` back in one step, keeping the mode (as Write does); None deletes."""
    if data is None:
        path.unlink(missing_ok=True)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)
