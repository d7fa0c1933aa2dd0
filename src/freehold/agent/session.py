"""Durable sessions: every message is committed to SQLite the moment it exists.

A crash or Ctrl-C therefore loses at most the step in flight; `--continue` and `--resume`
rebuild the whole conversation. The schema grows only by named, append-only migrations.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from freehold.errors import SessionError
from freehold.messages import Message

MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_sessions_and_messages",
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            cwd TEXT NOT NULL,
            model TEXT NOT NULL,
            endpoint TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL
        );
        CREATE INDEX sessions_by_cwd ON sessions (cwd, updated_at);
        CREATE TABLE messages (
            session_id TEXT NOT NULL REFERENCES sessions (id),
            seq INTEGER NOT NULL,
            body TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (session_id, seq)
        );
        """,
    ),
    (
        "002_redactions",
        """
        CREATE TABLE redactions (
            session_id TEXT NOT NULL REFERENCES sessions (id),
            placeholder TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY (session_id, placeholder)
        );
        """,
    ),
    (
        "003_file_changes",
        """
        CREATE TABLE file_changes (
            session_id TEXT NOT NULL REFERENCES sessions (id),
            seq INTEGER NOT NULL,
            tool_call_id TEXT NOT NULL,
            path TEXT NOT NULL,
            before BLOB,
            after_sha256 TEXT,
            undone INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            PRIMARY KEY (session_id, seq)
        );
        """,
    ),
    (
        # A compaction hides the messages between the system prompt and `kept_from` behind one
        # summary message. The rows stay: only the newest compaction shapes what is sent.
        "004_compactions",
        """
        CREATE TABLE compactions (
            session_id TEXT NOT NULL REFERENCES sessions (id),
            at_seq INTEGER NOT NULL,
            kept_from INTEGER NOT NULL,
            summary TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (session_id, at_seq)
        );
        """,
    ),
    (
        # The workspace before each change the agent made: path -> [sha256, mode] (the contents
        # are in a content-addressed store beside the database).
        "005_checkpoints",
        """
        CREATE TABLE checkpoints (
            session_id TEXT NOT NULL REFERENCES sessions (id),
            step INTEGER NOT NULL,
            label TEXT NOT NULL,
            manifest TEXT NOT NULL,
            created_at REAL NOT NULL,
            PRIMARY KEY (session_id, step)
        );
        """,
    ),
]

INTERRUPTED = "Not run: the session was interrupted before this tool call finished."


@dataclass(frozen=True)
class SessionSummary:
    """A session as a list of them shows it."""

    id: str
    updated_at: float
    messages: int
    first_prompt: str


@dataclass(frozen=True)
class SessionInfo:
    id: str
    cwd: str
    model: str
    endpoint: str


