"""The terminal UI's parts that need no terminal: what a streamed answer shows, folded pastes,
completion, attachments, rule editing, picking a session."""

from __future__ import annotations

from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document

from freehold.errors import UsageError
from freehold.policy.org import Policy
from freehold.policy.permissions import Permissions, sourced
from freehold.tools.base import Workspace
from freehold.ui.input import Pastes, PromptCompleter
from freehold.ui.permissions import edit
from freehold.ui.render import result_summary, visible_answer
from freehold.ui.sessions import pick
from freehold.ui.terminal import attachments


def test_a_streamed_answer_hides_thinking_and_text_tool_calls():
    assert visible_answer("<think>plan it</think>\nThe fix is ") == "The fix is"
    assert visible_answer("<think>still thinking") == ""
    assert visible_answer('Reading.\n<tool_call>\n{"name": "Read"') == "Reading."
    assert visible_answer("Now <function=Read>\n<parameter=file_path>") == "Now"


def test_a_long_result_is_summarized_with_a_pointer_to_expand():
    text = result_summary("\n".join(f"line {i}" for i in range(10)), False).plain
    assert "line 0" in text and "line 2" in text and "line 3" not in text
    assert "7 more lines (/expand)" in text
    assert result_summary("", False).plain.endswith("(no output)")


def test_large_pastes_fold_into_placeholders_and_expand_whole():
    pastes = Pastes()
    small = "one\ntwo"
    big = "\n".join(f"row {i}" for i in range(30))
    assert pastes.fold(small) == small
    placeholder = pastes.fold(big.replace("\n", "\r\n"))
    assert placeholder == "[Pasted text #1 +30 lines]"
    assert pastes.expand(f"look: {placeholder} and [Pasted text #9 +2 lines]") == \
        f"look: {big} and [Pasted text #9 +2 lines]"


def completions(text: str) -> list[str]:
    completer = PromptCompleter(lambda: {"help": "show help", "diff": "changes"},
                                lambda: ["calc.py", "src/calc_util.py", "test_calc.py"])
    return [c.text for c in completer.get_completions(Document(text), CompleteEvent())]


def test_completion_of_commands_and_paths():
    assert completions("/d") == ["diff"]
    assert completions("/help x") == []
    assert completions("explain @cal") == ["calc.py", "src/calc_util.py", "test_calc.py"]
    assert completions("explain @src/") == ["src/calc_util.py"]
    assert completions("explain @") == ["calc.py", "test_calc.py"]  # top level first
    assert completions("no at sign") == []


def test_attachments_go_through_the_workspace_boundary(tmp_path: Path):
    (tmp_path / "calc.py").write_text("x = 1\n")
    (tmp_path / ".env").write_text("TOKEN=secret\n")
    outside = tmp_path.parent / "outside-attachment.txt"
    outside.write_text("elsewhere\n")
    ws = Workspace.at(tmp_path)
    block = attachments(ws, f"see @calc.py, @.env and @../{outside.name} and mail@example.com")
    assert block == '<file path="calc.py">\nx = 1\n\n</file>\n'


def test_rules_added_in_the_session_can_be_removed_others_cannot(tmp_path: Path):
    ws = Workspace.at(tmp_path)
    permissions = Permissions("default", ws, sourced("deny", ["Bash(curl:*)"], "policy /etc/freehold/policy.toml"))
    added = edit(permissions, Policy(), "allow Bash(pytest:*) Read(src/**)")
    assert added == "added allow Bash(pytest:*), Read(src/**)"
    assert [r.rule.text for r in permissions.rules] == ["Bash(curl:*)", "Bash(pytest:*)", "Read(src/**)"]
    with pytest.raises(UsageError, match="only rules added in this session"):
        edit(permissions, Policy(), "remove 1")
    assert edit(permissions, Policy(), "remove 2") == "removed allow Bash(pytest:*)"
    with pytest.raises(UsageError, match="unbalanced parentheses"):
        edit(permissions, Policy(), "deny Bash(")
    with pytest.raises(UsageError, match="not a rule"):
        edit(permissions, Policy(), "deny Bash()")
    assert edit(permissions, Policy(), "mode accept-edits") == "mode is now accept-edits"
    with pytest.raises(UsageError, match="max_mode"):
        edit(permissions, Policy(max_mode="default"), "mode auto")
    assert permissions.mode == "accept-edits"


class _Summary:
    def __init__(self, id: str) -> None:
        self.id = id


def test_a_session_is_picked_by_number_or_unique_prefix():
    found = [_Summary("3f0c9a52-aaaa"), _Summary("3f11ffff-bbbb"), _Summary("77aa0000-cccc")]
    assert pick(found, "2") == "3f11ffff-bbbb"
    assert pick(found, "77") == "77aa0000-cccc"
    with pytest.raises(UsageError):
        pick(found, "3f")
    with pytest.raises(UsageError):
        pick(found, "9")


def test_the_status_line_shows_the_window_use_and_indexing_progress():
    from types import SimpleNamespace

    from freehold.messages import Usage
    from freehold.ui.terminal import Totals, status_line

    live = SimpleNamespace(done=SimpleNamespace(is_set=lambda: False), progress=(340, 1405))
    runtime = SimpleNamespace(fitted=SimpleNamespace(limit=SimpleNamespace(window=32768)), live=live,
                              model=SimpleNamespace(name="qwen"), permissions=SimpleNamespace(mode="default"))
    totals = Totals(usage=Usage(12000, 800), context=8192, last_run=2.5)
    ui = SimpleNamespace(runtime=runtime, totals=totals)
    assert status_line(ui) == " qwen · ctx 8,192/32.8k (25%) · ↑12.0k ↓800 · last 2.5s · default · indexing 340/1405"
    live.done = SimpleNamespace(is_set=lambda: True)
    assert status_line(ui).endswith("· default")
    ui.runtime, ui.open_error, ui.settings = None, None, SimpleNamespace(model="qwen")
    assert status_line(ui) == " qwen · connecting…"
