"""Grep (on ripgrep and on the Python stand-in, which must agree) and Glob, over real files and real git."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import write_tree

from freehold.tools import search
from freehold.tools.base import ToolError, Workspace
from freehold.tools.search import GLOB, GREP, MAX_FILES, MAX_LINE_CHARS, MAX_LINES

HAVE_RG = shutil.which("rg") is not None
BACKENDS = [
    pytest.param("rg", marks=pytest.mark.skipif(not HAVE_RG, reason="ripgrep is not installed")),
    "python",
]

SAMPLE: dict[str, str | bytes] = {
    "README.md": "Hello docs\n",
    "src/app.py": "import os\n\ndef main():\n    print('hello world')\n",
    "src/util.py": "def helper():\n    return 'no greeting here'\n",
    "src/sub/deep.py": "hello again\nand hello twice\n",
    "src/web/page.ts": "const hello = 1;\n",
    "a-b/x.py": "hello dash\n",
    "a/x.py": "hello plain\n",
    ".hidden/secret.py": "hello hidden dir\n",
    ".eslintrc": "hello=dotfile\n",
    "data.bin": b"hello\0binary\n",
}


def git(root: Path, *args: str) -> None:
    # The test itself may use subprocess: only Freehold's code must go through the sandbox.
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    write_tree(tmp_path, SAMPLE)
    return Workspace.at(tmp_path)


@pytest.fixture
def repo(tmp_path: Path) -> Workspace:
    write_tree(tmp_path, SAMPLE)
    write_tree(
        tmp_path,
        {
            ".gitignore": "build/\n*.log\nsrc/generated.py\n",
            "build/out.py": "hello build\n",
            "debug.log": "hello log\n",
            "src/generated.py": "hello generated\n",
            "notes.txt": "hello untracked\n",
        },
    )
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "src", "README.md", ".gitignore")
    return Workspace.at(tmp_path)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> search.Backend:
    name: search.Backend = request.param
    return name


def lines(text: str) -> list[str]:
    return text.splitlines()


def test_tool_shapes() -> None:
    for tool in (GREP, GLOB):
        assert tool.read_only
        assert len(tool.description) < 400
        assert tool.parameters["required"] == ["pattern"]
        assert tool.parameters["additionalProperties"] is False


# ---- Grep, on both backends


def test_files_with_matches_is_the_default(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "hello"}, backend=backend)
    # Sorted by path components, as rg --sort path does: "a/x.py" before "a-b/x.py".
    assert lines(out) == ["Found 5 files", "a/x.py", "a-b/x.py", "src/app.py", "src/sub/deep.py", "src/web/page.ts"]


def test_content_mode(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "hel+o", "output_mode": "content", "path": "src"}, backend=backend)
    assert lines(out) == [
        "src/app.py:4:    print('hello world')",
        "src/sub/deep.py:1:hello again",
        "src/sub/deep.py:2:and hello twice",
        "src/web/page.ts:1:const hello = 1;",
    ]


def test_count_mode(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "hello", "output_mode": "count", "path": "src"}, backend=backend)
    assert lines(out) == [
        "src/app.py:1",
        "src/sub/deep.py:2",
        "src/web/page.ts:1",
        "Found 4 matching lines in 3 files",
    ]


def test_ignore_case(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "HELLO DOCS", "-i": True}, backend=backend)
    assert lines(out) == ["Found 1 file", "README.md"]


def test_a_single_file(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "hello", "path": "src/sub/deep.py", "output_mode": "count"}, backend=backend)
    assert lines(out)[0] == "src/sub/deep.py:2"


def test_glob_by_name_matches_at_any_depth(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "hello", "glob": "*.ts"}, backend=backend)
    assert lines(out) == ["Found 1 file", "src/web/page.ts"]


def test_glob_with_slash_is_relative_to_the_workspace_root(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "hello", "glob": "src/*.py"}, backend=backend)
    assert lines(out) == ["Found 1 file", "src/app.py"]
    out = search.grep(ws, {"pattern": "hello", "glob": "src/**/*.{py,ts}", "path": "src"}, backend=backend)
    assert lines(out) == ["Found 3 files", "src/app.py", "src/sub/deep.py", "src/web/page.ts"]


def test_negated_glob(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "hello", "glob": "!*.py"}, backend=backend)
    assert lines(out) == ["Found 1 file", "src/web/page.ts"]


def test_a_glob_naming_hidden_files_finds_them_as_rg_does(ws: Workspace, backend: search.Backend) -> None:
    out = search.grep(ws, {"pattern": "hello", "glob": ".eslintrc"}, backend=backend)
    assert lines(out) == ["Found 1 file", ".eslintrc"]


def test_gitignore_is_respected(repo: Workspace, backend: search.Backend) -> None:
    out = search.grep(repo, {"pattern": "hello"}, backend=backend)
    # Untracked but not ignored files count; ignored files and directories do not.
    assert lines(out) == [
        "Found 6 files",
        "a/x.py",
        "a-b/x.py",
        "notes.txt",
        "src/app.py",
        "src/sub/deep.py",
        "src/web/page.ts",
    ]


def test_a_glob_whitelists_ignored_files_but_not_ignored_directories(repo: Workspace, backend: search.Backend) -> None:
    out = search.grep(repo, {"pattern": "hello", "glob": "*.log"}, backend=backend)
    assert lines(out) == ["Found 1 file", "debug.log"]
    out = search.grep(repo, {"pattern": "hello", "glob": "*.py", "path": "src"}, backend=backend)
    assert "src/generated.py" in lines(out)
    assert "build/out.py" not in search.grep(repo, {"pattern": "hello", "glob": "*.py"}, backend=backend)


def test_no_matches(ws: Workspace, backend: search.Backend) -> None:
    assert search.grep(ws, {"pattern": "absent"}, backend=backend) == "No matches for absent"
    out = search.grep(ws, {"pattern": "absent", "path": "src", "glob": "*.py"}, backend=backend)
    assert out == "No matches for absent in src (glob *.py)"


def test_bad_regex(ws: Workspace, backend: search.Backend) -> None:
    with pytest.raises(ToolError, match=r"unclosed|unterminated"):
        search.grep(ws, {"pattern": "(hello"}, backend=backend)


def test_bad_arguments(ws: Workspace, backend: search.Backend) -> None:
    with pytest.raises(ToolError, match="does not exist"):
        search.grep(ws, {"pattern": "x", "path": "nowhere"}, backend=backend)
    with pytest.raises(ToolError, match="output_mode"):
        search.grep(ws, {"pattern": "x", "output_mode": "lines"}, backend=backend)
    with pytest.raises(ToolError, match="pattern is required"):
        search.grep(ws, {"pattern": ""}, backend=backend)


def test_file_list_is_capped(tmp_path: Path, backend: search.Backend) -> None:
    write_tree(tmp_path, {f"f{i:03}.txt": "needle\n" for i in range(MAX_FILES + 50)})
    out = lines(search.grep(Workspace.at(tmp_path), {"pattern": "needle"}, backend=backend))
    assert out[0] == f"Found {MAX_FILES + 50} files"
    assert out[1] == "f000.txt"
    assert len(out) == MAX_FILES + 2
    assert out[-1].startswith("[50 more files not shown")


def test_content_is_capped_and_long_lines_cut(tmp_path: Path, backend: search.Backend) -> None:
    write_tree(tmp_path, {"a.txt": "needle\n" * (MAX_LINES + 10), "b.txt": "needle " + "x" * 5000 + "\n"})
    ws = Workspace.at(tmp_path)
    out = lines(search.grep(ws, {"pattern": "needle", "output_mode": "content"}, backend=backend))
    assert len(out) == MAX_LINES + 1
    assert out[-1] == "[11 more matching lines not shown; narrow the pattern, path or glob]"
    long = lines(search.grep(ws, {"pattern": "needle", "path": "b.txt", "output_mode": "content"}, backend=backend))
    assert long == ["b.txt:1:needle " + "x" * (MAX_LINE_CHARS - 7) + " [... line cut]"]


@pytest.mark.skipif(not HAVE_RG, reason="ripgrep is not installed")
@pytest.mark.parametrize(
    "args",
    [
        {"pattern": "hello|return"},
        {"pattern": "o", "output_mode": "content"},
        {"pattern": "^\\s+\\w+", "output_mode": "count"},
        {"pattern": "hello", "glob": "**/sub/*"},
        {"pattern": "hello", "glob": "*.{md,py}", "output_mode": "content", "-i": True},
        {"pattern": "hello", "path": ".hidden"},
    ],
)
def test_backends_agree(repo: Workspace, args: dict[str, object]) -> None:
    assert search.grep(repo, args, backend="rg") == search.grep(repo, args, backend="python")


# ---- Glob


def glob(ws: Workspace, **args: object) -> list[str]:
    return lines(GLOB.run(ws, dict(args)))


def test_glob_newest_first_then_by_path(ws: Workspace) -> None:
    root = ws.root
    for age, name in enumerate(["src/sub/deep.py", "a/x.py", "a-b/x.py", "src/app.py", "src/util.py"]):
        os.utime(root / name, (1_000_000 - age * 10, 1_000_000 - age * 10))
    os.utime(root / "src/util.py", (1_000_000, 1_000_000))  # ties with deep.py: path decides
    assert glob(ws, pattern="**/*.py") == ["src/sub/deep.py", "src/util.py", "a/x.py", "a-b/x.py", "src/app.py"]


def test_glob_patterns_are_relative_to_path(ws: Workspace) -> None:
    assert set(glob(ws, pattern="src/*.py")) == {"src/app.py", "src/util.py"}
    assert set(glob(ws, pattern="*.py", path="src")) == {"src/app.py", "src/util.py"}
    assert glob(ws, pattern="**/*.ts") == ["src/web/page.ts"]


def test_glob_skips_hidden_unless_named(ws: Workspace) -> None:
    assert ".hidden/secret.py" not in glob(ws, pattern="**/*.py")
    assert glob(ws, pattern=".hidden/*.py") == [".hidden/secret.py"]
    assert glob(ws, pattern=".eslintrc") == [".eslintrc"]


def test_glob_skips_git_ignored_files_and_git_itself(repo: Workspace) -> None:
    found = glob(repo, pattern="**/*")
    assert "notes.txt" in found and "src/app.py" in found
    assert not [name for name in found if name.startswith(("build/", ".git/")) or name.endswith(".log")]
    assert "src/generated.py" not in found
    assert ".gitignore" in glob(repo, pattern="**/.*")
    assert not [name for name in glob(repo, pattern="**/.*/**") if name.startswith(".git/")]


def test_glob_no_match_explains(ws: Workspace) -> None:
    out = GLOB.run(ws, {"pattern": "*.ts"})
    assert out.startswith("No files match *.ts under")
    assert "**/*.ts" in out


def test_glob_is_capped(tmp_path: Path) -> None:
    write_tree(tmp_path, {f"f{i:03}.txt": "" for i in range(MAX_FILES + 5)})
    out = glob(Workspace.at(tmp_path), pattern="*.txt")
    assert len(out) == MAX_FILES + 1
    assert out[-1].startswith("[5 more files not shown")


def test_glob_bad_arguments(ws: Workspace) -> None:
    with pytest.raises(ToolError, match="relative"):
        GLOB.run(ws, {"pattern": "/etc/*"})
    with pytest.raises(ToolError, match="not a directory"):
        GLOB.run(ws, {"pattern": "*", "path": "README.md"})
    with pytest.raises(ToolError, match="invalid glob"):
        GLOB.run(ws, {"pattern": "{a,b"})
