"""The one path every call takes: name resolution, argument repair and validation, the
permission decision, running, and bounding what goes back to the model."""

from __future__ import annotations

import json

from freehold.messages import ToolCall
from freehold.tools import MAX_RESULT_CHARS, Toolbox, bounded, default_tools
from freehold.tools.base import Workspace


def toolbox(tmp_path) -> Toolbox:
    return Toolbox(default_tools(), Workspace.at(tmp_path))


def call(name: str, args) -> ToolCall:
    return ToolCall("c1", name, args if isinstance(args, str) else json.dumps(args))


def test_a_huge_result_is_bounded_with_a_note():
    content = "head" + "x" * 200_000 + "tail"
    out = bounded(content)
    assert MAX_RESULT_CHARS < len(out) < MAX_RESULT_CHARS + 200
    assert out.startswith("head") and out.endswith("tail")
    assert "characters omitted" in out and "offset/limit" in out
    assert bounded("short") == "short"


def test_qwen3coder_string_values_are_typed_by_the_schema(tmp_path):
    (tmp_path / "a.txt").write_text("one\ntwo\nthree\n")
    box = toolbox(tmp_path)
    prepared = box.prepare(call("Read", {"file_path": "a.txt", "offset": "2", "limit": "1"}))
    assert prepared.input == {"file_path": "a.txt", "offset": 2, "limit": 1}
    assert box.run(prepared).content.startswith("     2\ttwo")


def test_unknown_tool_and_bad_arguments_are_errors_for_the_model(tmp_path):
    box = toolbox(tmp_path)
    unknown = box.run(box.prepare(call("Fetch", {})))
    assert unknown.is_error and "Valid tools: Read, Edit, Write, Bash, Grep, Glob" in unknown.content
    missing = box.run(box.prepare(call("Edit", {"file_path": "a"})))
    assert missing.is_error and "old_string" in missing.content and "new_string" in missing.content


def test_an_edit_reports_the_file_change(tmp_path):
    import hashlib

    (tmp_path / "a.txt").write_text("one\n")
    box = toolbox(tmp_path)
    outcome = box.run(box.prepare(call("Edit", {"file_path": "a.txt", "old_string": "one", "new_string": "two"})))
    sha = lambda text: hashlib.sha256(text.encode()).hexdigest()  # noqa: E731
    assert outcome.change is not None
    assert (outcome.change.path, outcome.change.sha256_before, outcome.change.sha256_after) == ("a.txt", sha("one\n"), sha("two\n"))
    created = box.run(box.prepare(call("Write", {"file_path": "b.txt", "content": "x"})))
    assert created.change is not None and created.change.sha256_before is None
    read = box.run(box.prepare(call("Read", {"file_path": "a.txt"})))
    assert read.change is None
