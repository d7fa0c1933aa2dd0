"""Custom slash commands from .freehold/commands and the user's directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import write

from freehold.ui.custom import CustomCommand, Loaded, load_commands


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


def command(tmp_path: Path, text: str | bytes, name: str = "cmd") -> CustomCommand:
    write(tmp_path, f"repo/.freehold/commands/{name}.md", text)
    loaded = load_commands(tmp_path / "repo", user_dir=tmp_path / "none")
    assert loaded.warnings == []
    return loaded.commands[name]


def test_arguments_are_put_in_once_so_a_dollar_in_them_stays_as_typed(tmp_path: Path):
    cmd = command(tmp_path, "Explain $1; all: $ARGUMENTS")
    assert cmd.expand("$2 costs $1") == "Explain $2; all: $2 costs $1"
    assert cmd.expand("") == "Explain ; all: "


def test_arguments_for_a_template_without_placeholders_are_appended_not_lost(tmp_path: Path):
    cmd = command(tmp_path, "Run the tests and fix what fails.\n")
    assert cmd.expand("") == "Run the tests and fix what fails."
    assert cmd.expand("only calc") == "Run the tests and fix what fails.\n\nARGUMENTS: only calc"


def test_front_matter_is_optional_and_only_at_the_top(tmp_path: Path):
    bom_crlf = "\ufeff---\r\ndescription: 'quoted: yes'\r\nmodel: ignored\r\n---\r\nBody $1\r\n".encode()
    cmd = command(tmp_path, bom_crlf)
    assert (cmd.description, cmd.argument_hint, cmd.template) == ("quoted: yes", "", "Body $1")
    unclosed = command(tmp_path, "---\ndescription: never closed\nBody", name="open")
    assert unclosed.description == "" and unclosed.template.startswith("---")
    later = command(tmp_path, "Body\n---\ndescription: not front matter\n---\n", name="later")
    assert later.description == "" and "not front matter" in later.template


def test_hidden_files_are_ignored_and_untypeable_names_are_warnings(tmp_path: Path):
    write(tmp_path, "repo/.freehold/commands/.#draft.md", "an editor's lock file")
    write(tmp_path, "repo/.freehold/commands/.old/stale.md", "hidden directory")
    write(tmp_path, "repo/.freehold/commands/two words.md", "no")
    write(tmp_path, "repo/.freehold/commands/Deploy-Prod.md", "yes")
    loaded = load_commands(tmp_path / "repo", user_dir=tmp_path / "none")
    assert list(loaded.commands) == ["deploy-prod"]
    assert len(loaded.warnings) == 1 and "/two words cannot be typed" in loaded.warnings[0]


def test_a_fifo_a_dangling_link_and_a_directory_named_md_are_skipped_without_blocking(tmp_path: Path):
    commands = tmp_path / "repo" / ".freehold" / "commands"
    commands.mkdir(parents=True)
    os.mkfifo(commands / "pipe.md")
    (commands / "gone.md").symlink_to(tmp_path / "nowhere.md")
    (commands / "dir.md").mkdir()
    loaded = load_commands(tmp_path / "repo", user_dir=tmp_path / "none")
    assert loaded.commands == {}
    assert sorted(w.split("is not used: ")[1] for w in loaded.warnings) == [
        "No such file or directory", "it is not a regular file", "it is not a regular file"]


def test_the_user_directory_defaults_to_the_config_directory_and_reserved_names_apply_there_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    write(tmp_path, "config/freehold/commands/standup.md", "---\ndescription: my standup\n---\nSummarise.")
    write(tmp_path, "config/freehold/commands/exit.md", "mine")
    loaded = load_commands(tmp_path / "repo", reserved={"exit"})
    assert loaded.commands["standup"].description == "my standup"
    assert loaded.commands["standup"].source == tmp_path / "config/freehold/commands/standup.md"
    assert "exit" not in loaded.commands and "/exit is a built-in command" in loaded.warnings[0]


def test_no_command_directories_mean_no_commands_and_no_warnings(tmp_path: Path):
    assert load_commands(tmp_path / "repo", user_dir=tmp_path / "none") == Loaded()
