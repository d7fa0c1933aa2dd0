"""The change journal (/diff, /undo) on a real session store and real files."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from freehold.agent import session as session_module
from freehold.agent.changes import ChangeJournal
from freehold.agent.session import SessionStore


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def journal(tmp_path: Path) -> tuple[ChangeJournal, str, Path]:
    root = tmp_path / "ws"
    root.mkdir()
    store = SessionStore(tmp_path / "home")
    return ChangeJournal(store), store.create(str(root), "m", "e").id, root


def change(journal: ChangeJournal, session: str, path: Path, after: bytes | None, call: str = "c") -> None:
    """What a tool run and the runtime do: change the file, then record it."""
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
    calc_diff, new_diff = j.session_diff(session, root)
    assert calc_diff.count("--- a/calc.py") == 1 and "-a = 1" in calc_diff and "-b = 2" in calc_diff
    assert "+a = 0" in calc_diff
    assert new_diff.startswith("--- /dev/null\n+++ b/new.py")
    assert j.session_diff("another-session", root) == []


def test_the_diff_shows_later_edits_by_others_and_deleted_files(journal):
    j, session, root = journal
    (root / "a.py").write_bytes(b"one\n")
    (root / "b.py").write_bytes(b"keep\n")
    change(j, session, root / "a.py", b"two\n")
    change(j, session, root / "b.py", b"kept\n")
    (root / "a.py").write_bytes(b"three\n")  # a shell command, say
    (root / "b.py").unlink()
    a_diff, b_diff = j.session_diff(session, root)
    assert "-one\n+three" in a_diff
    assert b_diff.startswith("--- a/b.py\n+++ /dev/null") and "-keep" in b_diff


def test_a_binary_file_is_named_not_diffed(journal):
    j, session, root = journal
    blob = root / "blob.bin"
    blob.write_bytes(b"\0\1\2")
    change(j, session, blob, b"\0\1\3")
    assert j.session_diff(session, root) == [
        "--- a/blob.bin\n+++ b/blob.bin\nbinary or large file changed (3 bytes -> 3 bytes); no diff shown"]


def test_changes_lists_each_one_in_order(journal):
    j, session, root = journal
    change(j, session, root / "a.py", b"1\n", call="call-1")
    change(j, session, root / "a.py", b"2\n", call="call-2")
    j.undo_last(session, root)
    assert [(c.seq, c.tool_call_id, c.path, c.undone) for c in j.changes(session)] == [
        (0, "call-1", root / "a.py", False), (1, "call-2", root / "a.py", True)]


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
    assert j.session_diff(session, root) == []
    assert [p.name for p in root.iterdir()] == ["calc.py"]  # no temp file left behind


def test_undoing_one_of_two_changes_leaves_the_first_in_the_diff(journal):
    j, session, root = journal
    calc = root / "calc.py"
    calc.write_bytes(b"one\n")
    change(j, session, calc, b"two\n")
    change(j, session, calc, b"three\n")
    assert j.undo_last(session, root).ok and calc.read_bytes() == b"two\n"
    assert "-one\n+two" in j.session_diff(session, root)[0]


def test_nothing_to_undo(journal):
    j, session, root = journal
    result = j.undo_last(session, root)
    assert not result.ok and result.message.startswith("nothing to undo")


def test_undo_refuses_when_the_file_changed_since(journal):
    j, session, root = journal
    calc = root / "calc.py"
    calc.write_bytes(b"one\n")
    change(j, session, calc, b"two\n")
    calc.write_bytes(b"the person's own edit\n")
    result = j.undo_last(session, root)
    assert not result.ok and result.message == "calc.py was changed since the agent's edit; not undone"
    assert calc.read_bytes() == b"the person's own edit\n"


def test_a_forced_undo_restores_over_a_later_change(journal):
    j, session, root = journal
    calc = root / "calc.py"
    calc.write_bytes(b"one\n")
    change(j, session, calc, b"two\n")
    calc.write_bytes(b"the person's own edit\n")
    assert j.undo_last(session, root, force=True).ok and calc.read_bytes() == b"one\n"


def test_undo_refuses_a_path_outside_the_root(journal, tmp_path: Path):
    j, session, root = journal
    outside = tmp_path / "elsewhere.py"
    outside.write_bytes(b"one\n")
    change(j, session, outside, b"two\n")
    result = j.undo_last(session, root)
    assert not result.ok and "outside the workspace" in result.message and outside.read_bytes() == b"two\n"


def test_undo_refuses_when_a_directory_became_a_symlink_out(journal, tmp_path: Path):
    j, session, root = journal
    (root / "pkg").mkdir()
    change(j, session, root / "pkg" / "mod.py", b"made\n")
    (root / "pkg" / "mod.py").rename(tmp_path / "mod.py")
    (root / "pkg").rmdir()
    (root / "pkg").symlink_to(tmp_path)
    result = j.undo_last(session, root)
    assert not result.ok and "outside the workspace" in result.message and (tmp_path / "mod.py").exists()


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


def test_the_migration_applies_to_a_store_made_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    earlier = [m for m in session_module.MIGRATIONS if m[0] != "003_file_changes"]
    monkeypatch.setattr(session_module, "MIGRATIONS", earlier)
    old = SessionStore(tmp_path)
    session = old.create("/repo", "m", "e").id
    assert not old.db.execute("SELECT name FROM sqlite_master WHERE name = 'file_changes'").fetchall()
    old.db.close()
    monkeypatch.undo()
    journal = ChangeJournal(SessionStore(tmp_path))
    journal.record(session, "c", tmp_path / "a.py", None, sha(b""))
    assert [c.tool_call_id for c in journal.changes(session)] == ["c"]
