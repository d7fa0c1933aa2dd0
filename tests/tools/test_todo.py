"""The TodoWrite tool: the list replaced each call, the shapes small models send, the rules."""

from __future__ import annotations

import pytest

from freehold.tools.base import ToolError, Workspace
from freehold.tools.schema import validate_arguments
from freehold.tools.todo import PARAMETERS, Todo, TodoList, todo_tool


def test_each_call_replaces_the_list_and_says_where_things_stand(tmp_path):
    todos = TodoList()
    tool = todo_tool(todos)
    assert tool.read_only  # allowed in plan mode
    first = [{"content": "Read calc.py", "status": "completed"}, {"content": "Fix add", "status": "in_progress"},
             {"content": "Run the tests", "status": "pending"}]
    args = validate_arguments({"todos": first}, PARAMETERS)
    assert tool.run(Workspace.at(tmp_path), args) == "Todo list updated: 1 completed, 1 in progress, 1 pending. " \
                                                    "Now: Fix add."
    second = [{"content": "Fix add", "status": "done"}, {"content": "Run the tests", "status": "complete"}]
    assert todos.update(second) == "All 2 items completed."
    assert todos.items == [Todo("Fix add", "completed"), Todo("Run the tests", "completed")]
    assert todos.update([]) == "Todo list cleared." and todos.items == []


def test_the_shapes_small_models_send_are_taken_as_meant():
    todos = TodoList()
    todos.update('[{"content": "  Run   tests ", "status": "In Progress"}, {"content": "x", "status": "todo"}]')
    assert todos.items == [Todo("Run tests", "in_progress"), Todo("x", "pending")]
    todos.update([{"content": "a", "status": "in-progress"}, {"content": "b", "status": "DONE"}])
    assert [item.status for item in todos.items] == ["in_progress", "completed"]


def test_the_schema_takes_a_list_sent_as_json_text_and_an_optional_id(tmp_path):
    args = validate_arguments({"todos": '[{"id": "1", "content": "Run the tests", "status": "pending"}]'},
                              PARAMETERS)
    todos = TodoList()
    result = todo_tool(todos).run(Workspace.at(tmp_path), args)
    assert result == "Todo list updated: 0 completed, 0 in progress, 1 pending."
    assert todos.items == [Todo("Run the tests", "pending")]


@pytest.mark.parametrize("raw, message", [
    ([{"content": "a", "status": "in_progress"}, {"content": "b", "status": "doing"}], "only one item"),
    ([{"content": " ", "status": "pending"}], "non-empty content"),
    ([{"content": "a", "status": "someday"}], "use pending, in_progress or completed"),
    ([{"content": "a", "status": "pending"}] * 51, "at most 50 items, got 51"),
    ([{"content": "a" * 501, "status": "pending"}], "over 500 characters"),
    ("not json", "must be a list"),
    ({"content": "a"}, "must be a list"),
    (["a"], "must be an object"),
])
def test_what_cannot_be_meant_is_one_clear_line_and_the_list_is_kept(raw, message):
    todos = TodoList([Todo("kept", "pending")])
    with pytest.raises(ToolError, match=message):
        todos.update(raw)
    assert todos.items == [Todo("kept", "pending")]
