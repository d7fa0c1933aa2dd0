"""Read what a model wrote as plain text: think blocks, and tool calls a server did not parse.

Self-hosted servers may run without a reasoning parser or a tool parser; then the model's
markup arrives inside `content`, and these pure functions recover it:

    split_reasoning          `<think>...</think>`            -> (answer, reasoning)
    extract_text_tool_calls  Hermes JSON / Qwen3-Coder XML  -> (text left, calls)

Call `split_reasoning` first and extract calls from the answer only: a call the model merely
considered while thinking is not one it made. Markup inside markdown code (a fenced block or
an inline `span`) is quoted, not meant, and is never read as a think block or a tool call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, NamedTuple

from freehold.tools.arguments import mask_strings
from freehold.tools.schema import ArgumentsError, resolve_tool_name

__all__ = ["ArgumentsError", "TextToolCall", "extract_text_tool_calls", "split_reasoning"]


# ---------------------------------------------------------------------------------------------
# Markdown code: where markup is quoted rather than meant.

# A fence line (``` or ~~~, indented at most three spaces) or a run of inline backticks.
_CODE_START = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})|(?P<ticks>`+)", re.MULTILINE)


def _next_outside_code(text: str, pattern: re.Pattern[str], pos: int) -> re.Match[str] | None:
    """The next match of `pattern` at or after `pos` that does not start inside markdown code."""
    found = pattern.search(text, pos)
    while found is not None:
        code = _CODE_START.search(text, pos, found.start())
        if code is None:
            return found
        pos = _code_end(text, code)
        if pos > found.start():  # search again only when the code hid this match: linear time
            found = pattern.search(text, pos)
    return None


def _code_end(text: str, code: re.Match[str]) -> int:
    """Where the code that `code` opens ends. An unclosed fence runs to the end, as in markdown."""
    fence = code.group("fence")
    if fence is None:
        return _inline_code_end(text, code.group("ticks"), code.end())
    if fence[0] == "`" and "`" in text[code.end() : _line_end(text, code.end())]:
        return _inline_code_end(text, fence, code.end())  # ```x``` on one line is inline code
    closing = re.compile(rf"^[ \t]{{0,3}}{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.MULTILINE)
    close = closing.search(text, _line_end(text, code.end()))
    return len(text) if close is None else close.end()


def _inline_code_end(text: str, ticks: str, pos: int) -> int:
    """The end of an inline span closed by the same number of backticks on the same line; a run
    left unclosed is literal backticks, so scanning resumes right after it."""
    close = re.compile(rf"(?<!`){ticks}(?!`)").search(text, pos, _line_end(text, pos))
    return pos if close is None else close.end()


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos)
    return len(text) if end == -1 else end


def _join(parts: list[str]) -> str:
    """The non-blank parts, each stripped, a blank line between: text with pieces cut out of it."""
    return "\n\n".join(part.strip() for part in parts if part.strip())


# ---------------------------------------------------------------------------------------------
# Reasoning

_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_LINE_THINK = re.compile(r"^[ \t]*<think>", re.MULTILINE)
_CALL_START = re.compile(r"<tool_call>|<function=")


def split_reasoning(text: str) -> tuple[str, str]:
    """(answer, reasoning) of a model's output, both stripped; reasoning blocks joined by a blank line.

    - Output that starts with `<think>` opens with reasoning, up to the first `</think>`; with
      no `</think>` at all (the output was cut off) it is all reasoning and the answer is "".
    - A `</think>` with no `<think>` before it (Qwen3, DeepSeek-R1: the chat template opened the
      block in the prompt) ends reasoning that began with the output; not taken so when a tool
      call comes before it, since then the tag is part of that call (a file being written).
    - Further `<think>` blocks count only where the tag starts a line outside markdown code;
      a tag within a line is prose or data, such as a JSON string in a tool call.

    Only `<think>` is recognised: it is what Qwen3, QwQ, DeepSeek-R1, GLM-4.5 and MiniMax-M2
    emit. Others (`<seed:think>`, `[THINK]`, harmony channels) belong to a model's profile.
    """
    first, rest = _leading_reasoning(text)
    answers, thoughts = _inline_reasoning(rest)
    return _join(answers), _join([first, *thoughts])


def _leading_reasoning(text: str) -> tuple[str, str]:
    """(reasoning, rest) for reasoning the output opens with, explicitly or by the prompt."""
    body = text.lstrip()
    if body.startswith(_THINK_OPEN):
        thought, end = _think_body(body, len(_THINK_OPEN))
        return thought, body[end:]
    close = text.find(_THINK_CLOSE)
    if close == -1 or _THINK_OPEN in text[:close] or _CALL_START.search(text, 0, close):
        return "", text
    return text[:close], text[close + len(_THINK_CLOSE) :]


def _inline_reasoning(text: str) -> tuple[list[str], list[str]]:
    """(answer pieces, reasoning pieces) of text with think blocks that start lines."""
    answers: list[str] = []
    thoughts: list[str] = []
    pos = 0
    while (found := _next_outside_code(text, _LINE_THINK, pos)) is not None:
        answers.append(text[pos : found.start()])
        thought, pos = _think_body(text, found.end())
        thoughts.append(thought)
    answers.append(text[pos:])
    return answers, thoughts


def _think_body(text: str, start: int) -> tuple[str, int]:
    """(reasoning, end) after an opening tag; an unclosed block runs to the end of the output."""
    close = text.find(_THINK_CLOSE, start)
    if close == -1:
        return text[start:], len(text)
    return text[start:close], close + len(_THINK_CLOSE)


# ---------------------------------------------------------------------------------------------
# Tool calls written as text


class TextToolCall(NamedTuple):
    """A call found in text: the name as written, and the arguments as JSON text."""

    name: str
    arguments: str


@dataclass(frozen=True)
class _Parsed:
    call: TextToolCall
    end: int


_TOOL_CALL_OPEN, _TOOL_CALL_CLOSE = "<tool_call>", "</tool_call>"
_FUNCTION_HEAD = re.compile(r"<function=([^>\n]+)>")
_FUNCTION_CLOSE = "</function>"
_PARAMETER_HEAD = re.compile(r"<parameter=([^>\n]+)>")
_PARAMETER_CLOSE = "</parameter>"
_NAME_FIELD = re.compile(r'"name"\s*:\s*"((?:[^"\\\n]|\\.)*)"')
_ARGUMENTS_FIELD = re.compile(r'"(?:arguments|parameters)"\s*:\s*')
_DECODER = json.JSONDecoder(strict=False)
# Where a value with no `</parameter>` after it ends: at the next markup of any call.
_VALUE_STOPS = ("<parameter=", _FUNCTION_CLOSE, _TOOL_CALL_CLOSE, "<function=", _TOOL_CALL_OPEN)


def extract_text_tool_calls(text: str, tool_names: Collection[str]) -> tuple[str, list[TextToolCall]]:
    """(text with the calls cut out, the calls in order) for calls a model wrote as text.

    Formats read:
    - Hermes / Qwen2.5: `<tool_call>{"name": ..., "arguments": {...}}</tool_call>`. The key may
      be "parameters"; a string value is taken as the arguments' JSON text (double encoding is
      undone later by parse_arguments); with neither key, the object's other keys are the
      arguments. Several objects may share one block.
    - Qwen3-Coder: `<tool_call><function=NAME><parameter=KEY>\nVALUE\n</parameter>...</function>
      </tool_call>`. Values are raw text, less exactly one leading and one trailing newline, and
      come back as a JSON object of strings (validate_arguments coerces them by schema). A value
      ends at the first `</parameter>`, so it cannot contain that text; when no `</parameter>`
      follows at all, it ends at the next `<parameter=`, `</function>`, `</tool_call>`,
      `<function=` or `<tool_call>`.
    - `<function=NAME>{json}</function>` (the Llama 3.1 style), inside `<tool_call>` or bare.

    A bare `<function=NAME>` (no `<tool_call>` around it) counts only when NAME resolves to one
    of `tool_names` (see resolve_tool_name), since without the wrapper it could be prose. Any
    closing tag may be missing: stop tokens swallow them. Markup inside markdown code is an
    example, not a call, and stays in the text. A call with broken JSON is still returned, its
    argument text raw, so the model can be told what is wrong; markup in which no name can be
    found stays in the text as it was.
    """
    calls: list[TextToolCall] = []
    kept: list[str] = []
    pos = cursor = 0
    while (start := _next_outside_code(text, _CALL_START, pos)) is not None:
        found, end = _parse_call(text, start.start(), tool_names)
        if not found:
            pos = start.end()
            continue
        kept.append(text[cursor : start.start()])
        calls += found
        pos = cursor = end
    kept.append(text[cursor:])
    return _join(kept), calls


def _parse_call(text: str, start: int, tool_names: Collection[str]) -> tuple[list[TextToolCall], int]:
    """(calls, end) for markup at `start`; no calls if it is not a call after all."""
    if text.startswith(_TOOL_CALL_OPEN, start):
        return _parse_block(text, start + len(_TOOL_CALL_OPEN))
    head = _FUNCTION_HEAD.match(text, start)
    if head is None or resolve_tool_name(head.group(1).strip(), tool_names) is None:
        return [], start
    parsed = _parse_function(text, start)
    if parsed is None:
        return [], start
    return [parsed.call], _skip_closer(text, parsed.end, _TOOL_CALL_CLOSE)


def _parse_block(text: str, pos: int) -> tuple[list[TextToolCall], int]:
    """The calls in one `<tool_call>` block whose body starts at `pos`, and the block's end."""
    calls: list[TextToolCall] = []
    while (parsed := _parse_one(text, _skip_ws(text, pos))) is not None:
        calls.append(parsed.call)
        pos = parsed.end
    return calls, _skip_closer(text, pos, _TOOL_CALL_CLOSE)


