"""Checkpoints: the workspace as it was before each change the agent made (an Edit, a Write, a
command), so `/rewind` or `freehold rewind SESSION STEP` can put every file back, whatever
changed it, shell commands included.

A checkpoint is a manifest (path -> SHA-256 and mode) in the session store, and the contents in
a private content-addressed store (`FREEHOLD_HOME/checkpoints/objects`, zlib-compressed, each
file written once), never in the user's repository, branches or index. It holds the files git
would keep (hidden ones too, ignored ones not) that the model may read: no `deny_read` secret
is copied. Files are hashed again only when their size or mtime changed since the last look.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from freehold.agent.session import SessionStore
from freehold.tools.base import Workspace


@dataclass(frozen=True)
class Step:
    step: int
    label: str
    created_at: float
    files: int


@dataclass
class Rewound:
    restored: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # paths that now lead outside the workspace


class Checkpoints:
    def __init__(self, store: SessionStore, home: Path, workspace: Workspace,
                 list_files: Callable[[Workspace], list[str]] | None = None) -> None:
        from freehold.tools.search import project_files

        self.db = store.db
        self.objects = home / "checkpoints" / "objects"
        self.workspace = workspace
        self.list_files = list_files or project_files
        self._seen: dict[str, tuple[int, int, str, int]] = {}  # path -> size, mtime_ns, sha256, mode

    def snapshot(self, session_id: str, label: str) -> int:
        """Record the workspace now, as the session's next step (or the last one, unchanged)."""
        manifest = self._manifest()
        last = self.db.execute("SELECT step, manifest FROM checkpoints WHERE session_id = ? ORDER BY step DESC "
                               "LIMIT 1", (session_id,)).fetchone()
        if last is not None and json.loads(last[1]) == manifest:
            return int(last[0])
        step = last[0] + 1 if last is not None else 1
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT INTO checkpoints VALUES (?, ?, ?, ?, ?)",
                            (session_id, step, label, json.dumps(manifest, sort_keys=True), time.time()))
        return step

    def steps(self, session_id: str) -> list[Step]:
        rows = self.db.execute("SELECT step, label, created_at, manifest FROM checkpoints WHERE session_id = ? "
                               "ORDER BY step", (session_id,))
        return [Step(step, label, at, len(json.loads(manifest))) for step, label, at, manifest in rows]

    def rewind(self, session_id: str, step: int) -> Rewound:
        """Put the workspace back as it was at `step`: its files restored, files made since deleted."""
        row = self.db.execute("SELECT manifest FROM checkpoints WHERE session_id = ? AND step = ?",
                              (session_id, step)).fetchone()
        if row is None:
            raise KeyError(step)
        target: dict[str, list] = json.loads(row[0])
        now = self._manifest()
        done = Rewound()
        for rel, (digest, mode) in sorted(target.items()):
            if now.get(rel) != [digest, mode]:
                path = self._writable(rel, done)
                if path is not None:
                    self._restore(path, digest, mode)
                    done.restored.append(rel)
        for rel in sorted(set(now) - set(target)):
            path = self._writable(rel, done)
            if path is not None:
                path.unlink(missing_ok=True)
                done.deleted.append(rel)
        self._seen.clear()
        return done

    # -- the store -------------------------------------------------------------------------

    def _manifest(self) -> dict[str, list]:
        manifest: dict[str, list] = {}
        for rel in self.list_files(self.workspace):
            entry = self._look(rel)
            if entry is not None:
                manifest[rel] = list(entry)
        return manifest

    def _look(self, rel: str) -> tuple[str, int] | None:
        path = self.workspace.root / rel
        try:
            info = path.lstat()
        except OSError:
            return None
        if not stat.S_ISREG(info.st_mode):
            return None
        mode = stat.S_IMODE(info.st_mode)
        seen = self._seen.get(rel)
        if seen is not None and seen[:2] == (info.st_size, info.st_mtime_ns):
            return seen[2], seen[3]
        try:
            data = path.read_bytes()
        except OSError:
            return None
        digest = hashlib.sha256(data).hexdigest()
        self._keep(digest, data)
        self._seen[rel] = (info.st_size, info.st_mtime_ns, digest, mode)
        return digest, mode

    def _keep(self, digest: str, data: bytes) -> None:
        target = self.objects / digest[:2] / digest[2:]
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        temp.write_bytes(zlib.compress(data, 1))
        os.replace(temp, target)

    def _writable(self, rel: str, done: Rewound) -> Path | None:
        """`rel` resolved as a file tool would write it: a directory swapped for a link out of
        the workspace since the checkpoint cannot lead a rewind elsewhere."""
        from freehold.tools.base import ToolError

        try:
            return self.workspace.resolve_for_write(rel)
        except ToolError:
            done.refused.append(rel)
            return None

    def _restore(self, path: Path, digest: str, mode: int) -> None:
        from freehold.tools.files import write_atomic

        data = zlib.decompress((self.objects / digest[:2] / digest[2:]).read_bytes())
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
        os.chmod(path, mode)
