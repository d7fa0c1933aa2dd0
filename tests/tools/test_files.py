"""Read, Write and Edit on real files in a temporary workspace."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from freehold.tools.base import ToolError, Workspace
from freehold.tools.files import EDIT, READ, WRITE


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    return Workspace.at(root)


def put(ws: Workspace, name: str, data: str | bytes) -> Path:
    path = ws.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return path


def error(tool_run, ws: Workspace, **args: object) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ToolError) as caught:
        tool_run(ws, args)
    return str(caught.value)


# ---------------------------------------------------------------------------- the tool definitions


def test_tools_are_named_as_models_expect_and_described_briefly() -> None:
    assert [t.name for t in (READ, WRITE, EDIT)] == ["Read", "Write", "Edit"]
    for tool in (READ, WRITE, EDIT):
        assert len(tool.description) < 400
        assert tool.parameters["additionalProperties"] is False
        assert "file_path" in tool.parameters["required"]
    assert READ.read_only and not READ.edits_files
    assert WRITE.edits_files and EDIT.edits_files


# ---------------------------------------------------------------------------- Read


def test_read_numbers_lines_like_cat_n(ws: Workspace) -> None:
    put(ws, "a.txt", "one\ntwo\r\n\tthree")
    assert READ.run(ws, {"file_path": "a.txt"}) == "     1\tone\n     2\ttwo\n     3\t\tthree"


def test_read_takes_absolute_paths(ws: Workspace) -> None:
    path = put(ws, "d/a.txt", "x\n")
    assert READ.run(ws, {"file_path": str(path)}) == "     1\tx"


def test_read_outside_the_workspace_is_the_permission_layers_call(ws: Workspace) -> None:
    # Library source is visible to commands too, so the file tool may read it (the mode decides).
    source = Path(os.__file__)
    assert READ.run(ws, {"file_path": str(source), "limit": 1}).startswith("     1\t")


def test_read_outside_the_workspace_stops_where_commands_see_nothing(ws: Workspace, tmp_path: Path) -> None:
    # The workspace is under /tmp; the rest of the host's /tmp is private to it, for commands and tools.
    (tmp_path / "outside.txt").write_text("secret\n")
    with pytest.raises(ToolError, match="outside.txt is inside /tmp, which Freehold hides"):
        READ.run(ws, {"file_path": "../outside.txt"})


def test_read_offset_and_limit(ws: Workspace) -> None:
    put(ws, "n.txt", "".join(f"line {i}\n" for i in range(1, 11)))
    out = READ.run(ws, {"file_path": "n.txt", "offset": 4, "limit": 2})
    assert out == "     4\tline 4\n     5\tline 5\n[showing lines 4-5 of 10; call Read with offset=6 to continue]"
    assert READ.run(ws, {"file_path": "n.txt", "offset": 9}) == "     9\tline 9\n    10\tline 10"


def test_read_shows_2000_lines_and_says_how_to_go_on(ws: Workspace) -> None:
    put(ws, "big.txt", "".join(f"{i}\n" for i in range(1, 5301)))
    out = READ.run(ws, {"file_path": "big.txt", "limit": 99999}).split("\n")
    assert len(out) == 2001
    assert out[-2] == "  2000\t2000"
    assert out[-1] == "[showing lines 1-2000 of 5300; call Read with offset=2001 to continue]"


def test_read_counts_a_last_line_without_a_line_break(ws: Workspace) -> None:
    put(ws, "n.txt", "a\nb\nc")
    out = READ.run(ws, {"file_path": "n.txt", "limit": 1})
    assert out.endswith("[showing lines 1-1 of 3; call Read with offset=2 to continue]")


def test_read_offset_past_the_end(ws: Workspace) -> None:
    put(ws, "n.txt", "a\nb\n")
    assert "offset 5 is past the end of n.txt, which has 2 lines" in error(READ.run, ws, file_path="n.txt", offset=5)


def test_read_empty_file(ws: Workspace) -> None:
    put(ws, "e.txt", "")
    assert READ.run(ws, {"file_path": "e.txt"}) == "e.txt is empty"


def test_read_cuts_long_lines(ws: Workspace) -> None:
    put(ws, "long.txt", "x" * 2500 + "\n" + "é" * 50_000 + "\nend\n")
    lines = READ.run(ws, {"file_path": "long.txt"}).split("\n")
    assert lines[0] == "     1\t" + "x" * 2000 + "… [line truncated, 500 more chars]"
    assert lines[1] == "     2\t" + "é" * 2000 + "… [line truncated, 48000 more chars]"
    assert lines[2] == "     3\tend"


def test_read_refuses_binary_files(ws: Workspace) -> None:
    put(ws, "img.bin", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "binary" in error(READ.run, ws, file_path="img.bin")


def test_read_replaces_bytes_that_are_not_utf8(ws: Workspace) -> None:
    put(ws, "latin.txt", b"caf\xe9\n")
    assert READ.run(ws, {"file_path": "latin.txt"}) == "     1\tcaf\ufffd"


def test_read_a_directory_suggests_glob(ws: Workspace) -> None:
    (ws.root / "src").mkdir()
    assert "Glob" in error(READ.run, ws, file_path="src")


def test_read_missing_file_suggests_files_with_that_name(ws: Workspace) -> None:
    put(ws, "src/cli.py", "")
    put(ws, "Cli.PY", "")
    message = error(READ.run, ws, file_path="cli.py")
    assert message.startswith("file not found: cli.py")
    assert "did you mean Cli.PY, src/cli.py?" in message


def test_read_missing_file_without_look_alikes(ws: Workspace) -> None:
    assert error(READ.run, ws, file_path="nope/none.py") == "file not found: nope/none.py"


# ---------------------------------------------------------------------------- Write


def test_write_creates_parents_and_says_so(ws: Workspace) -> None:
    assert WRITE.run(ws, {"file_path": "src/pkg/x.py", "content": "a\nb\n"}) == "Created src/pkg/x.py (2 lines)"
    assert (ws.root / "src/pkg/x.py").read_text() == "a\nb\n"
    assert WRITE.run(ws, {"file_path": "src/pkg/x.py", "content": "c"}) == "Wrote 1 line to src/pkg/x.py"
    assert (ws.root / "src/pkg/x.py").read_text() == "c"


def test_write_keeps_permission_bits_and_leaves_no_temp_file(ws: Workspace) -> None:
    path = put(ws, "run.sh", "echo hi\n")
    path.chmod(0o751)
    WRITE.run(ws, {"file_path": "run.sh", "content": "echo bye\n"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o751
    assert path.read_text() == "echo bye\n"
    assert sorted(p.name for p in ws.root.iterdir()) == ["run.sh"]


def test_write_gives_new_files_the_usual_mode(ws: Workspace) -> None:
    umask = os.umask(0o022)
    try:
        WRITE.run(ws, {"file_path": "new.txt", "content": "x"})
    finally:
        os.umask(umask)
    assert stat.S_IMODE((ws.root / "new.txt").stat().st_mode) == 0o644


def test_write_writes_through_a_symlink_inside_the_workspace(ws: Workspace) -> None:
    target = put(ws, "real.txt", "old")
    (ws.root / "link.txt").symlink_to(target)
    WRITE.run(ws, {"file_path": "link.txt", "content": "new"})
    assert target.read_text() == "new"
    assert (ws.root / "link.txt").is_symlink()


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlinked file", "symlinked dir"])
def test_write_outside_the_workspace_is_refused(ws: Workspace, tmp_path: Path, how: str) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "v.txt"
    victim.write_text("keep")
    (ws.root / "lf").symlink_to(victim)
    (ws.root / "ld").symlink_to(outside)
    ways = {"absolute": str(victim), "dotdot": "../outside/v.txt", "symlinked file": "lf", "symlinked dir": "ld/v.txt"}
    path = ways[how]
    assert "outside the workspace" in error(WRITE.run, ws, file_path=path, content="gone")
    assert "outside the workspace" in error(EDIT.run, ws, file_path=path, old_string="keep", new_string="gone")
    assert victim.read_text() == "keep"


def test_write_to_a_directory_is_refused(ws: Workspace) -> None:
    (ws.root / "d").mkdir()
    assert "directory" in error(WRITE.run, ws, file_path="d", content="x")


# ---------------------------------------------------------------------------- Edit


def test_edit_replaces_and_shows_a_numbered_snippet(ws: Workspace) -> None:
    path = put(ws, "m.py", "".join(f"line{i}\n" for i in range(1, 11)))
    out = EDIT.run(ws, {"file_path": "m.py", "old_string": "line5\n", "new_string": "five\nFIVE\n"})
    assert path.read_text().split("\n")[3:7] == ["line4", "five", "FIVE", "line6"]
    assert out == (
        "Edited m.py at lines 5-6:\n"
        "     2\tline2\n     3\tline3\n     4\tline4\n     5\tfive\n     6\tFIVE\n"
        "     7\tline6\n     8\tline7\n     9\tline8"
    )


def test_edit_refuses_an_ambiguous_match_and_replace_all_fixes_it(ws: Workspace) -> None:
    path = put(ws, "m.py", "x = 1\ny = 2\nx = 1\n")
    message = error(EDIT.run, ws, file_path="m.py", old_string="x = 1", new_string="x = 3")
    assert message.startswith("m.py: old_string occurs 2 times (lines 1, 3)")
    assert path.read_text() == "x = 1\ny = 2\nx = 1\n"
    out = EDIT.run(ws, {"file_path": "m.py", "old_string": "x = 1", "new_string": "x = 3", "replace_all": True})
    assert out.startswith("Edited m.py: replaced 2 occurrences, at lines 1, 3:")
    assert path.read_text() == "x = 3\ny = 2\nx = 3\n"


def test_edit_keeps_crlf_line_endings(ws: Workspace) -> None:
    path = put(ws, "w.txt", "a\r\nb\r\nc\r\n")
    out = EDIT.run(ws, {"file_path": "w.txt", "old_string": "a\nb\n", "new_string": "a\nB\nb2\n"})
    assert path.read_bytes() == b"a\r\nB\r\nb2\r\nc\r\n"
    assert "(matched after converting line endings)" in out
    assert "\r" not in out


def test_edit_keeps_a_missing_final_line_break(ws: Workspace) -> None:
    path = put(ws, "n.txt", "a\nb")
    EDIT.run(ws, {"file_path": "n.txt", "old_string": "b", "new_string": "c"})
    assert path.read_bytes() == b"a\nc"


def test_edit_says_which_fallback_matched(ws: Workspace) -> None:
    path = put(ws, "f.py", "def f():\n    if x:\n        return 1\n")
    out = EDIT.run(ws, {"file_path": "f.py", "old_string": "if x:\n    return 1", "new_string": "if y:\n    return 2"})
    assert "(matched ignoring indentation)" in out
    assert path.read_text() == "def f():\n    if y:\n        return 2\n"


def test_edit_not_found_shows_the_closest_region(ws: Workspace) -> None:
    put(ws, "f.py", "def f():\n    if x:\n        return 1\n")
    message = error(EDIT.run, ws, file_path="f.py", old_string="if x:\n    return 10", new_string="z")
    assert message.startswith("f.py: old_string was not found")
    assert "     2\t    if x:\n     3\t        return 1" in message


def test_edit_identical_strings_refused(ws: Workspace) -> None:
    put(ws, "f.txt", "a")
    assert "identical" in error(EDIT.run, ws, file_path="f.txt", old_string="a", new_string="a")


def test_edit_with_empty_old_string_creates_a_file(ws: Workspace) -> None:
    out = EDIT.run(ws, {"file_path": "new/f.txt", "old_string": "", "new_string": "hello\n"})
    assert out == "Created new/f.txt (1 line)"
    assert (ws.root / "new/f.txt").read_text() == "hello\n"


def test_edit_with_empty_old_string_fills_an_empty_file(ws: Workspace) -> None:
    path = put(ws, "e.txt", "")
    EDIT.run(ws, {"file_path": "e.txt", "old_string": "", "new_string": "x\n"})
    assert path.read_text() == "x\n"


def test_edit_with_empty_old_string_on_a_file_with_text_is_refused(ws: Workspace) -> None:
    path = put(ws, "f.txt", "keep\n")
    assert "already has content" in error(EDIT.run, ws, file_path="f.txt", old_string="", new_string="x")
    assert path.read_text() == "keep\n"


def test_edit_missing_file(ws: Workspace) -> None:
    assert error(EDIT.run, ws, file_path="no.txt", old_string="a", new_string="b").startswith("file not found: no.txt")


def test_edit_refuses_binary_files(ws: Workspace) -> None:
    put(ws, "b.bin", b"ab\x00cd")
    assert "binary" in error(EDIT.run, ws, file_path="b.bin", old_string="ab", new_string="xy")


def test_edit_keeps_mode_bits(ws: Workspace) -> None:
    path = put(ws, "run.sh", "echo hi\n")
    path.chmod(0o700)
    EDIT.run(ws, {"file_path": "run.sh", "old_string": "hi", "new_string": "bye"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_edit_leaves_bytes_that_are_not_utf8_alone(ws: Workspace) -> None:
    path = put(ws, "l.txt", b"caf\xe9\nname = 1\n")
    EDIT.run(ws, {"file_path": "l.txt", "old_string": "name = 1", "new_string": "name = 2"})
    assert path.read_bytes() == b"caf\xe9\nname = 2\n"


def test_edit_snippet_of_a_long_replacement_is_cut(ws: Workspace) -> None:
    put(ws, "f.txt", "start\nend\n")
    out = EDIT.run(ws, {"file_path": "f.txt", "old_string": "start\n", "new_string": "x\n" * 100})
    assert out.split("\n")[-1] == "     …"
    assert len(out.split("\n")) == 32
