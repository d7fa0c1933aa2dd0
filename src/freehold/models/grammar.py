"""JSON schema to GBNF (llama.cpp's grammar format), and the grammar of a Hermes tool call.

Written here rather than taken from llama-cpp-python, whose converter lets raw control
characters (U+0000-U+001F) into JSON strings: a weak model emits them often and the result
does not parse. Covered: the subset our tool schemas use, namely objects (`properties`,
`required`), string (`maxLength`, `minLength`), integer, number, boolean, null, array
(`items`, `maxItems`, `minItems`), `enum`, `const`, `anyOf`/`oneOf` and a list of types; any
other schema accepts any JSON value. The grammar is stricter than the schema in two ways that
keep it small: properties come in a fixed order (required first) and undeclared properties are
never generated, as if `additionalProperties` were always false.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from freehold.tools.base import Tool

__all__ = ["schema_grammar", "tool_call_grammar"]

# A space or nothing wherever JSON allows whitespace: both styles, and no room to ramble.
_PRIMITIVES = {
    "ws": '" "?',
    "hex": "[0-9a-fA-F]",
    # Every \u escape but the surrogates, which would decode to a string no UTF-8 can hold.
    "escape": '"\\\\" (["\\\\/bfnrt] | "u" ([0-9a-cA-CefEF] hex hex hex | [dD] [0-7] hex hex))',
    "char": '[^"\\\\\\x00-\\x1f\\x7f] | escape',
    "boolean": '"true" | "false"',
    "null": '"null"',
    # At most 16 digits and no exponent: nothing json.loads would turn into inf.
    "integer": '"-"? ([0-9] | [1-9] [0-9]{1,15})',
    "number": 'integer ("." [0-9]{1,15})?',
}
_TOOL_CALL = "<tool_call>"


class _Grammar:
    """Rules by name, each body once: a schema seen twice shares one rule."""

    def __init__(self, max_string: int | None) -> None:
        self.max_string = max_string
        self.rules: dict[str, str] = {"root": ""}
        self._named: dict[str, str] = {}

    def rule(self, hint: str, body: str) -> str:
        if body in self._named:
            return self._named[body]
        base = re.sub(r"[^a-zA-Z0-9-]+", "-", hint).strip("-") or "r"
        name, n = base, 1
        while name in self.rules or name in _PRIMITIVES:
            n += 1
            name = f"{base}-{n}"
        self.rules[name] = body
        self._named[body] = name
        return name

    def text(self, root: str) -> str:
        self.rules["root"] = root
        used = {**self.rules, **_PRIMITIVES}
        return "".join(f"{name} ::= {body}\n" for name, body in used.items())

    # -- values ----------------------------------------------------------------------------

    def value(self, schema: Any, hint: str) -> str:
        """The name of a rule for one value that fits `schema`."""
        if not isinstance(schema, dict):
            return self.any_value()
        if "const" in schema:
            return self.rule(hint, literal(json.dumps(schema["const"], ensure_ascii=False)))
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            choices = (literal(json.dumps(v, ensure_ascii=False)) for v in schema["enum"])
            return self.rule(hint, " | ".join(choices))
        options = schema.get("anyOf") or schema.get("oneOf")
        if isinstance(options, list) and options:
            return self.rule(hint, " | ".join(self.value(o, f"{hint}-{i}") for i, o in enumerate(options)))
        kind = schema.get("type")
        if isinstance(kind, list) and kind:
            return self.rule(hint, " | ".join(self.typed({**schema, "type": k}, k, hint) for k in kind))
        return self.typed(schema, kind, hint)

    def typed(self, schema: dict[str, Any], kind: Any, hint: str) -> str:
        if kind in ("integer", "number", "boolean", "null"):
            return str(kind)
        if kind == "string":
            return self.string(schema.get("minLength", 0), schema.get("maxLength", self.max_string))
        if kind == "array":
            return self.array(schema, hint)
        if kind == "object" and isinstance(schema.get("properties"), dict):
            return self.object(schema, hint)
        if kind == "object":
            return self.any_object()
        return self.any_value()

    def string(self, low: int = 0, high: int | None = None) -> str:
        name = "string" if (low, high) == (0, None) else f"string-{low}-{high if high is not None else 'n'}"
        return self.rule(name, f'"\\"" {repeat("char", low, high)} "\\""')

    def array(self, schema: dict[str, Any], hint: str) -> str:
        item = self.value(schema.get("items"), f"{hint}-item")
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        return self.rule(hint, f'"[" ws {_list_of(item, low, high)} ws "]"')

    def object(self, schema: dict[str, Any], hint: str) -> str:
        properties: dict[str, Any] = schema["properties"]
        required = [k for k in properties if k in schema.get("required", ())]
        optional = [k for k in properties if k not in required]
        pair = {k: self.rule(f"{k}-kv", f'{literal(json.dumps(k, ensure_ascii=False))} ":" ws '
                             f'{self.value(properties[k], f"{hint}-{k}")}') for k in properties}
        body = _members([pair[k] for k in required], [pair[k] for k in optional])
        return self.rule(hint, f'"{{" ws {body} ws "}}"' if body else '"{" ws "}"')

    # -- any JSON --------------------------------------------------------------------------

    def any_value(self) -> str:
        if "value" not in self.rules:
            self.rules["value"] = "(placeholder)"  # reserve the name: the body refers to itself
            parts = [self.any_object(), self.rule("array", f'"[" ws {_list_of("value", 0, None)} ws "]"'),
                     self.string(0, self.max_string), "number", "boolean", "null"]
            self.rules["value"] = " | ".join(parts)
        return "value"

    def any_object(self) -> str:
        if "object" not in self.rules:
            self.rules["object"] = "(placeholder)"
            pair = self.rule("pair", f'{self.string(0, self.max_string)} ":" ws {self.any_value()}')
            self.rules["object"] = f'"{{" ws {_list_of(pair, 0, None)} ws "}}"'
        return "object"


def _members(required: list[str], optional: list[str]) -> str:
    """Object members in order: all required ones, then each optional one or not.

    With nothing required, the first member present may be any optional one: one alternative
    per choice of first member, each followed by the later ones, each present or not.
    """
    if required:
        return " ".join([' "," ws '.join(required), *(f'("," ws {o})?' for o in optional)])
    if not optional:
        return ""
    starts = [" ".join([o, *(f'("," ws {later})?' for later in optional[i + 1:])]) for i, o in enumerate(optional)]
    return "(" + " | ".join(starts) + ")?"


def _list_of(item: str, low: int, high: int | None) -> str:
    """`low` to `high` items separated by commas, as a GBNF expression."""
    if high == 0:
        return ""
    rest = repeat(f'("," ws {item})', max(low - 1, 0), None if high is None else high - 1)
    return f"({item} {rest})" + ("" if low > 0 else "?")


def repeat(expr: str, low: int, high: int | None) -> str:
    if high is None:
        return f"{expr}*" if low == 0 else f"{expr}{{{low},}}"
    return f"{expr}{{{low},{high}}}"


def literal(text: str) -> str:
    """`text` as a GBNF string literal."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def schema_grammar(schema: dict[str, Any], *, max_string: int | None = None) -> str:
    """A grammar whose root is one JSON value that fits `schema` (the subset above).

    `max_string` bounds every string the schema leaves unbounded, in characters.
    """
    grammar = _Grammar(max_string)
    return grammar.text(grammar.value(schema, "value-root"))