class SessionStore:
    def __init__(self, home: Path) -> None:
        try:
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = home / "sessions.db"
            path.touch(mode=0o600, exist_ok=True)  # it holds prompts, code and redacted secrets
            # One thread at a time, but not always the same one: the terminal UI opens the store
            # in the background and runs each prompt in a worker thread.
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self._migrate()
        except (OSError, sqlite3.Error) as exc:
            raise SessionError(f"cannot open the session store in {home}: {exc}") from None

    def _migrate(self) -> None:
        self.db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at REAL)")
        done = {row[0] for row in self.db.execute("SELECT name FROM _migrations")}
        for name, sql in MIGRATIONS:
            if name not in done:
                with self.db:
                    self.db.execute("BEGIN")
                    for statement in filter(str.strip, sql.split(";")):
                        self.db.execute(statement)
                    self.db.execute("INSERT INTO _migrations VALUES (?, ?)", (name, time.time()))

    def create(self, cwd: str, model: str, endpoint: str) -> Session:
        session_id = str(uuid.uuid4())
        now = time.time()
        self.db.execute("INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)", (session_id, cwd, model, endpoint, now, now))
        return Session(self, SessionInfo(session_id, cwd, model, endpoint), [])

    def open(self, session_id: str) -> Session:
        row = self.db.execute("SELECT id, cwd, model, endpoint FROM sessions WHERE id = ?", (session_id,)).fetchone()
        if row is None:
            raise SessionError(f"no session {session_id!r} (see the sessions in {self._where()})")
        rows = self.db.execute("SELECT seq, body FROM messages WHERE session_id = ? ORDER BY seq", (session_id,))
        stored = [(seq, Message.from_json(body)) for seq, body in rows]
        session = Session(self, SessionInfo(*row), [m for _, m in stored], [seq for seq, _ in stored])
        compaction = self.db.execute("SELECT kept_from, summary FROM compactions WHERE session_id = ? "
                                     "ORDER BY at_seq DESC LIMIT 1", (session_id,)).fetchone()
        if compaction is not None:
            session.apply_compaction(compaction[0], Message.from_json(compaction[1]))
        session.close_dangling_calls()
        return session

    def save_compaction(self, session_id: str, at_seq: int, kept_from: int, summary: Message) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT INTO compactions VALUES (?, ?, ?, ?, ?)",
                            (session_id, at_seq, kept_from, summary.to_json(), time.time()))

    def latest(self, cwd: str) -> str:
        row = self.db.execute(
            "SELECT id FROM sessions WHERE cwd = ? ORDER BY updated_at DESC LIMIT 1", (cwd,)
        ).fetchone()
        if row is None:
            raise SessionError(f"no earlier session in {cwd} to continue")
        return row[0]

    def sessions(self, cwd: str, limit: int = 20) -> list[SessionSummary]:
        """The sessions in `cwd`, the latest first."""
        rows = self.db.execute(
            "SELECT s.id, s.updated_at, (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id), "
            "(SELECT body FROM messages m WHERE m.session_id = s.id AND json_extract(m.body, '$.role') = 'user' "
            "ORDER BY seq LIMIT 1) FROM sessions s WHERE s.cwd = ? ORDER BY s.updated_at DESC LIMIT ?",
            (cwd, limit))
        return [SessionSummary(i, at, count, Message.from_json(body).content if body else "")
                for i, at, count, body in rows]

    def append(self, session_id: str, seq: int, message: Message) -> None:
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("INSERT INTO messages VALUES (?, ?, ?, ?)", (session_id, seq, message.to_json(), now))
            self.db.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))

    def save_redactions(self, session_id: str, pairs: list[tuple[str, str]]) -> None:
        """Placeholders and the secrets they stand for: kept on this machine so a resumed
        session can still put the real values back into tool calls."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR IGNORE INTO redactions VALUES (?, ?, ?)",
                                [(session_id, p, v) for p, v in pairs])

    def redactions(self, session_id: str) -> list[tuple[str, str]]:
        rows = self.db.execute("SELECT placeholder, value FROM redactions WHERE session_id = ?", (session_id,))
        return [(p, v) for p, v in rows]

    def _where(self) -> str:
        return self.db.execute("PRAGMA database_list").fetchone()[2]


class Session:
    """One conversation: its messages in order, each persisted as it is added."""

    def __init__(self, store: SessionStore, info: SessionInfo, messages: list[Message],
                 seqs: list[int] | None = None) -> None:
        self.store = store
        self.info = info
        self.messages = messages
        # Each message's row in the store (-1: a compaction's summary, which has none).
        self.seqs = seqs if seqs is not None else list(range(len(messages)))
        self.next_seq = max(self.seqs, default=-1) + 1

    @property
    def id(self) -> str:
        return self.info.id

    def add(self, message: Message) -> None:
        self.store.append(self.id, self.next_seq, message)
        self.messages.append(message)
        self.seqs.append(self.next_seq)
        self.next_seq += 1

    def compact(self, keep_from: int, summary: Message) -> None:
        """Replace the messages between the system prompt and index `keep_from` by `summary`,
        for good: the store records it, and a resumed session comes back compacted."""
        kept_from = self.seqs[keep_from] if keep_from < len(self.messages) else self.next_seq
        self.store.save_compaction(self.id, self.next_seq, kept_from, summary)
        self.apply_compaction(kept_from, summary)

    def apply_compaction(self, kept_from: int, summary: Message) -> None:
        kept = [(seq, m) for seq, m in zip(self.seqs, self.messages) if seq >= kept_from]
        self.messages = [self.messages[0], summary] + [m for _, m in kept]
        self.seqs = [self.seqs[0], -1] + [seq for seq, _ in kept]

    def close_dangling_calls(self) -> None:
        """Answer tool calls left without a result by a crash, so the conversation is valid again."""
        answered = {m.tool_call_id for m in self.messages if m.role == "tool"}
        last_calls = next((m.tool_calls for m in reversed(self.messages) if m.role == "assistant"), ())
        for call in last_calls:
            if call.id not in answered:
                self.add(Message("tool", INTERRUPTED, tool_call_id=call.id, is_error=True))
