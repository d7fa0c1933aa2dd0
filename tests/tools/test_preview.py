"""The diff the approval prompt shows for an Edit or Write, computed on real files without writing."""

from __future__ import annotations

from pathlib import Path

import pytest

from freehold.tools.base import Workspace
from freehold.tools.files import EDIT, READ, WRITE
from freehold.tools.preview import MAX_BYTES, preview, unified_diff

CALC = b"def add(a, b):\n    return a - b\n"


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "calc.py").write_bytes(CALC)
    return Workspace.at(root)


def test_an_edit_shows_the_lines_it_replaces_and_writes_nothing(ws: Workspace):
    diff = preview(ws, EDIT, {"file_path": "calc.py", "old_string": "a - b", "new_string": "a + b"})
    assert diff == ("--- a/calc.py\n+++ b/calc.py\n@@ -1,2 +1,2 @@\n def add(a, b):\n"
                    "-    return a - b\n+    return a + b")
    assert (ws.root / "calc.py").read_bytes() == CALC


def test_an_edit_uses_the_tools_matcher(ws: Workspace):
    # Trailing spaces the file does not have: the Edit tool's fallback rules still place it.
    old, new = "def add(a, b):  \n    return a - b\n", "def add(a, b):\n    return a * b\n"
    diff = preview(ws, EDIT, {"file_path": "calc.py", "old_string": old, "new_string": new})
    assert diff is not None and "-    return a - b\n+    return a * b" in diff


@pytest.mark.parametrize("args", [
    {"file_path": "calc.py", "old_string": "nowhere", "new_string": "x"},
    {"file_path": "calc.py", "old_string": "a", "new_string": "b"},  # ambiguous: several places
    {"file_path": "missing.py", "old_string": "a", "new_string": "b"},
])
def test_an_edit_that_would_fail_has_no_preview(ws: Workspace, args: dict[str, str]):
    assert preview(ws, EDIT, args) is None
    assert (ws.root / "calc.py").read_bytes() == CALC


def test_writing_a_new_file_diffs_from_dev_null_and_creates_nothing(ws: Workspace):
    created = preview(ws, WRITE, {"file_path": "pkg/new.py", "content": "x = 1\n"})
    assert created == "--- /dev/null\n+++ b/pkg/new.py\n@@ -0,0 +1 @@\n+x = 1"
    assert not (ws.root / "pkg").exists()


def test_overwriting_a_file_diffs_from_its_content(ws: Workspace):
    diff = preview(ws, WRITE, {"file_path": "calc.py", "content": "pass\n"})
    assert diff is not None and "-def add(a, b):" in diff and "+pass" in diff
    assert (ws.root / "calc.py").read_bytes() == CALC


def test_what_the_workspace_refuses_has_no_preview(ws: Workspace):
    assert preview(ws, WRITE, {"file_path": "../outside.py", "content": "x"}) is None
    assert preview(ws, WRITE, {"file_path": ".git/hooks/pre-commit", "content": "x"}) is None
    assert not (ws.root.parent / "outside.py").exists()


def test_binary_and_huge_files_have_no_preview(ws: Workspace):
    (ws.root / "blob.bin").write_bytes(b"a\0b\n")
    assert preview(ws, WRITE, {"file_path": "blob.bin", "content": "text\n"}) is None
    (ws.root / "big.txt").write_bytes(b"line\n" * (MAX_BYTES // 5 + 1))
    assert preview(ws, EDIT, {"file_path": "big.txt", "old_string": "line\n", "new_string": "x\n",
                              "replace_all": True}) is None
    assert preview(ws, WRITE, {"file_path": "new.txt", "content": "y" * (MAX_BYTES + 1)}) is None


def test_other_tools_have_no_preview(ws: Workspace):
    assert preview(ws, READ, {"file_path": "calc.py"}) is None


def test_a_long_diff_is_cut_with_a_note():
    diff = unified_diff("f.txt", None, "".join(f"{i}\n" for i in range(1000)), max_lines=10)
    lines = diff.split("\n")
    assert len(lines) == 11 and lines[-1] == "… 993 more diff lines"


def test_a_missing_final_newline_is_shown():
    assert unified_diff("f", "a", "a\n") == "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n\\ No newline at end of file\n+a"
    assert unified_diff("f", None, "") == "--- /dev/null\n+++ b/f"
