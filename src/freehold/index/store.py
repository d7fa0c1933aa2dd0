"""The on-disk index of one repository: files, symbols, imports, full text and co-change, in SQLite.

One database per repository under `FREEHOLD_HOME/index/`, named by a hash of the repository's real
path. It is a cache: everything in it can be rebuilt from the files, so a schema change simply
starts a fresh database (there is nothing to migrate).

`update()` is incremental. A file whose size and mtime are unchanged is not read again; a changed
stat is checked against the stored content hash before the file is parsed again. As git does, a
file written in the same instant as the previous scan ("racy") is re-hashed on the next one, since
a second write within the clock's granularity would leave its mtime unchanged.

Which files: those `list_files` gives (for a session, `tools.search.workspace_files`: git's tracked
and untracked-but-not-ignored files, listed through the sandbox, minus what the model may not read),
minus binaries. Files over MAX_BYTES are indexed by path only.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from freehold.errors import FreeholdError
from freehold.index import text

if TYPE_CHECKING:
    from freehold.sandbox.confine import Confinement

SCHEMA_VERSION = 1
MAX_BYTES = 1_000_000
_BINARY_PROBE = 8192
_RACY_NS = 2_000_000_000
_BATCH = 256

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    path TEXT UNIQUE NOT NULL,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL,
    digest TEXT NOT NULL,
    language TEXT,
    lines INTEGER NOT NULL,
    racy INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE definitions (
    file_id INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
    line INTEGER NOT NULL, end_line INTEGER NOT NULL, parent TEXT NOT NULL
);
CREATE INDEX definitions_by_name ON definitions (name);
CREATE INDEX definitions_by_file ON definitions (file_id);
CREATE TABLE refs (file_id INTEGER NOT NULL, name TEXT NOT NULL, count INTEGER NOT NULL);
CREATE INDEX refs_by_file ON refs (file_id);
CREATE INDEX refs_by_name ON refs (name);
CREATE TABLE imports (file_id INTEGER NOT NULL, raw TEXT NOT NULL);
CREATE INDEX imports_by_file ON imports (file_id);
CREATE VIRTUAL TABLE fts USING fts5 (path, symbols, body, tokenize = "unicode61 tokenchars '_'");
CREATE TABLE touches (path TEXT PRIMARY KEY, commits INTEGER NOT NULL);
CREATE TABLE pairs (a TEXT NOT NULL, b TEXT NOT NULL, commits INTEGER NOT NULL, PRIMARY KEY (a, b));
CREATE INDEX pairs_by_b ON pairs (b);
"""


class IndexUnavailable(FreeholdError):
    """The index database cannot be opened or written (exit 1)."""


@dataclass(frozen=True)
class UpdateStats:
    files: int  # files in the index after the update
    indexed: int  # files (re)parsed
    removed: int
    seconds: float


@dataclass(frozen=True)
class Parsed:
    """What the index keeps of one file's content."""

    language: str | None
    lines: int
    definitions: tuple  # of symbols.Definition
    references: dict[str, int]
    imports: tuple[str, ...]
    body: str  # FTS terms


Progress = Callable[[int, int], None]


def index_path(home: Path, root: Path) -> Path:
    key = hashlib.sha256(os.fsencode(os.path.realpath(root))).hexdigest()[:20]
    return home / "index" / f"{key}.sqlite"


