"""Check a tool call's arguments against the tool's JSON schema: the small subset our tools use.

Supported: a `type: object` schema with `properties` (each of type string, integer, number,
boolean, object, or array with `items`), `enum`, `required`, and `additionalProperties: false`.
Other keywords are ignored, and a property with no (or an unknown) `type` accepts anything.
`ArgumentsError`, the one exception for arguments a model got wrong, lives here too.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from freehold.tools.base import ToolError

__all__ = ["ArgumentsError", "resolve_tool_name", "validate_arguments"]


class ArgumentsError(ToolError, ValueError):
    """The model's tool arguments cannot be used. The message says why, for the model to fix.

    A ToolError, so the agent returns it to the model as the call's result; a ValueError, since
    the arguments are a bad value. `problems` holds each reason on its own.
    """

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems) or (message,)

    @classmethod
    def listing(cls, problems: Sequence[str]) -> ArgumentsError:
        lines = "\n".join(f"- {p}" for p in problems)
        return cls(f"the arguments do not fit the tool's parameters:\n{lines}", problems)


def resolve_tool_name(name: str, names: Iterable[str]) -> str | None:
    """The tool `name` means: the exact name, else the one name equal to it ignoring case, `_` and `-`.

    "bash" -> "Bash", "READ" -> "Read", "web_fetch" -> "WebFetch". Nothing looser: "read_file"
    does not become "Read", and a loose match shared by two tools resolves to None.
    """
    candidates = list(names)
    if name in candidates:
        return name
    key = _loose(name)
    matches = [c for c in candidates if _loose(c) == key]
    return matches[0] if len(matches) == 1 else None


def _loose(name: str) -> str:
    return name.strip().casefold().replace("_", "").replace("-", "")


def validate_arguments(args: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """`args` checked against `schema`, with unambiguous coercions applied; a new dict.

    Coercions: "20" -> 20 and 1.0 -> 1 for integer; "20.5" -> 20.5 for number; "true"/"false"
    in any case -> bool for boolean; a string holding a JSON array (object) -> the list (dict)
    for array (object); the same for array items. A null given for an optional property is
    dropped, as if not given. Raises ArgumentsError listing every problem at once: missing
    required keys, wrong types, unknown keys (when additionalProperties is false), enum misses.
    """
    properties: dict[str, Any] = schema.get("properties", {})
    required: list[str] = schema.get("required", [])
    problems = [f"missing required argument '{key}'" for key in required if key not in args]
    problems += _unknown_keys(args, schema)
    out: dict[str, Any] = {}
    for key, value in args.items():
        if key not in properties:
            out[key] = value
        elif value is not None or key in required:
            out[key], problem = _check(value, properties[key], key)
            problems += [problem] if problem else []
    if problems:
        raise ArgumentsError.listing(problems)
    return out


def _unknown_keys(args: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    if schema.get("additionalProperties", True) is not False:
        return []
    valid = list(schema.get("properties", {}))
    unknown = [key for key in args if key not in valid]
    if not unknown:
        return []
    names = ", ".join(f"'{k}'" for k in unknown)
    word = "argument" if len(unknown) == 1 else "arguments"
    return [f"unknown {word} {names}; valid arguments are: {', '.join(valid) or '(none)'}"]


def _check(value: Any, prop: dict[str, Any], label: str) -> tuple[Any, str | None]:
    """(coerced value, problem or None) for one value against one property schema."""
    kind = prop.get("type")
    if isinstance(kind, str) and kind in _COERCIONS:
        coerced = _COERCIONS[kind](value)
        if coerced is _INVALID:
            return value, f"'{label}' must be {_TYPE_NAMES[kind]}, got {_describe(value)}"
        value = coerced
    if kind == "array" and isinstance(prop.get("items"), dict):
        value, problem = _check_items(value, prop["items"], label)
        if problem:
            return value, problem
    if "enum" in prop and value not in prop["enum"]:
        choices = ", ".join(json.dumps(v, ensure_ascii=False) for v in prop["enum"])
        return value, f"'{label}' must be one of {choices}; got {_describe(value)}"
    return value, None


def _check_items(items: list[Any], schema: dict[str, Any], label: str) -> tuple[list[Any], str | None]:
    checked = [_check(item, schema, f"{label}[{i}]") for i, item in enumerate(items)]
    problems = [p for _, p in checked if p]
    return [v for v, _ in checked], "; ".join(problems) or None


class _Invalid:
    """The sentinel a coercion returns when the value cannot be read as the type."""


_INVALID: Any = _Invalid()
_NUMBER = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")


def _as_string(value: Any) -> Any:
    return value if isinstance(value, str) else _INVALID


def _as_number(value: Any) -> Any:
    if isinstance(value, str):
        value = _number_in_text(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _INVALID
    return value


def _as_integer(value: Any) -> Any:
    value = _as_number(value)
    if isinstance(value, float):
        return int(value) if value.is_integer() else _INVALID
    return value


def _as_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return _INVALID


def _as_array(value: Any) -> Any:
    value = _json_in_text(value) if isinstance(value, str) else value
    return value if isinstance(value, list) else _INVALID


def _as_object(value: Any) -> Any:
    value = _json_in_text(value) if isinstance(value, str) else value
    return value if isinstance(value, dict) else _INVALID


def _number_in_text(text: str) -> Any:
    """The number a string spells in JSON syntax ("20", "-2.5e3"), else _INVALID."""
    text = text.strip()
    if not _NUMBER.fullmatch(text):
        return _INVALID
    number = json.loads(text)
    return number if math.isfinite(number) else _INVALID


def _json_in_text(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
    except ValueError:
        return _INVALID


_COERCIONS: dict[str, Callable[[Any], Any]] = {
    "string": _as_string,
    "integer": _as_integer,
    "number": _as_number,
    "boolean": _as_boolean,
    "array": _as_array,
    "object": _as_object,
}
_TYPE_NAMES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean (true or false)",
    "array": "an array",
    "object": "an object",
}


def _describe(value: Any) -> str:
    """A value as the model would recognise it: its JSON type and a short JSON rendering."""
    kind = _json_type(value)
    if value is None:
        return kind
    shown = json.dumps(value, ensure_ascii=False, default=str)
    return f"{kind} {shown if len(shown) <= 60 else shown[:57] + '...'}"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list | tuple) else "object"
