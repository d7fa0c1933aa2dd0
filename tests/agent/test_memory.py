"""Project memory: which instruction files are read, in what order, and how the block keeps to its budget."""

from __future__ import annotations

from pathlib import Path

from freehold.agent.memory import (
    CHARS_PER_TOKEN,
    MAX_FILE_BYTES,
    NAMES,
    Memory,
    load_memory,
)


def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_files_are_read_from_the_root_down_to_the_working_directory_in_name_order(tmp_path):
    root = repo(tmp_path)
    cwd = root / "src" / "pkg"
    for directory in (cwd, root / "src", root):
        for name in reversed(NAMES):
            write(directory / name, f"from {directory.name}/{name}")
    write(tmp_path / "AGENTS.md", "above the repository: never read")

    memory = load_memory(cwd, user_dir=tmp_path / "none")

    expected = [f"{d}{n}" for d in ("", "src/", "src/pkg/") for n in NAMES]
    assert [f.label for f in memory.files] == expected
    block = memory.block()
    assert block.index("## AGENTS.md\nfrom repo/AGENTS.md") < block.index("## src/pkg/FREEHOLD.md")
    assert "never read" not in block


def test_the_users_files_come_first(tmp_path):
    root = repo(tmp_path)
    user = tmp_path / "user"
    write(user / "FREEHOLD.md", "user freehold")
    write(user / "AGENTS.md", "user agents")
    write(user / "CLAUDE.md", "not a user name")
    write(root / "AGENTS.md", "project")

    memory = load_memory(root, user_dir=user)

    assert [f.text for f in memory.files] == ["user agents", "user freehold", "project"]
    assert memory.files[0].label == str(user / "AGENTS.md")


def test_the_default_user_directory_follows_xdg_config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    write(tmp_path / "xdg" / "freehold" / "AGENTS.md", "from xdg")
    cwd = tmp_path / "work"
    cwd.mkdir()

    assert [f.text for f in load_memory(cwd).files] == ["from xdg"]


def test_without_a_repository_only_the_working_directory_is_searched(tmp_path):
    write(tmp_path / "AGENTS.md", "parent")
    cwd = tmp_path / "work"
    write(cwd / "CLAUDE.md", "here")

    memory = load_memory(cwd, user_dir=tmp_path / "none")

    assert [(f.label, f.text) for f in memory.files] == [("CLAUDE.md", "here")]


def test_a_git_file_marks_the_root_too(tmp_path):
    root = tmp_path / "worktree"
    write(root / ".git", "gitdir: elsewhere\n")
    write(root / "AGENTS.md", "root")
    cwd = root / "sub"
    cwd.mkdir()

    assert [f.label for f in load_memory(cwd, user_dir=tmp_path / "none").files] == ["AGENTS.md"]


def test_over_budget_the_most_general_files_are_cut_first_and_a_note_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # short "~/user/..." labels, as in real use
    root = repo(tmp_path)
    user = tmp_path / "user"
    write(user / "AGENTS.md", "general line\n" * 200)
    write(root / "AGENTS.md", "root line\n" * 30)
    write(root / "sub" / "AGENTS.md", "specific line\n" * 30)

    memory = load_memory(root / "sub", user_dir=user, budget_tokens=400)

    block = memory.block()
    assert len(block) <= 400 * CHARS_PER_TOKEN
    user_file, root_file, sub_file = memory.files
    assert user_file.cut and not root_file.cut and not sub_file.cut
    assert sub_file.text == "specific line\n" * 30
    assert user_file.label == "~/user/AGENTS.md" and "cut: ~/user/AGENTS.md" in block