def _parse_one(text: str, pos: int) -> _Parsed | None:
    if text.startswith("<function=", pos):
        return _parse_function(text, pos)
    if text.startswith("{", pos):
        return _parse_json_call(text, pos)
    return None


def _parse_json_call(text: str, pos: int) -> _Parsed | None:
    try:
        value, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        return _parse_broken_json_call(text, pos)
    call = _call_from_object(value)
    return None if call is None else _Parsed(call, end)


def _call_from_object(value: Any) -> TextToolCall | None:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str) or not value["name"].strip():
        return None
    key = next((k for k in ("arguments", "parameters") if k in value), None)
    arguments = value[key] if key else {k: v for k, v in value.items() if k != "name"}
    as_text = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return TextToolCall(value["name"].strip(), as_text)


def _parse_broken_json_call(text: str, pos: int) -> _Parsed | None:
    """A Hermes call whose JSON does not parse: the name found by pattern, the arguments raw.

    The body runs to `</tool_call>`, or to the next `<tool_call>` or the end when the close is
    missing. If "name" follows "arguments" in a broken object, the raw arguments include it and
    fail to parse: the model then hears its arguments are broken, which they are.
    """
    end = _find_first(text, pos, (_TOOL_CALL_CLOSE, _TOOL_CALL_OPEN))
    body = text[pos:end]
    name = _NAME_FIELD.search(body)
    if name is None or not _unescape(name.group(1)).strip():
        return None
    return _Parsed(TextToolCall(_unescape(name.group(1)).strip(), _raw_arguments(body)), end)


