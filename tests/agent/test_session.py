"""Sessions in real SQLite: each message committed at once, restored whole, dangling calls closed."""

from __future__ import annotations

import sqlite3

import pytest

from freehold.agent.session import INTERRUPTED, MIGRATIONS, SessionStore
from freehold.errors import SessionError
from freehold.messages import Message, ToolCall


def test_messages_survive_a_new_store(tmp_path):
    store = SessionStore(tmp_path)
    session = store.create("/repo", "m", "http://127.0.0.1:1/v1")
    call = ToolCall("c1", "Read", '{"file_path": "a"}')
    sent = [Message("system", "s"), Message("user", "u"), Message("assistant", "", (call,), reasoning="r"),
            Message("tool", "text", tool_call_id="c1", is_error=True)]
    for m in sent:
        session.add(m)
    again = SessionStore(tmp_path).open(session.id)
    assert again.messages == sent


def test_each_message_is_committed_before_add_returns(tmp_path):
    session = SessionStore(tmp_path).create("/repo", "m", "e")
    session.add(Message("user", "u"))
    # a second, independent connection sees it: nothing waits in an open transaction
    other = sqlite3.connect(tmp_path / "sessions.db")
    assert other.execute("SELECT count(*) FROM messages").fetchone() == (1,)


def test_latest_is_per_directory(tmp_path):
    store = SessionStore(tmp_path)
    a = store.create("/a", "m", "e")
    b = store.create("/b", "m", "e")
    a.add(Message("user", "later"))
    assert store.latest("/a") == a.id and store.latest("/b") == b.id
    with pytest.raises(SessionError, match="no earlier session in /c"):
        store.latest("/c")


def test_unknown_session_is_a_clear_error(tmp_path):
    with pytest.raises(SessionError, match="no session 'nope'"):
        SessionStore(tmp_path).open("nope")


def test_calls_left_unanswered_by_a_crash_are_closed_on_open(tmp_path):
    store = SessionStore(tmp_path)
    session = store.create("/repo", "m", "e")
    calls = (ToolCall("c1", "Bash", "{}"), ToolCall("c2", "Bash", "{}"))
    session.add(Message("assistant", "", calls))
    session.add(Message("tool", "done", tool_call_id="c1"))
    restored = store.open(session.id)
    assert restored.messages[-1] == Message("tool", INTERRUPTED, tool_call_id="c2", is_error=True)
    assert len(store.open(session.id).messages) == 3  # closed once, persisted


def test_migrations_run_once(tmp_path):
    SessionStore(tmp_path)
    SessionStore(tmp_path)
    db = sqlite3.connect(tmp_path / "sessions.db")
    assert db.execute("SELECT count(*) FROM _migrations").fetchone() == (len(MIGRATIONS),)


def test_an_unwritable_home_is_a_session_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SessionError, match="cannot open the session store"):
        SessionStore(blocker / "home")


def test_redactions_are_kept_per_session_and_the_store_is_private(tmp_path):
    store = SessionStore(tmp_path / "home")
    a, b = store.create("/r", "m", "e"), store.create("/r", "m", "e")
    store.save_redactions(a.id, [("[REDACTED:token-1]", "s3cret")])
    store.save_redactions(a.id, [("[REDACTED:token-1]", "s3cret"), ("[REDACTED:token-2]", "other")])
    assert sorted(store.redactions(a.id)) == [("[REDACTED:token-1]", "s3cret"), ("[REDACTED:token-2]", "other")]
    assert store.redactions(b.id) == []
    assert (tmp_path / "home" / "sessions.db").stat().st_mode & 0o077 == 0