def test_a_tight_budget_leaves_general_files_out_and_keeps_the_nearest(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    root = repo(tmp_path)
    user = tmp_path / "user"
    write(user / "AGENTS.md", "general\n" * 300)
    write(root / "AGENTS.md", "root\n" * 300)
    write(root / "sub" / "CLAUDE.md", "nearest\n" * 20)

    memory = load_memory(root / "sub", user_dir=user, budget_tokens=120)

    assert len(memory.block()) <= 120 * CHARS_PER_TOKEN
    assert memory.files[-1].label == "sub/CLAUDE.md"
    assert [f.label for f in memory.files] == ["sub/CLAUDE.md"]
    assert "left out: ~/user/AGENTS.md, AGENTS.md" in memory.block()


def test_a_budget_too_small_for_anything_renders_nothing(tmp_path):
    root = repo(tmp_path)
    write(root / "AGENTS.md", "x" * 1000)

    memory = load_memory(root, user_dir=tmp_path / "none", budget_tokens=10)

    assert memory.block() == ""
    assert "left out: AGENTS.md" in memory.describe()


def test_a_symlink_out_of_the_repository_is_skipped(tmp_path):
    root = repo(tmp_path)
    secret = write(tmp_path / "outside.md", "secret outside")
    (root / "AGENTS.md").symlink_to(secret)
    write(root / "inside.md", "inside")
    (root / "CLAUDE.md").symlink_to(root / "inside.md")

    memory = load_memory(root, user_dir=tmp_path / "none")

    assert [(f.label, f.text) for f in memory.files] == [("CLAUDE.md", "inside")]
    assert "secret" not in memory.block()
    assert any("AGENTS.md" in note and "outside" in note for note in memory.notes)


def test_the_users_directory_may_link_anywhere(tmp_path):
    user = tmp_path / "user"
    user.mkdir()
    (user / "AGENTS.md").symlink_to(write(tmp_path / "dotfiles" / "agents.md", "mine"))

    assert [f.text for f in load_memory(repo(tmp_path), user_dir=user).files] == ["mine"]


def test_a_directory_with_a_memory_name_is_not_read(tmp_path):
    root = repo(tmp_path)
    (root / "AGENTS.md").mkdir()

    memory = load_memory(root, user_dir=tmp_path / "none")

    assert memory.files == [] and memory.block() == ""
    assert "not a regular file" in memory.describe()


def test_an_oversize_file_keeps_its_head(tmp_path):
    root = repo(tmp_path)
    write(root / "AGENTS.md", "a" * MAX_FILE_BYTES + "TAIL")

    memory = load_memory(root, user_dir=tmp_path / "none", budget_tokens=100_000)

    (only,) = memory.files
    assert only.cut and only.text.startswith("a" * MAX_FILE_BYTES) and "TAIL" not in only.text
    assert "AGENTS.md cut at 64 KB" in memory.notes


def test_undecodable_bytes_are_replaced(tmp_path):
    root = repo(tmp_path)
    (root / "AGENTS.md").write_bytes(b"use \xff\xfe tabs\n")

    (only,) = load_memory(root, user_dir=tmp_path / "none").files

    assert only.text == "use \ufffd\ufffd tabs\n"


def test_files_the_workspace_refuses_are_left_out(tmp_path):
    root = repo(tmp_path)
    write(root / "AGENTS.md", "allowed")
    write(root / "CLAUDE.md", "refused")
    asked: list[Path] = []

    def readable(path: Path) -> bool:
        asked.append(path)
        return path.name != "CLAUDE.md"

    memory = load_memory(root, user_dir=tmp_path / "none", readable=readable)

    assert [f.text for f in memory.files] == ["allowed"]
    assert all(p.is_absolute() for p in asked)
    assert any("CLAUDE.md" in note and "deny_read" in note for note in memory.notes)


def test_no_files_render_nothing_and_describe_says_which_names_are_looked_for(tmp_path):
    memory = load_memory(repo(tmp_path), user_dir=tmp_path / "none")

    assert memory == Memory([], [])
    assert memory.block() == ""
    assert memory.describe() == "no memory files (AGENTS.md, CLAUDE.md, QWEN.md, FREEHOLD.md)"


def test_describe_lists_each_file_with_its_size(tmp_path):
    root = repo(tmp_path)
    write(root / "AGENTS.md", "12345")

    described = load_memory(root, user_dir=tmp_path / "none").describe()

    assert described.startswith("AGENTS.md") and "5 chars" in described and "cut" not in described
