"""Custom slash commands from .freehold/commands and the user's directory."""

from __future__ import annotations

from pathlib import Path

from conftest import write

from freehold.ui.custom import load_commands


def test_templates_expand_arguments_and_positions(tmp_path: Path):
    write(tmp_path, "repo/.freehold/commands/Review.md",
          "---\ndescription: review a file\nargument-hint: FILE [FOCUS]\n---\nReview $1 for $2.\nAll: $ARGUMENTS $3\n")
    loaded = load_commands(tmp_path / "repo", user_dir=tmp_path / "user")
    review = loaded.commands["review"]
    assert review.description == "review a file" and review.argument_hint == "FILE [FOCUS]"
    assert review.expand("calc.py bugs") == "Review calc.py for bugs.\nAll: calc.py bugs "


def test_the_project_wins_over_the_user_and_subdirectories_namespace(tmp_path: Path):
    write(tmp_path, "user/fix.md", "the user's")
    write(tmp_path, "user/git/commit.md", "commit it")
    write(tmp_path, "repo/.freehold/commands/fix.md", "the project's")
    loaded = load_commands(tmp_path / "repo", user_dir=tmp_path / "user")
    assert loaded.commands["fix"].template == "the project's"
    assert loaded.commands["git:commit"].template == "commit it"
    assert loaded.warnings == []


def test_unusable_files_and_built_in_names_are_warnings(tmp_path: Path):
    write(tmp_path, "repo/.freehold/commands/help.md", "mine")
    write(tmp_path, "repo/.freehold/commands/latin1.md", b"caf\xe9")
    write(tmp_path, "repo/.freehold/commands/huge.md", "x" * (65 * 1024))
    write(tmp_path, "repo/.freehold/commands/ok.md", "fine")
    loaded = load_commands(tmp_path / "repo", user_dir=tmp_path / "none", reserved={"help"})
    assert list(loaded.commands) == ["ok"]
    assert len(loaded.warnings) == 3 and any("/help is a built-in command" in w for w in loaded.warnings)