class Index:
    """An open index of the repository at `root`. Not shared between threads: open one per thread."""

    def __init__(self, root: Path, db: sqlite3.Connection, path: Path) -> None:
        self.root = root
        self.db = db
        self.path = path

    @classmethod
    def open(cls, root: Path, home: Path) -> Index:
        root = Path(os.path.realpath(root))
        path = index_path(home, root)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            db = _connect(path)
            if db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
                db.close()
                _remove(path)
                db = _connect(path)
                _create(db, root)
        except (OSError, sqlite3.Error) as exc:
            raise IndexUnavailable(f"cannot open the code index {path}: {exc}") from None
        return cls(root, db, path)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- updating

    def update(self, list_files: Callable[[Path], Iterable[str]] | None = None, progress: Progress | None = None,
               confinement: Confinement | None = None, history: bool = True) -> UpdateStats:
        """Bring the index in step with the files on disk; returns what it did. With `history`,
        co-change counts are brought up to date too (`refresh_history`)."""
        started = time.perf_counter()
        scan_ns = time.time_ns()
        listed = list((list_files or walk_files)(self.root))
        stored = {row[0]: row[1:] for row in self.db.execute("SELECT path, id, mtime_ns, size, digest, racy FROM files")}
        changed = [rel for rel in listed if _stale(self.root / rel, stored.get(rel))]
        gone = set(stored) - set(listed)
        try:
            indexed = self._reindex(changed, stored, scan_ns, progress)
            self._remove_files(gone, stored)
            if history:
                self.refresh_history(confinement)
        except sqlite3.Error as exc:
            raise IndexUnavailable(f"cannot write the code index {self.path}: {exc}") from None
        count = self.db.execute("SELECT count(*) FROM files").fetchone()[0]
        return UpdateStats(count, indexed, len(gone), time.perf_counter() - started)

    def _reindex(self, changed: list[str], stored: dict, scan_ns: int, progress: Progress | None) -> int:
        indexed = 0
        for start in range(0, len(changed), _BATCH):
            with _transaction(self.db):
                for rel in changed[start:start + _BATCH]:
                    indexed += self._reindex_one(rel, stored.get(rel), scan_ns)
            if progress is not None:
                progress(min(start + _BATCH, len(changed)), len(changed))
        return indexed

    def _reindex_one(self, rel: str, row: tuple | None, scan_ns: int) -> int:
        path = self.root / rel
        try:
            stat = path.stat()
            data = _read(path, stat.st_size)
        except OSError:
            return 0  # gone or unreadable since it was listed; the next update looks again
        if data is None:  # binary
            if row is not None:
                self._delete(row[0])
            return 0
        digest = hashlib.blake2b(data, digest_size=16).hexdigest()
        racy = int(stat.st_mtime_ns >= scan_ns - _RACY_NS)
        if row is not None and row[3] == digest:
            self.db.execute("UPDATE files SET mtime_ns = ?, size = ?, racy = ? WHERE id = ?",
                            (stat.st_mtime_ns, stat.st_size, racy, row[0]))
            return 0
        if row is not None:
            self._delete(row[0])
        parsed = parse(rel, data, whole=stat.st_size <= MAX_BYTES)
        file_id = self.db.execute(
            "INSERT INTO files (path, mtime_ns, size, digest, language, lines, racy) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rel, stat.st_mtime_ns, stat.st_size, digest, parsed.language, parsed.lines, racy)).lastrowid
        self._store(file_id, rel, parsed)
        return 1

    def _store(self, file_id: int, rel: str, parsed: Parsed) -> None:
        db = self.db
        db.executemany("INSERT INTO definitions VALUES (?, ?, ?, ?, ?, ?)",
                       [(file_id, d.name, d.kind, d.line, d.end_line, d.parent) for d in parsed.definitions])
        db.executemany("INSERT INTO refs VALUES (?, ?, ?)", [(file_id, n, c) for n, c in parsed.references.items()])
        db.executemany("INSERT INTO imports VALUES (?, ?)", [(file_id, raw) for raw in parsed.imports])
        symbols = " ".join(term for d in parsed.definitions for term in text.terms_of(d.name))
        db.execute("INSERT INTO fts (rowid, path, symbols, body) VALUES (?, ?, ?, ?)",
                   (file_id, text.path_terms(rel), symbols, parsed.body))

    def _delete(self, file_id: int) -> None:
        for table in ("definitions", "refs", "imports"):
            self.db.execute(f"DELETE FROM {table} WHERE file_id = ?", (file_id,))
        self.db.execute("DELETE FROM fts WHERE rowid = ?", (file_id,))
        self.db.execute("DELETE FROM files WHERE id = ?", (file_id,))

    def _remove_files(self, gone: set[str], stored: dict) -> None:
        with _transaction(self.db):
            for rel in gone:
                self._delete(stored[rel][0])

    def refresh_history(self, confinement: Confinement | None = None) -> None:
        """Recount co-change when HEAD has moved since the last count. git runs in `confinement`
        when one is given."""
        from freehold.index import cochange

        head = cochange.head(self.root, confinement=confinement)
        if head is None or head == self.meta("cochange_head"):
            return
        stats = cochange.cochange(self.root, confinement=confinement)
        if stats is None:
            return
        with _transaction(self.db):
            self.db.execute("DELETE FROM touches")
            self.db.execute("DELETE FROM pairs")
            self.db.executemany("INSERT INTO touches VALUES (?, ?)", stats.touches.items())
            self.db.executemany("INSERT INTO pairs VALUES (?, ?, ?)", ((a, b, n) for (a, b), n in stats.pairs.items()))
            self.set_meta("cochange_head", head)

    # ---- reading

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def files(self) -> dict[int, str]:
        return dict(self.db.execute("SELECT id, path FROM files"))

    def import_edges(self) -> dict[int, set[int]]:
        """The import graph: file id -> ids of the repository files it imports, each raw import
        resolved by `imports.Resolver` for the file's language (external modules lead nowhere)."""
        from freehold.index.imports import Resolver

        files = self.files()
        ids = {path: fid for fid, path in files.items()}
        resolver = Resolver(files.values(), read=self._read_file)
        graph: dict[int, set[int]] = {}
        rows = self.db.execute("SELECT i.file_id, f.language, i.raw FROM imports i JOIN files f ON f.id = i.file_id")
        for fid, language, raw in rows:
            for target in resolver.resolve(files[fid], language or "", raw):
                if target in ids and ids[target] != fid:
                    graph.setdefault(fid, set()).add(ids[target])
        return graph

    def _read_file(self, rel: str) -> bytes | None:
        try:
            return (self.root / rel).read_bytes()[:MAX_BYTES]
        except OSError:
            return None

    def file_count(self) -> int:
        return self.db.execute("SELECT count(*) FROM files").fetchone()[0]


def parse(rel: str, data: bytes, *, whole: bool = True) -> Parsed:
    """Symbols and search terms of one file (`whole` False: too big, so its path alone is indexed)."""
    from freehold.index import languages, symbols

    if not whole:
        return Parsed(None, 0, (), {}, (), "")
    content = data.decode("utf-8", "replace")
    language = languages.language_for(rel, data[:8192])
    found = symbols.extract(rel, data) if language not in (None, "text") else None
    return Parsed(language, content.count("\n") + 1, found.definitions if found else (),
                  found.references if found else {}, found.imports if found else (), text.document(content))


def walk_files(root: Path) -> Iterator[str]:
    """Every regular file under `root` outside hidden directories (used when no lister is given)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _JUNK_DIRS)
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            if not os.path.islink(path):
                yield os.path.relpath(path, root).replace(os.sep, "/")


_JUNK_DIRS = frozenset({"node_modules", "__pycache__", "venv", "target", "dist", "build"})


def _stale(path: Path, row: tuple | None) -> bool:
    if row is None:
        return True
    _, mtime_ns, size, _, racy = row
    try:
        stat = path.stat()
    except OSError:
        return True
    return racy or stat.st_mtime_ns != mtime_ns or stat.st_size != size


def _read(path: Path, size: int) -> bytes | None:
    """The file's bytes (only its head past MAX_BYTES), or None for a binary file."""
    with open(path, "rb") as handle:
        data = handle.read(MAX_BYTES if size > MAX_BYTES else -1)
    return None if b"\0" in data[:_BINARY_PROBE] else data


def _connect(path: Path) -> sqlite3.Connection:
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)  # it holds the repository's code
    os.close(fd)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


def _create(db: sqlite3.Connection, root: Path) -> None:
    with _transaction(db):
        for statement in filter(str.strip, SCHEMA.split(";")):
            db.execute(statement)
        db.execute("INSERT INTO meta VALUES ('root', ?)", (str(root),))
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


@contextmanager
def _transaction(db: sqlite3.Connection) -> Iterator[None]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        try:
            os.unlink(f"{path}{suffix}")
        except FileNotFoundError:
            pass