def _raw_arguments(body: str) -> str:
    """The text after `"arguments":` less the call object's own closing brace, if present."""
    key = _ARGUMENTS_FIELD.search(body)
    if key is None:
        return body.strip()  # the whole object: its own keys are the arguments, or the error shows
    raw = body[key.end() :].rstrip()
    masked, _ = mask_strings(body)
    balanced = masked.count("{") == masked.count("}")
    return raw[:-1].rstrip() if balanced and raw.endswith("}") else raw


def _unescape(escaped: str) -> str:
    try:
        return str(json.loads(f'"{escaped}"'))
    except ValueError:
        return escaped


def _parse_function(text: str, pos: int) -> _Parsed | None:
    """A `<function=NAME>` call at `pos`, with XML parameters or a JSON body."""
    head = _FUNCTION_HEAD.match(text, pos)
    if head is None or not head.group(1).strip():
        return None
    body = _skip_ws(text, head.end())
    if text.startswith("{", body):
        arguments, end = _function_json(text, body)
    else:
        arguments, end = _function_parameters(text, head.end())
    call = TextToolCall(head.group(1).strip(), arguments)
    return _Parsed(call, _skip_closer(text, end, _FUNCTION_CLOSE))


def _function_json(text: str, pos: int) -> tuple[str, int]:
    try:
        _, end = _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        end = _find_first(text, pos, (_FUNCTION_CLOSE, _TOOL_CALL_CLOSE, _TOOL_CALL_OPEN))
    return text[pos:end].strip(), end


def _function_parameters(text: str, pos: int) -> tuple[str, int]:
    """The `<parameter=KEY>` values from `pos` on, as a JSON object of strings; the last wins."""
    values: dict[str, str] = {}
    while (head := _PARAMETER_HEAD.match(text, _skip_ws(text, pos))) is not None:
        values[head.group(1).strip()], pos = _parameter_value(text, head.end())
    return json.dumps(values, ensure_ascii=False), pos


def _parameter_value(text: str, pos: int) -> tuple[str, int]:
    close = text.find(_PARAMETER_CLOSE, pos)
    if close == -1:
        close = end = _find_first(text, pos, _VALUE_STOPS)
    else:
        end = close + len(_PARAMETER_CLOSE)
    value = text[pos:close]
    # The template writes "\n" + value + "\n"; exactly those two are markup, not value.
    value = value[1:] if value.startswith("\n") else value
    return (value[:-1] if value.endswith("\n") else value), end


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _skip_closer(text: str, pos: int, closer: str) -> int:
    """Past `closer` if only whitespace stands before it; else `pos` (the closer was swallowed)."""
    at = _skip_ws(text, pos)
    return at + len(closer) if text.startswith(closer, at) else pos


def _find_first(text: str, pos: int, needles: tuple[str, ...]) -> int:
    found = [i for i in (text.find(n, pos) for n in needles) if i != -1]
    return min(found, default=len(text))
