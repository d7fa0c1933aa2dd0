"""The on-disk index: what it holds, and that it follows the files incrementally and exactly."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import write

from freehold.index.store import SCHEMA_VERSION, Index, IndexUnavailable, index_path
from freehold.tools.base import Workspace


def age(path: Path, seconds: float = 60) -> None:
    """Set a file's mtime in the past, as a file not written during the scan would be."""
    stamp = path.stat().st_mtime - seconds
    os.utime(path, (stamp, stamp))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    write(root, "pkg/__init__.py", "from pkg.shapes import Circle\n")
    write(root, "pkg/shapes.py", "import math\n\n\nclass Circle:\n    def area(self):\n        return math.pi * self.r ** 2\n")
    write(root, "pkg/render.py", "from pkg.shapes import Circle\n\n\ndef draw_circle(c: Circle):\n    return c.area()\n")
    write(root, "README.md", "Shapes and how to draw them.\n")
    write(root, "logo.png", b"\x89PNG\r\n\x1a\n\0\0\0binary")
    for path in root.rglob("*"):
        if path.is_file():
            age(path)
    return root


def paths(index: Index) -> set[str]:
    return set(index.files().values())


def test_a_first_update_indexes_text_files_with_their_symbols_and_skips_binaries(project: Path, tmp_path: Path) -> None:
    with Index.open(project, tmp_path / "home") as index:
        stats = index.update()
        assert paths(index) == {"pkg/__init__.py", "pkg/shapes.py", "pkg/render.py", "README.md"}
        assert stats.indexed == 4 and stats.files == 4
        defined = set(index.db.execute("SELECT name, kind, parent FROM definitions"))
        assert {("Circle", "class", ""), ("area", "method", "Circle"), ("draw_circle", "function", "")} <= defined
        refs = dict(index.db.execute(
            "SELECT r.name, r.count FROM refs r JOIN files f ON f.id = r.file_id WHERE f.path = 'pkg/render.py'"))
        assert refs.get("Circle") and refs.get("area")
        imports = {raw for (raw,) in index.db.execute("SELECT raw FROM imports")}
        assert {"pkg.shapes", "pkg.shapes.Circle", "math"} <= imports
        # Identifiers are searchable whole and by their parts.
        hits = index.db.execute("SELECT rowid FROM fts WHERE fts MATCH 'draw AND circle'").fetchall()
        assert [index.files()[rowid] for (rowid,) in hits] == ["pkg/render.py"]


def test_an_unchanged_tree_is_not_read_again_and_one_changed_file_is_reindexed_alone(project: Path, tmp_path: Path) -> None:
    with Index.open(project, tmp_path / "home") as index:
        index.update()
        assert index.update().indexed == 0
        write(project, "pkg/render.py", "def draw_square(s):\n    return s\n")
        stats = index.update()
        assert stats.indexed == 1 and stats.files == 4
        names = {name for (name,) in index.db.execute("SELECT name FROM definitions")}
        assert "draw_square" in names and "draw_circle" not in names


def test_a_touched_file_with_the_same_content_is_hashed_not_parsed(project: Path, tmp_path: Path) -> None:
    with Index.open(project, tmp_path / "home") as index:
        index.update()
        os.utime(project / "pkg/shapes.py")
        assert index.update().indexed == 0


def test_a_file_written_during_the_scan_is_checked_again_next_time(project: Path, tmp_path: Path) -> None:
    """git's racy rule: a same-size rewrite in the same clock tick leaves size and mtime unchanged."""
    target = write(project, "pkg/shapes.py", "class Circle:\n    pass\n")
    with Index.open(project, tmp_path / "home") as index:
        index.update()
        stamp = target.stat().st_mtime_ns
        target.write_text("class Square:\n    pass\n")  # same size
        os.utime(target, ns=(stamp, stamp))  # and the same mtime, as a fast second write leaves it
        assert index.update().indexed == 1
        assert ("Square",) in index.db.execute("SELECT name FROM definitions").fetchall()


def test_deleted_files_leave_the_index(project: Path, tmp_path: Path) -> None:
    with Index.open(project, tmp_path / "home") as index:
        index.update()
        (project / "pkg/render.py").unlink()
        stats = index.update()
        assert stats.removed == 1 and "pkg/render.py" not in paths(index)
        assert index.db.execute("SELECT count(*) FROM fts").fetchone()[0] == 3
        assert not index.db.execute("SELECT 1 FROM definitions WHERE name = 'draw_circle'").fetchall()


def test_the_index_persists_per_repository_under_the_home(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Index.open(project, home) as index:
        index.update()
    assert index_path(home, project).is_file()
    assert oct(index_path(home, project).stat().st_mode & 0o777) == "0o600"
    with Index.open(project, home) as index:
        assert index.update().indexed == 0


def test_an_index_of_another_schema_version_is_rebuilt(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Index.open(project, home) as index:
        index.update()
        index.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 100}")
    with Index.open(project, home) as index:
        assert index.file_count() == 0
        assert index.update().indexed == 4


def test_an_index_home_that_cannot_be_written_is_one_clear_error(project: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    with pytest.raises(IndexUnavailable, match="cannot open the code index"):
        Index.open(project, blocker)


def test_a_corrupt_index_file_is_one_clear_error(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    path = index_path(home, project)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(IndexUnavailable):
        Index.open(project, home)


def test_through_a_workspace_the_index_holds_only_what_the_model_may_read(project: Path, tmp_path: Path) -> None:
    from freehold.index.live import update_index

    subprocess.run(["git", "init", "-q", str(project)], check=True)
    write(project, ".gitignore", "build/\n")
    write(project, "build/generated.py", "def generated():\n    pass\n")
    write(project, ".env", "API_TOKEN=hunter2-not-for-models\n")
    write(project, "deploy/server.pem", "-----BEGIN PRIVATE KEY-----\n")
    workspace = Workspace.at(project, home=tmp_path / "userhome")
    with update_index(workspace, tmp_path / "home") as index:
        assert paths(index) == {"pkg/__init__.py", "pkg/shapes.py", "pkg/render.py", "README.md"}
        assert not index.db.execute("SELECT 1 FROM fts WHERE fts MATCH 'hunter2'").fetchall()


def test_two_connections_can_read_while_one_writes(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Index.open(project, home) as writer, Index.open(project, home) as reader:
        writer.update()
        assert reader.file_count() == 4
