"""Argument validation and coercion by JSON schema, and tool name resolution: tools/schema.py."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freehold.tools.base import ToolError
from freehold.tools.schema import ArgumentsError, resolve_tool_name, validate_arguments

READ = {
    "type": "object",
    "properties": {
        "file_path": {"type": "string"},
        "offset": {"type": "integer"},
        "limit": {"type": "integer"},
    },
    "required": ["file_path"],
    "additionalProperties": False,
}
BASH = {
    "type": "object",
    "properties": {"command": {"type": "string"}, "timeout": {"type": "number"}},
    "required": ["command"],
    "additionalProperties": False,
}
GREP = {
    "type": "object",
    "properties": {
        "pattern": {"type": "string"},
        "globs": {"type": "array", "items": {"type": "string"}},
        "ignore_case": {"type": "boolean"},
        "mode": {"type": "string", "enum": ["content", "files", "count"]},
        "context": {"type": "integer", "enum": [0, 1, 2, 3]},
    },
    "required": ["pattern"],
    "additionalProperties": False,
}


def problems(args: dict[str, Any], schema: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ArgumentsError) as caught:
        validate_arguments(args, schema)
    return caught.value.problems


# --- accepted as given ------------------------------------------------------------------------


def test_valid_arguments_pass_unchanged() -> None:
    args = {"file_path": "a.py", "offset": 10, "limit": 20}
    assert validate_arguments(args, READ) == args


def test_result_is_a_new_dict() -> None:
    args = {"file_path": "a.py", "limit": "5"}
    out = validate_arguments(args, READ)
    assert out == {"file_path": "a.py", "limit": 5} and args["limit"] == "5"


def test_optional_keys_may_be_absent() -> None:
    assert validate_arguments({"command": "ls"}, BASH) == {"command": "ls"}


def test_null_for_an_optional_key_means_not_given() -> None:
    assert validate_arguments({"file_path": "a.py", "limit": None}, READ) == {"file_path": "a.py"}


def test_extra_keys_pass_when_the_schema_allows_them() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert validate_arguments({"a": "x", "b": 2}, schema) == {"a": "x", "b": 2}


def test_property_without_a_type_accepts_anything() -> None:
    schema = {"type": "object", "properties": {"value": {"description": "anything"}}}
    assert validate_arguments({"value": [1, {"x": None}]}, schema) == {"value": [1, {"x": None}]}


# --- coercions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_value", "expected"), [("20", 20), (" 20 ", 20), ("-3", -3), (1.0, 1), ("1e2", 100), ("20.0", 20)]
)
def test_integer_coercions(given_value: Any, expected: int) -> None:
    out = validate_arguments({"file_path": "a", "limit": given_value}, READ)
    assert out["limit"] == expected and type(out["limit"]) is int


@pytest.mark.parametrize(("given_value", "expected"), [("20.5", 20.5), ("20", 20), (3, 3), ("-0.25", -0.25)])
def test_number_coercions(given_value: Any, expected: float) -> None:
    assert validate_arguments({"command": "sleep 1", "timeout": given_value}, BASH)["timeout"] == expected


@pytest.mark.parametrize(
    ("given_value", "expected"), [("true", True), ("False", False), ("TRUE", True), (" false ", False), (True, True)]
)
def test_boolean_coercions(given_value: Any, expected: bool) -> None:
    assert validate_arguments({"pattern": "x", "ignore_case": given_value}, GREP)["ignore_case"] is expected


def test_json_encoded_array_string_becomes_a_list() -> None:
    # Qwen3-Coder's template renders arrays as JSON text inside <parameter=...>.
    out = validate_arguments({"pattern": "x", "globs": '["*.py", "*.md"]'}, GREP)
    assert out["globs"] == ["*.py", "*.md"]


def test_array_items_are_coerced_too() -> None:
    schema = {"type": "object", "properties": {"lines": {"type": "array", "items": {"type": "integer"}}}}
    assert validate_arguments({"lines": ["1", 2.0, 3]}, schema) == {"lines": [1, 2, 3]}


def test_json_encoded_object_string_becomes_a_dict() -> None:
    schema = {"type": "object", "properties": {"env": {"type": "object"}}}
    assert validate_arguments({"env": '{"A": "1"}'}, schema) == {"env": {"A": "1"}}


def test_enum_is_checked_after_coercion() -> None:
    assert validate_arguments({"pattern": "x", "context": "2"}, GREP)["context"] == 2


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["20.5", 1.5, True, "ten", "0x10", "NaN", "Infinity", "", [1], "1e999"])
def test_not_an_integer(value: Any) -> None:
    (problem,) = problems({"file_path": "a", "limit": value}, READ)
    assert problem.startswith("'limit' must be an integer, got ")


def test_wrong_type_names_expected_and_given() -> None:
    (problem,) = problems({"file_path": "a", "limit": "ten"}, READ)
    assert problem == "'limit' must be an integer, got string \"ten\""


@pytest.mark.parametrize("value", ["yes", 1, 0, "on", None])
def test_not_a_boolean(value: Any) -> None:
    args = {"pattern": "x", "ignore_case": value}
    if value is None:
        assert validate_arguments(args, GREP) == {"pattern": "x"}  # null for an optional key: dropped
    else:
        assert "must be a boolean" in problems(args, GREP)[0]


@pytest.mark.parametrize("value", [5, 2.5, True, ["ls"], {"cmd": "ls"}])
def test_strings_are_not_made_from_other_types(value: Any) -> None:
    assert "'command' must be a string" in problems({"command": value}, BASH)[0]


@pytest.mark.parametrize("value", ["*.py", '["*.py"', '{"a": 1}', 3])
def test_not_an_array(value: Any) -> None:
    assert "'globs' must be an array" in problems({"pattern": "x", "globs": value}, GREP)[0]


def test_array_items_of_the_wrong_type_are_named_by_index() -> None:
    (problem,) = problems({"pattern": "x", "globs": ["*.py", 3, None]}, GREP)
    assert "'globs[1]' must be a string, got integer 3" in problem
    assert "'globs[2]' must be a string, got null" in problem


def test_null_for_a_required_key_is_a_type_error() -> None:
    assert problems({"file_path": None}, READ) == ("'file_path' must be a string, got null",)


def test_missing_required_keys_are_named() -> None:
    assert problems({}, READ) == ("missing required argument 'file_path'",)


def test_unknown_keys_name_the_valid_ones() -> None:
    (problem,) = problems({"file_path": "a", "path": "b", "lines": 3}, READ)
    assert problem == "unknown arguments 'path', 'lines'; valid arguments are: file_path, offset, limit"


def test_enum_mismatch_lists_the_valid_values() -> None:
    (problem,) = problems({"pattern": "x", "mode": "Content"}, GREP)
    assert problem == '\'mode\' must be one of "content", "files", "count"; got string "Content"'


def test_every_problem_is_listed_in_one_message() -> None:
    with pytest.raises(ArgumentsError) as caught:
        validate_arguments({"globs": "*.py", "mode": "all", "ignore_case": "maybe", "max": 3}, GREP)
    error = caught.value
    assert len(error.problems) == 5
    message = str(error)
    for fragment in (
        "missing required argument 'pattern'",
        "unknown argument 'max'",
        "'globs' must be an array",
        "'mode' must be one of",
        "'ignore_case' must be a boolean",
    ):
        assert fragment in message
    assert message.startswith("the arguments do not fit the tool's parameters:\n- ")


def test_long_values_are_shortened_in_messages() -> None:
    (problem,) = problems({"command": ["x" * 500]}, BASH)
    assert len(problem) < 120 and problem.endswith("...")


def test_arguments_error_is_a_tool_error_and_a_value_error() -> None:
    with pytest.raises(ToolError):
        validate_arguments({}, READ)
    with pytest.raises(ValueError):
        validate_arguments({}, READ)


# --- resolve_tool_name ------------------------------------------------------------------------

NAMES = ["Read", "Write", "Edit", "Bash", "WebFetch", "Grep"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Read", "Read"),
        ("read", "Read"),
        ("READ", "Read"),
        ("bash", "Bash"),
        ("web_fetch", "WebFetch"),
        ("web-fetch", "WebFetch"),
        (" Grep ", "Grep"),
        ("read_file", None),
        ("ReadFile", None),
        ("shell", None),
        ("", None),
    ],
)
def test_resolve_tool_name(name: str, expected: str | None) -> None:
    assert resolve_tool_name(name, NAMES) == expected


def test_ambiguous_loose_match_resolves_to_nothing() -> None:
    assert resolve_tool_name("readme", ["ReadMe", "read_me"]) is None


def test_exact_match_wins_over_loose_ones() -> None:
    assert resolve_tool_name("read_me", ["ReadMe", "read_me"]) == "read_me"


# --- properties -------------------------------------------------------------------------------

read_args = st.fixed_dictionaries(
    {"file_path": st.text()},
    optional={"offset": st.integers(), "limit": st.integers()},
)


@given(read_args)
def test_well_typed_arguments_are_returned_as_they_are(args: dict[str, Any]) -> None:
    assert validate_arguments(args, READ) == args


@given(read_args)
def test_stringified_integers_coerce_back(args: dict[str, Any]) -> None:
    as_text = {k: str(v) if isinstance(v, int) else v for k, v in args.items()}
    assert validate_arguments(as_text, READ) == args


@given(
    st.dictionaries(
        st.sampled_from(["file_path", "offset", "limit", "extra"]),
        st.none() | st.booleans() | st.integers() | st.text() | st.floats(),
    )
)
def test_validation_only_ever_raises_arguments_error(args: dict[str, Any]) -> None:
    try:
        validate_arguments(args, READ)
    except ArgumentsError as error:
        assert error.problems and all(p in str(error) for p in error.problems)