# ---------------------------------------------------------------------------------------------
# Tool calls


def tool_call_grammar(tools: Sequence[Tool], *, allow_text: bool = True, max_string: int | None = None,
                      max_calls: int = 8) -> str:
    """A grammar for one reply: Hermes tool calls, or (when `allow_text`) an answer in text.

    A call is `<tool_call>\\n{"name": NAME, "arguments": ARGS}\\n</tool_call>` with NAME one of
    the tools and ARGS that tool's parameters; up to `max_calls` of them, a newline apart. Text
    may come before the calls, but never contains `<tool_call>` itself: every call the model
    makes is held to its schema. `max_string` bounds every string the schemas leave unbounded
    (None: no bound, since a bound would cut a file's content short without a word).
    """
    if not tools or max_calls < 1:
        raise ValueError("a tool call grammar needs at least one tool, and room for at least one call")
    grammar = _Grammar(max_string)
    calls = [grammar.rule(f"call-{tool.name}", _call_body(grammar, tool)) for tool in tools]
    call = grammar.rule("call", f'"{_TOOL_CALL}\\n{{\\"name\\": " ({" | ".join(calls)}) "}}\\n</tool_call>"')
    some_calls = grammar.rule("calls", f'{call} ("\\n" {call}){{0,{max_calls - 1}}}')
    if not allow_text:
        return grammar.text(some_calls)
    prose = _add_prose(grammar)
    return grammar.text(f"{some_calls} | {prose} {some_calls}?")


def _call_body(grammar: _Grammar, tool: Tool) -> str:
    name = literal(json.dumps(tool.name, ensure_ascii=False) + ', "arguments": ')
    return f"{name} {grammar.value(tool.parameters, f'args-{tool.name}')}"


def _add_prose(grammar: _Grammar) -> str:
    """Rules for non-empty text that does not contain `<tool_call>`; returns the root rule's name.

    A matcher for the one string, as rules: `prose-i` means the text so far ends with the first
    `i` characters of it. Any state may end the text; no state takes the last character.
    """
    target = _TOOL_CALL
    assert target.count("<") == 1 and target[0] == "<"  # so a '<' always goes back to prose-1
    grammar.rules["prose-0"] = '([^<] prose-0 | "<" prose-1)?'
    for i in range(1, len(target)):
        ahead = [f"{literal(target[i])} prose-{i + 1}"] if i < len(target) - 1 else []
        body = [*ahead, '"<" prose-1', f"[^<{_class_char(target[i])}] prose-0"]
        grammar.rules[f"prose-{i}"] = "(" + " | ".join(body) + ")?"
    return grammar.rule("prose", '[^<] prose-0 | "<" prose-1')


def _class_char(ch: str) -> str:
    return "\\" + ch if ch in "]\\^-" else ch
