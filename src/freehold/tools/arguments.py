"""A tool call's argument JSON, as a model wrote it: parsed, and repaired only where the repair
is unambiguous. Every refusal says what the model should send instead."""

from __future__ import annotations

import json
import re
from typing import Any

from freehold.tools.schema import ArgumentsError

__all__ = ["mask_strings", "parse_arguments"]

_FENCED = re.compile(r"```[\w+-]*[ \t]*\n(.*?)\n?[ \t]*```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")
_SINGLE_QUOTE = re.compile(r"[{\[,:]\s*'")
_COMMENT = re.compile(r"//|/\*")
_PYTHON_LITERAL = re.compile(r"\b(True|False|None)\b")


def parse_arguments(raw: str) -> dict[str, Any]:
    """A tool call's arguments from their JSON text. Raises ArgumentsError saying what to fix.

    Repairs, each unambiguous:
    - empty or whitespace-only text means no arguments: {}
    - a markdown code fence around the whole text is removed
    - a JSON string whose content is a JSON object (double encoding) is decoded once more
    - raw control characters (newlines, tabs) inside strings are kept as they are
    - a comma before `}` or `]` is dropped
    - closers missing at the very end (a stop token cut the output) are added, but only when
      the text ends after a complete value: not inside a string, nor after `,` `:` `[` `{`,
      where more was surely coming
    Everything else is refused with the reason: single quotes, comments, Python literals
    (True/False/None), NaN/Infinity, text after the object, and anything that is not an object.
    """
    text = _unfence(raw.strip())
    if not text:
        return {}
    value = _load(text)
    if isinstance(value, str) and value.strip().startswith("{"):
        value = _load(value.strip())
    if not isinstance(value, dict):
        raise ArgumentsError(f'arguments must be a JSON object, got {_json_kind(value)}: send {{"key": value, ...}}')
    return value


def _unfence(text: str) -> str:
    fenced = _FENCED.fullmatch(text)
    return fenced.group(1).strip() if fenced else text


def _load(text: str) -> Any:
    """The JSON value of `text`, repaired if need be; ArgumentsError if it cannot be."""
    try:
        return _loads(text)
    except json.JSONDecodeError as error:
        repaired = _repaired(text)
        if repaired is not None:
            try:
                return _loads(repaired)
            except json.JSONDecodeError:
                pass
        raise ArgumentsError(_explain(text, error)) from None


def _loads(text: str) -> Any:
    return json.loads(text, strict=False, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ArgumentsError(f"arguments contain {name}, which JSON does not allow: use a number or null")


def _repaired(text: str) -> str | None:
    """`text` with missing final closers added and trailing commas dropped; None if no repair fits."""
    masked, in_string = mask_strings(text)
    closers = _missing_closers(masked)
    if in_string or closers is None:
        return None
    if closers and masked.rstrip()[-1:] in (",", ":", "[", "{"):
        return None
    masked, text = masked + closers, text + closers
    cuts = [m.start() for m in _TRAILING_COMMA.finditer(masked)]
    for cut in reversed(cuts):
        text = text[:cut] + text[cut + 1 :]
    return text


def mask_strings(text: str) -> tuple[str, bool]:
    """`text` with the inside of every JSON string blanked, same length; and whether it ends in one."""
    out: list[str] = []
    in_string = escaped = False
    for char in text:
        if in_string and not escaped and char == '"':
            in_string = False
        elif not in_string and char == '"':
            in_string = True
            out.append(char)
            continue
        escaped = in_string and not escaped and char == "\\"
        out.append(" " if in_string else char)
    return "".join(out), in_string


def _missing_closers(masked: str) -> str | None:
    """The closers that would balance `masked` at its end; None if a closer does not match."""
    expected: list[str] = []
    for char in masked:
        if char in "{[":
            expected.append("}" if char == "{" else "]")
        elif char in "}]" and (not expected or expected.pop() != char):
            return None
    return "".join(reversed(expected))


def _explain(text: str, error: json.JSONDecodeError) -> str:
    """What is wrong with argument text that no repair fixed, put so the model can fix it."""
    masked, in_string = mask_strings(text)
    if in_string:
        return "the arguments end inside a string: the output was cut off. Send the whole call again."
    if _SINGLE_QUOTE.search(masked):
        return "the arguments use single quotes; JSON needs double quotes around keys and strings."
    if _COMMENT.search(masked):
        return "the arguments contain a comment; JSON has none. Remove it."
    if literal := _PYTHON_LITERAL.search(masked):
        word = {"True": "true", "False": "false", "None": "null"}[literal.group(1)]
        return f"the arguments contain the Python literal {literal.group(1)}; JSON spells it {word}."
    if _missing_closers(masked):
        return "the arguments are incomplete (closing brackets missing): the output was cut off."
    near = text[max(0, error.pos - 20) : error.pos + 20].replace("\n", "\\n")
    return f"the arguments are not valid JSON: {error.msg} at line {error.lineno} column {error.colno}, near `{near}`."


def _json_kind(value: Any) -> str:
    """How the model would name a non-object JSON value's type."""
    if value is None:
        return "null"
    return {bool: "a boolean", list: "an array", str: "a string"}.get(type(value), "a number")
