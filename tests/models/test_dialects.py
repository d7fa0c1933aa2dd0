"""Think blocks, tool calls written as text, and argument JSON repair: models/dialects.py."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from freehold.models.dialects import (
    ArgumentsError,
    TextToolCall,
    extract_text_tool_calls,
    split_reasoning,
)
from freehold.tools.arguments import parse_arguments
from freehold.tools.base import ToolError

TOOLS = ["Read", "Write", "Edit", "Bash", "Grep", "Glob"]
FENCE = "```"


# --- split_reasoning ---------------------------------------------------------------------------


def test_text_without_think_tags_is_all_answer() -> None:
    assert split_reasoning("  The answer is 42.\n") == ("The answer is 42.", "")


def test_explicit_think_block_is_split_off() -> None:
    text = "<think>\nThe user wants 6*7.\n</think>\n\nThe answer is 42."
    assert split_reasoning(text) == ("The answer is 42.", "The user wants 6*7.")


def test_leading_whitespace_before_think_is_allowed() -> None:
    assert split_reasoning("\n\n<think>hmm</think>ok") == ("ok", "hmm")


def test_template_opened_think_leaves_only_a_close_tag() -> None:
    # Qwen3 and DeepSeek-R1 templates end the prompt with "<think>\n".
    text = "Okay, the user asks for a file listing. I should run ls.\n</think>\n\nI'll list the files."
    answer, reasoning = split_reasoning(text)
    assert answer == "I'll list the files."
    assert reasoning == "Okay, the user asks for a file listing. I should run ls."


def test_unclosed_think_at_start_is_all_reasoning() -> None:
    assert split_reasoning("<think>\nLet me consider the first option, which") == (
        "",
        "Let me consider the first option, which",
    )


def test_empty_think_block_from_non_thinking_mode() -> None:
    assert split_reasoning("<think>\n\n</think>\n\nHello!") == ("Hello!", "")


def test_several_think_blocks_are_all_reasoning() -> None:
    text = "<think>first</think>\nStep one done.\n<think>\nsecond\n</think>\nAll done."
    assert split_reasoning(text) == ("Step one done.\n\nAll done.", "first\n\nsecond")


def test_later_unclosed_think_runs_to_the_end() -> None:
    text = "<think>a</think>\nPartial answer.\n<think>\nmore thoughts, cut"
    assert split_reasoning(text) == ("Partial answer.", "a\n\nmore thoughts, cut")


def test_think_inside_a_code_fence_is_quoted_not_reasoning() -> None:
    text = f"Models wrap reasoning like this:\n{FENCE}\n<think>\nreasoning\n</think>\n{FENCE}\nThat is all."
    assert split_reasoning(text) == (text, "")


def test_think_tag_within_a_line_is_prose() -> None:
    text = "Strip the <think>...</think> block before showing the answer."
    assert split_reasoning(text) == (text, "")


def test_close_tag_inside_a_tool_call_is_not_the_end_of_reasoning() -> None:
    # A non-reasoning model writing a file that contains the tag.
    text = '<tool_call>\n{"name": "Write", "arguments": {"file_path": "t.txt", "content": "x</think>y"}}\n</tool_call>'
    assert split_reasoning(text) == (text, "")


def test_tool_call_after_reasoning_stays_in_the_answer() -> None:
    text = (
        'I need the file.\n</think>\n\n<tool_call>\n{"name": "Read", "arguments": {"file_path": "a.py"}}\n</tool_call>'
    )
    answer, reasoning = split_reasoning(text)
    assert reasoning == "I need the file."
    assert answer.startswith("<tool_call>")


# --- extract_text_tool_calls: Hermes / Qwen2.5 JSON ------------------------------------------


def hermes(name: str, arguments: Any, key: str = "arguments") -> str:
    return "<tool_call>\n" + json.dumps({"name": name, key: arguments}) + "\n</tool_call>"


def test_hermes_call_with_prose_before_it() -> None:
    text = "Let me read the file first.\n\n" + hermes("Read", {"file_path": "src/app.py"})
    assert extract_text_tool_calls(text, TOOLS) == (
        "Let me read the file first.",
        [("Read", '{"file_path": "src/app.py"}')],
    )


def test_hermes_calls_in_a_row() -> None:
    text = hermes("Read", {"file_path": "a.py"}) + "\n" + hermes("Grep", {"pattern": "def main", "path": "src"})
    rest, calls = extract_text_tool_calls(text, TOOLS)
    assert rest == ""
    assert [c.name for c in calls] == ["Read", "Grep"]
    assert json.loads(calls[1].arguments) == {"pattern": "def main", "path": "src"}


def test_hermes_arguments_first_then_name() -> None:
    text = '<tool_call>\n{"arguments": {"command": "ls -la"}, "name": "Bash"}\n</tool_call>'
    assert extract_text_tool_calls(text, TOOLS)[1] == [("Bash", '{"command": "ls -la"}')]


def test_hermes_arguments_as_a_json_string() -> None:
    text = hermes("Bash", json.dumps({"command": "pytest -q"}))
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert calls == [("Bash", '{"command": "pytest -q"}')]
    assert parse_arguments(calls[0].arguments) == {"command": "pytest -q"}


def test_hermes_parameters_key() -> None:
    _, calls = extract_text_tool_calls(hermes("Glob", {"pattern": "**/*.py"}, key="parameters"), TOOLS)
    assert calls == [("Glob", '{"pattern": "**/*.py"}')]


def test_hermes_without_arguments_key_takes_the_other_keys() -> None:
    text = '<tool_call>\n{"name": "Bash", "command": "make test"}\n</tool_call>'
    assert extract_text_tool_calls(text, TOOLS)[1] == [("Bash", '{"command": "make test"}')]


def test_hermes_missing_close_tag_at_the_end() -> None:
    text = 'Running the tests.\n<tool_call>\n{"name": "Bash", "arguments": {"command": "pytest"}}\n'
    assert extract_text_tool_calls(text, TOOLS) == ("Running the tests.", [("Bash", '{"command": "pytest"}')])


def test_hermes_missing_close_tag_between_calls() -> None:
    text = '<tool_call>\n{"name": "Read", "arguments": {"file_path": "a"}}\n' + hermes("Read", {"file_path": "b"})
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert [json.loads(c.arguments)["file_path"] for c in calls] == ["a", "b"]


def test_several_objects_in_one_block() -> None:
    one, two = ({"name": "Read", "arguments": {"file_path": p}} for p in "ab")
    text = f"<tool_call>\n{json.dumps(one)}\n{json.dumps(two)}\n</tool_call>"
    assert len(extract_text_tool_calls(text, TOOLS)[1]) == 2


def test_hermes_string_values_may_contain_the_close_tag_and_unicode() -> None:
    content = 'CLOSE = "</tool_call>"\nGREETING = "héllo ✓"\n'
    rest, calls = extract_text_tool_calls(hermes("Write", {"file_path": "k.py", "content": content}), TOOLS)
    assert rest == ""
    assert json.loads(calls[0].arguments)["content"] == content
    assert "✓" in calls[0].arguments  # kept readable, not \u-escaped


def test_hermes_raw_newlines_inside_strings_are_read() -> None:
    text = (
        '<tool_call>\n{"name": "Write", "arguments": {"file_path": "a.py", "content": "x = 1\ny = 2\n"}}\n</tool_call>'
    )
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert parse_arguments(calls[0].arguments) == {"file_path": "a.py", "content": "x = 1\ny = 2\n"}


def test_broken_hermes_json_is_returned_raw_for_repair() -> None:
    text = '<tool_call>\n{"name": "Read", "arguments": {"file_path": "a.py", "limit": 20,}}\n</tool_call>\nDone.'
    rest, calls = extract_text_tool_calls(text, TOOLS)
    assert rest == "Done."
    assert calls == [("Read", '{"file_path": "a.py", "limit": 20,}')]
    assert parse_arguments(calls[0].arguments) == {"file_path": "a.py", "limit": 20}


def test_truncated_hermes_call_is_returned_so_the_model_hears_of_it() -> None:
    text = '<tool_call>\n{"name": "Write", "arguments": {"file_path": "a.py", "content": "def f():\\n    ret'
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert calls[0].name == "Write"
    with pytest.raises(ArgumentsError, match="cut off"):
        parse_arguments(calls[0].arguments)


def test_broken_hermes_json_whose_outer_brace_was_cut() -> None:
    text = '<tool_call>\n{"name": "Read", "arguments": {"file_path": "a.py"}\n</tool_call>'
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert parse_arguments(calls[0].arguments) == {"file_path": "a.py"}


def test_broken_hermes_json_with_escaped_name() -> None:
    text = '<tool_call>\n{"name": "Re\\u0061d", "arguments": {"file_path": \'a\'}}\n</tool_call>'
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert calls[0].name == "Read"
    with pytest.raises(ArgumentsError, match="single quotes"):
        parse_arguments(calls[0].arguments)


def test_tool_call_without_a_name_stays_in_the_text() -> None:
    for text in (
        '<tool_call>\n{"tool": "Read", "args": {}}\n</tool_call>',
        "<tool_call>\nRead(file_path='a.py')\n</tool_call>",
        '<tool_call>\n{"arguments": {"a": 1,}\n</tool_call>',
        "I will answer inside <tool_call> tags.",
    ):
        assert extract_text_tool_calls(text, TOOLS) == (text, [])


def test_names_are_returned_as_written() -> None:
    # Resolution ("bash" -> "Bash") is the caller's, for native and text calls alike.
    assert extract_text_tool_calls(hermes("bash", {"command": "ls"}), TOOLS)[1][0].name == "bash"


def test_result_items_are_named_tuples() -> None:
    _, calls = extract_text_tool_calls(hermes("Read", {"file_path": "a"}), TOOLS)
    assert isinstance(calls[0], TextToolCall) and calls[0] == ("Read", '{"file_path": "a"}')


# --- extract_text_tool_calls: Qwen3-Coder XML -------------------------------------------------


def qwen(name: str, params: dict[str, str]) -> str:
    """A call as the Qwen3-Coder chat template renders it."""
    body = "".join(f"<parameter={k}>\n{v}\n</parameter>\n" for k, v in params.items())
    return f"<tool_call>\n<function={name}>\n{body}</function>\n</tool_call>"


QWEN_READ = """<tool_call>
<function=Read>
<parameter=file_path>
/x/y.py
</parameter>
<parameter=limit>
20
</parameter>
</function>
</tool_call>"""


def test_qwen3_coder_call() -> None:
    text = "I'll open the file.\n" + QWEN_READ
    rest, calls = extract_text_tool_calls(text, TOOLS)
    assert rest == "I'll open the file."
    assert calls == [("Read", '{"file_path": "/x/y.py", "limit": "20"}')]


def test_qwen3_coder_code_value_keeps_newlines_indentation_and_angle_brackets() -> None:
    code = "def smaller(a, b):\n    if a < b and b > 0:\n        return a<<1\n\n    return '<tag>'"
    text = qwen("Write", {"file_path": "m.py", "content": code})
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert json.loads(calls[0].arguments) == {"file_path": "m.py", "content": code}


def test_qwen3_coder_strips_exactly_one_newline_each_side() -> None:
    text = "<tool_call>\n<function=Write>\n<parameter=content>\n\nbody\n\n</parameter>\n</function>\n</tool_call>"
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert json.loads(calls[0].arguments) == {"content": "\nbody\n"}


def test_qwen3_coder_value_on_the_tag_line() -> None:
    text = "<tool_call><function=Bash><parameter=command>ls -la</parameter></function></tool_call>"
    assert extract_text_tool_calls(text, TOOLS)[1] == [("Bash", '{"command": "ls -la"}')]


def test_qwen3_coder_value_may_contain_other_markup() -> None:
    value = 'fixture = "<tool_call><function=Read><parameter=x>"'
    text = f"<tool_call>\n<function=Write>\n<parameter=content>\n{value}\n</parameter>\n</function>\n</tool_call>"
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert json.loads(calls[0].arguments) == {"content": value}


def test_qwen3_coder_close_tags_swallowed_at_the_end() -> None:
    for cut in ("\n</function>\n", "\n", ""):
        text = "<tool_call>\n<function=Bash>\n<parameter=command>\nls\n</parameter>" + cut
        assert extract_text_tool_calls(text, TOOLS) == ("", [("Bash", '{"command": "ls"}')])


def test_qwen3_coder_missing_parameter_close_at_the_end() -> None:
    text = "<tool_call>\n<function=Bash>\n<parameter=command>\nls -la\n"
    assert extract_text_tool_calls(text, TOOLS)[1] == [("Bash", '{"command": "ls -la"}')]


def test_qwen3_coder_missing_parameter_close_before_the_next_parameter() -> None:
    text = "<tool_call>\n<function=Read>\n<parameter=file_path>\na.py\n<parameter=limit>\n5\n</function>\n</tool_call>"
    assert json.loads(extract_text_tool_calls(text, TOOLS)[1][0].arguments) == {"file_path": "a.py", "limit": "5"}


def test_unclosed_value_stops_at_the_next_call() -> None:
    text = "<tool_call>\n<function=Bash>\n<parameter=command>\nls\n"
    text += "<tool_call>\n<function=Read>\n<parameter=file_path>\na.py\n"
    assert extract_text_tool_calls(text, TOOLS)[1] == [("Bash", '{"command": "ls"}'), ("Read", '{"file_path": "a.py"}')]


def test_unknown_bare_functions_do_not_swallow_what_follows() -> None:
    # Regression: each unknown <function=...> once read every later parameter as its own.
    prose = "<function=handler>\n<parameter=a>\nb\n" * 3
    text = prose + "<function=Bash>\n<parameter=command>\nls\n</parameter>\n</function>"
    rest, calls = extract_text_tool_calls(text, TOOLS)
    assert calls == [("Bash", '{"command": "ls"}')]
    assert rest == prose.strip()


def test_qwen3_coder_several_calls_and_text_between() -> None:
    second = QWEN_READ.replace("/x/y.py", "/x/z.py")
    rest, calls = extract_text_tool_calls(f"First.\n{QWEN_READ}\nThen:\n{second}\nEnd.", TOOLS)
    assert rest == "First.\n\nThen:\n\nEnd."
    assert [json.loads(c.arguments)["file_path"] for c in calls] == ["/x/y.py", "/x/z.py"]


def test_qwen3_coder_function_without_parameters() -> None:
    text = "<tool_call>\n<function=Glob>\n</function>\n</tool_call>"
    assert extract_text_tool_calls(text, TOOLS) == ("", [("Glob", "{}")])


def test_bare_function_of_a_known_tool() -> None:
    text = "Checking.\n<function=Bash>\n<parameter=command>\ngit status\n</parameter>\n</function>"
    assert extract_text_tool_calls(text, TOOLS) == ("Checking.", [("Bash", '{"command": "git status"}')])


def test_bare_function_name_may_differ_in_case() -> None:
    text = "<function=bash>\n<parameter=command>\nls\n</parameter>\n</function>\n</tool_call>"
    assert extract_text_tool_calls(text, TOOLS) == ("", [("bash", '{"command": "ls"}')])


def test_bare_function_of_an_unknown_name_is_prose() -> None:
    text = "In JS, <function=handler> is not valid syntax."
    assert extract_text_tool_calls(text, TOOLS) == (text, [])


def test_function_with_a_json_body() -> None:
    text = '<function=Read>{"file_path": "a.py", "offset": 10}</function>'
    assert extract_text_tool_calls(text, TOOLS) == ("", [("Read", '{"file_path": "a.py", "offset": 10}')])


def test_function_with_a_broken_json_body_inside_tool_call() -> None:
    text = '<tool_call>\n<function=Read>{"file_path": "a.py",}</function>\n</tool_call>'
    _, calls = extract_text_tool_calls(text, TOOLS)
    assert calls == [("Read", '{"file_path": "a.py",}')]
    assert parse_arguments(calls[0].arguments) == {"file_path": "a.py"}


def test_tool_call_wrapping_an_unnamed_function_stays_text() -> None:
    text = "<tool_call>\n<function=>\n</function>\n</tool_call>"
    assert extract_text_tool_calls(text, TOOLS) == (text, [])


# --- extract_text_tool_calls: quoted markup is not a call -------------------------------------


def test_calls_inside_a_code_fence_are_examples() -> None:
    text = f"To read a file, a model writes:\n\n{FENCE}xml\n{QWEN_READ}\n{FENCE}\n\nand the server runs it."
    assert extract_text_tool_calls(text, TOOLS) == (text.strip(), [])


def test_calls_inside_a_tilde_fence_are_examples() -> None:
    text = "Example:\n~~~\n" + hermes("Bash", {"command": "rm -rf /"}) + "\n~~~"
    assert extract_text_tool_calls(text, TOOLS) == (text, [])


def test_calls_in_inline_code_are_prose() -> None:
    text = 'Wrap each call in `<tool_call>{"name": "Read", "arguments": {}}</tool_call>` tags.'
    assert extract_text_tool_calls(text, TOOLS) == (text, [])


def test_a_real_call_after_a_closed_fence_is_extracted() -> None:
    text = f"Here is the plan:\n{FENCE}\n{hermes('Bash', {'command': 'echo example'})}\n{FENCE}\n" + hermes(
        "Bash", {"command": "make"}
    )
    rest, calls = extract_text_tool_calls(text, TOOLS)
    assert calls == [("Bash", '{"command": "make"}')]
    assert "echo example" in rest


def test_single_line_triple_backticks_are_inline_code() -> None:
    text = "Use ```<tool_call>``` like so:\n" + hermes("Bash", {"command": "ls"})
    rest, calls = extract_text_tool_calls(text, TOOLS)
    assert rest == "Use ```<tool_call>``` like so:"
    assert len(calls) == 1


def test_unmatched_backtick_does_not_hide_a_call() -> None:
    text = "The ` character is a backtick.\n" + hermes("Bash", {"command": "ls"})
    assert len(extract_text_tool_calls(text, TOOLS)[1]) == 1


def test_an_unclosed_fence_hides_everything_after_it() -> None:
    # As in markdown: the rest of the message is code. Documented, not a wish.
    text = f"{FENCE}python\nprint(1)\n" + hermes("Bash", {"command": "ls"})
    assert extract_text_tool_calls(text, TOOLS) == (text, [])


def test_fences_inside_a_call_do_not_hide_the_next_call() -> None:
    readme = "# Usage\n\n```bash\npip install x\n"  # an unclosed fence, inside the value
    first = qwen("Write", {"file_path": "README.md", "content": readme})
    _, calls = extract_text_tool_calls(first + "\n" + hermes("Bash", {"command": "ls"}), TOOLS)
    assert [c.name for c in calls] == ["Write", "Bash"]
    assert json.loads(calls[0].arguments)["content"] == readme


def test_plain_text_is_left_alone() -> None:
    text = "  Nothing to call here; x < y and a > b.  \n"
    assert extract_text_tool_calls(text, TOOLS) == (text.strip(), [])


# --- parse_arguments: repairs -----------------------------------------------------------------


def test_plain_object() -> None:
    assert parse_arguments('{"file_path": "a.py", "limit": 20}') == {"file_path": "a.py", "limit": 20}


@pytest.mark.parametrize("raw", ["", "   ", "\n\t"])
def test_empty_means_no_arguments(raw: str) -> None:
    assert parse_arguments(raw) == {}


@pytest.mark.parametrize("raw", ['```json\n{"a": 1}\n```', '```\n{"a": 1}\n```', '  ```JSON\n{"a": 1}```  '])
def test_markdown_fence_is_removed(raw: str) -> None:
    assert parse_arguments(raw) == {"a": 1}


def test_double_encoded_object() -> None:
    assert parse_arguments(json.dumps(json.dumps({"command": "ls", "timeout": 5}))) == {"command": "ls", "timeout": 5}


def test_double_encoded_object_is_repaired_too() -> None:
    assert parse_arguments(json.dumps('{"command": "ls",}')) == {"command": "ls"}


def test_trailing_commas_are_dropped() -> None:
    assert parse_arguments('{"a": [1, 2,], "b": {"c": 3,},}') == {"a": [1, 2], "b": {"c": 3}}


def test_trailing_comma_repair_leaves_strings_alone() -> None:
    assert parse_arguments('{"a": "x,}", "b": ", ]",}') == {"a": "x,}", "b": ", ]"}


def test_missing_final_closers_are_added() -> None:
    assert parse_arguments('{"edits": [{"old": "a", "new": "b"}]') == {"edits": [{"old": "a", "new": "b"}]}
    assert parse_arguments('{"a": {"b": [1, 2]') == {"a": {"b": [1, 2]}}
    assert parse_arguments('{"a": 1') == {"a": 1}


def test_missing_closers_and_trailing_comma_together() -> None:
    assert parse_arguments('{"a": [1, 2,]') == {"a": [1, 2]}


def test_raw_control_characters_in_strings_are_kept() -> None:
    assert parse_arguments('{"content": "line 1\nline 2\n\tindented"}') == {"content": "line 1\nline 2\n\tindented"}


def test_brackets_inside_strings_do_not_count() -> None:
    assert parse_arguments('{"pattern": "def f(x) -> [int]: {"') == {"pattern": "def f(x) -> [int]: {"}


# --- parse_arguments: refusals ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("{'file_path': 'a.py'}", "single quotes"),
        ('{"file_path": "a.py"} // read it', "comment"),
        ('{"a": 1, /* why */ "b": 2}', "comment"),
        ('{"recursive": True}', "Python literal True; JSON spells it true"),
        ('{"limit": None}', "null"),
        ('{"a": NaN}', "NaN"),
        ('{"a": -Infinity}', "Infinity"),
        ("[1, 2]", "must be a JSON object, got an array"),
        ("42", "got a number"),
        ("true", "got a boolean"),
        ("null", "got null"),
        ('"just a string"', "got a string"),
        ('{"content": "def f():\\n    return', "end inside a string"),
        ('{"a": 1,', "incomplete"),
        ('{"a":', "incomplete"),
        ('{"a": [', "incomplete"),
        ('{"a": [1}', "not valid JSON"),
        ('{"a": 1}}', "Extra data"),
        ('{"a": 1} {"b": 2}', "Extra data"),
        ('{"a" 1}', "line 1 column 6"),
    ],
)
def test_refusals_say_why(raw: str, reason: str) -> None:
    with pytest.raises(ArgumentsError, match=reason.replace("*", r"\*")):
        parse_arguments(raw)


def test_urls_are_not_comments() -> None:
    assert parse_arguments('{"url": "https://example.com/a//b"}') == {"url": "https://example.com/a//b"}
    with pytest.raises(ArgumentsError) as caught:
        parse_arguments('{"url": "https://example.com" "x"}')
    assert "comment" not in str(caught.value)


def test_arguments_error_is_a_value_error_and_a_tool_error() -> None:
    with pytest.raises(ArgumentsError) as caught:
        parse_arguments("[]")
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, ToolError)


def test_error_shows_where_the_json_breaks() -> None:
    with pytest.raises(ArgumentsError, match="near `"):
        parse_arguments('{"file_path": "a.py" "limit": 3}')


# --- properties -------------------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
json_objects = st.dictionaries(st.text(), json_values, max_size=6)
names = st.sampled_from(TOOLS)
# Prose around calls: no markup characters, so it cannot open a call, a fence or a think block.
prose = st.text(st.characters(blacklist_characters="<`~", blacklist_categories=["Cs"]), max_size=40)


@given(json_objects)
def test_any_json_object_round_trips(data: dict[str, Any]) -> None:
    assert parse_arguments(json.dumps(data)) == data
    assert parse_arguments(json.dumps(data, ensure_ascii=False, indent=2)) == data


@given(json_objects)
def test_any_double_encoded_object_round_trips(data: dict[str, Any]) -> None:
    assert parse_arguments(json.dumps(json.dumps(data))) == data


@given(st.text(max_size=60))
def test_parse_arguments_only_ever_raises_arguments_error(raw: str) -> None:
    with contextlib.suppress(ArgumentsError):
        assert isinstance(parse_arguments(raw), dict)


@given(prose, names, json_objects, prose)
def test_rendered_hermes_call_round_trips(before: str, name: str, data: dict[str, Any], after: str) -> None:
    text = f"{before}\n{hermes(name, data)}\n{after}"
    rest, calls = extract_text_tool_calls(text, TOOLS)
    assert [c.name for c in calls] == [name]
    assert parse_arguments(calls[0].arguments) == data
    assert rest == "\n\n".join(p.strip() for p in (before, after) if p.strip())


values = st.text(max_size=80).filter(lambda v: "</parameter>" not in v)
parameter_names = st.from_regex(r"[a-z_]{1,12}", fullmatch=True)


@given(names, st.dictionaries(parameter_names, values, max_size=4))
def test_rendered_qwen3_coder_call_round_trips(name: str, data: dict[str, str]) -> None:
    rest, calls = extract_text_tool_calls(qwen(name, data), TOOLS)
    assert rest == ""
    assert calls == [(name, json.dumps(data, ensure_ascii=False))]


markup = st.sampled_from(
    [
        "<tool_call>",
        "</tool_call>",
        "<function=Read>",
        "<parameter=x>",
        "</parameter>",
        "</function>",
        "{",
        "}",
        '"',
        '"name": "Read"',
        "```\n",
        "`",
        "\n",
        "<think>",
        "</think>",
        ",",
        "a",
    ]
)


@given(st.lists(markup, max_size=25).map("".join))
def test_arbitrary_markup_never_crashes(text: str) -> None:
    rest, calls = extract_text_tool_calls(text, TOOLS)
    answer, reasoning = split_reasoning(text)
    assert isinstance(rest, str) and isinstance(answer, str) and isinstance(reasoning, str)
    for call in calls:
        with contextlib.suppress(ArgumentsError):
            parse_arguments(call.arguments)
