"""The change journal (/diff, /undo) on a real session store and real files, and the preview
of an edit that the approval prompt shows."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from freehold.agent.changes import ChangeJournal
from freehold.agent.session import SessionStore
from freehold.tools.base import Workspace
from freehold.tools.files import EDIT, READ, WRITE
from freehold.tools.preview import preview


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def journal(tmp_path: Path) -> tuple[ChangeJournal, str, Path]:
    root = tmp_path / "ws"
    root.mkdir()
    store = SessionStore(tmp_path / "home")
    return ChangeJournal(store), store.create(str(root), "m", "e").id, root


def change(journal: ChangeJournal, session: str, path: Path, after: bytes | None, call: str = "c") -> None:
    before = path.read_bytes() if path.exists() else None
    if after is None:
        path.unlink()
    else:
        path.write_bytes(after)
    journal.record(session, call, path, before, sha(after) if after is not None else None)


def test_the_diff_runs_from_before_the_first_change_to_now(journal):
    j, session, root = journal
    calc = root / "calc.py"
    calc.write_bytes(b"a = 1\nb = 2\n")
    change(j, session, calc, b"a = 1\nb = 3\n")
    change(j, session, calc, b"a = 0\nb = 3\n")
    change(j, session, root / "new.py", b"fresh\n")
    diff = j.session_diff(session, root)
    assert "--- a/calc.py" in diff and "-a = 1" in diff and "-b = 2" in diff and "+a = 0" in diff
    assert "--- /dev/null\n+++ b/new.py" in diff
    assert j.session_diff("another-session", root) == ""


def test_undo_goes_newest_first_and_deletes_what_the_agent_created(journal):
    j, session, root = journal
    calc = root / "calc.py"
    calc.write_bytes(b"one\n")
    os.chmod(calc, 0o640)
    change(j, session, calc, b"two\n")
    change(j, session, root / "made.py", b"new\n")
    first = j.undo_last(session, root)
    assert first.ok and first.path == "made.py" and not (root / "made.py").exists()
    second = j.undo_last(session, root)
    assert second.ok and calc.read_bytes() == b"one\n" and calc.stat().st_mode & 0o777 == 0o640
    assert second.sha256_before == sha(b"two\n") and second.sha256_after == sha(b"one\n")
    assert not j.undo_last(session, root).ok
    assert j.session_diff(session, root) == ""


def test_undo_refuses_when_the_file_changed_since(journal):
    j, session, root = journal
    calc = root / "calc.py"
    calc.write_bytes(b"one\n")
    change(j, session, calc, b"two\n")
    calc.write_bytes(b"the person's own edit\n")
    result = j.undo_last(session, root)
    assert not result.ok and "changed after the agent's edit" in result.message
    assert calc.read_bytes() == b"the person's own edit\n"


def test_the_journal_survives_reopening_the_store(tmp_path: Path):
    root = tmp_path / "ws"
    root.mkdir()
    store = SessionStore(tmp_path / "home")
    session = store.create(str(root), "m", "e").id
    (root / "a.py").write_bytes(b"x\n")
    change(ChangeJournal(store), session, root / "a.py", b"y\n")
    store.db.close()
    again = ChangeJournal(SessionStore(tmp_path / "home"))
    assert again.undo_last(session, root).ok and (root / "a.py").read_bytes() == b"x\n"


def test_a_preview_shows_the_change_and_writes_nothing(tmp_path: Path):
    (tmp_path / "calc.py").write_text("def add(a, b):\n    return a - b\n")
    ws = Workspace.at(tmp_path)
    diff = preview(ws, EDIT, {"file_path": "calc.py", "old_string": "a - b", "new_string": "a + b"})
    assert diff is not None and "-    return a - b" in diff and "+    return a + b" in diff
    assert (tmp_path / "calc.py").read_text() == "def add(a, b):\n    return a - b\n"
    assert preview(ws, EDIT, {"file_path": "calc.py", "old_string": "nowhere", "new_string": "x"}) is None
    created = preview(ws, WRITE, {"file_path": "pkg/new.py", "content": "x = 1\n"})
    assert created == "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+x = 1"
    assert not (tmp_path / "pkg").exists()
    assert preview(ws, WRITE, {"file_path": "../outside.py", "content": "x"}) is None
    assert preview(ws, READ, {"file_path": "calc.py"}) is None
