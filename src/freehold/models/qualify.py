"""`freehold qualify`: how well a model makes tool calls, measured on a fixed battery of prompts.

Each case is one turn: a system prompt, one user prompt and three small tools. Every call the
model makes is scored twice:

    raw valid        the name is a tool's exact name, `json.loads` reads the argument text as an
                     object, and the schema accepts it with no coercion
    repaired valid   valid after what the agent does (tools.Toolbox.prepare): the name resolved
                     (`resolve_tool_name`), the JSON repaired (`parse_arguments`), the values
                     coerced (`validate_arguments`)

and every turn twice:

    right behaviour  the tools it should call, each once, and nothing else (with names resolved);
                     a question that needs no tool answered in text with no call
    args intact      the values the prompt dictated arrived exactly (after Freehold's handling):
                     the long text unchanged, the unicode unchanged, the nested filters whole

`run_battery(model)` takes anything with `complete(messages, tools) -> Reply`: the HTTP client
for a server, or a model run in this process (a grammar-constrained llama.cpp model scores its
"with constraints" numbers through the very same call).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from freehold.errors import ModelError
from freehold.messages import Message, Reply, ToolCall
from freehold.tools.arguments import parse_arguments
from freehold.tools.base import Tool, ToolError, Workspace
from freehold.tools.schema import ArgumentsError, resolve_tool_name, validate_arguments

__all__ = ["CASES", "TOOLS", "Case", "CaseResult", "Completer", "Report", "run_battery"]


class Completer(Protocol):
    def complete(self, messages: Sequence[Message], tools: Sequence[Tool]) -> Reply: ...


# -- the tools and the cases -------------------------------------------------------------------


def _never_run(workspace: Workspace, args: dict[str, Any]) -> str:
    raise ToolError("qualify scores calls; it never runs them")


def _tool(name: str, description: str, properties: dict[str, Any], required: list[str]) -> Tool:
    schema = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return Tool(name, description, schema, _never_run, read_only=True)


TOOLS: tuple[Tool, ...] = (
    _tool("get_weather", "Current weather for a city.",
          {"city": {"type": "string", "description": "City name"},
           "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, ["city"]),
    _tool("write_file", "Write text to a file, replacing what it held.",
          {"path": {"type": "string", "description": "Relative file path"},
           "content": {"type": "string", "description": "The whole new content"}}, ["path", "content"]),
    _tool("search", "Search the code base.",
          {"query": {"type": "string"},
           "filters": {"type": "object", "description": "Optional narrowing",
                       "properties": {"language": {"type": "string"},
                                      "paths": {"type": "array", "items": {"type": "string"}},
                                      "max_results": {"type": "integer"}},
                       "additionalProperties": False}}, ["query"]),
)

SYSTEM = ("You are a helpful assistant with tools. Call a tool when a request needs one, with exactly the "
          "values the user gives; answer in plain text when no tool is needed.")
LONG_TEXT = "\n".join(f"Line {i:02d}: the quick brown fox jumps over the lazy dog, then rests." for i in range(30))
UNICODE_TEXT = 'Grüße aus Zürich — 東京タワー 🚀🦀\nHe said "hi" and left a C:\\temp\\path\ttab; naïve café ½ ≠ ≈'


@dataclass(frozen=True)
class Expected:
    """A call the case wants: the tool's name, and argument values the prompt dictated."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    name: str
    prompt: str
    calls: tuple[Expected, ...]  # empty: the right answer is text, no call

    @property
    def dictated(self) -> tuple[Expected, ...]:
        """The calls whose argument values the prompt spells out."""
        return tuple(e for e in self.calls if e.arguments)


CASES: tuple[Case, ...] = (
    Case("single", "What is the weather in Lisbon right now?", (Expected("get_weather", {"city": "Lisbon"}),)),
    Case("parallel", 'Do both now, in this one turn: get the weather in Oslo, and search the code for "borrow checker".',
         (Expected("get_weather", {"city": "Oslo"}), Expected("search", {"query": "borrow checker"}))),
    Case("nested", 'Search the code for "connection pool", with the filters language "python", paths '
         '["src", "tests"] and max_results 5.',
         (Expected("search", {"query": "connection pool",
                              "filters": {"language": "python", "paths": ["src", "tests"], "max_results": 5}}),)),
    Case("long", f"Write this text, exactly as it is, to notes/long.txt:\n<<<\n{LONG_TEXT}\n>>>",
         (Expected("write_file", {"path": "notes/long.txt", "content": LONG_TEXT}),)),
    Case("unicode", f"Write this text, exactly as it is, to notes/unicode.txt:\n<<<\n{UNICODE_TEXT}\n>>>",
         (Expected("write_file", {"path": "notes/unicode.txt", "content": UNICODE_TEXT}),)),
    Case("no_tool", "What is the capital of France? Answer in one word.", ()),
)


# -- scoring -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CallScore:
    name: str
    arguments: str  # the argument text exactly as the model wrote it
    raw_valid: bool
    repaired_valid: bool
    resolved: str | None = None  # the tool the name resolves to
    value: dict[str, Any] | None = None  # the arguments after repair and coercion, when valid
    problem: str | None = None  # why it is not valid even after repair


@dataclass(frozen=True)
class TurnScore:
    text: str
    calls: tuple[CallScore, ...]
    right: bool
    intact: bool | None  # None: the case dictates no argument values
    error: str | None = None  # the request failed (the server answered with an error)


def score_call(call: ToolCall, tools: Sequence[Tool] = TOOLS) -> CallScore:
    by_name = {tool.name: tool for tool in tools}
    resolved = resolve_tool_name(call.name, list(by_name))
    if resolved is None:
        return CallScore(call.name, call.arguments, False, False, problem=f"no tool named {call.name!r}")
    schema = by_name[resolved].parameters
    try:
        value = validate_arguments(parse_arguments(call.arguments), schema)
    except ArgumentsError as exc:
        return CallScore(call.name, call.arguments, False, False, resolved, problem=str(exc).replace("\n", " "))
    raw = resolved == call.name and _raw_fits(call.arguments, schema)
    return CallScore(call.name, call.arguments, raw, True, resolved, value)


def _raw_fits(text: str, schema: dict[str, Any]) -> bool:
    """Strict JSON that the schema takes as it is: compared as JSON, since 5.0 == 5 in Python."""
    try:
        args = json.loads(text)
        return isinstance(args, dict) and _canonical(validate_arguments(args, schema)) == _canonical(args)
    except (ValueError, ArgumentsError):
        return False


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def score_turn(case: Case, reply: Reply, tools: Sequence[Tool] = TOOLS) -> TurnScore:
    calls = tuple(score_call(call, tools) for call in reply.tool_calls)
    wanted = sorted(e.name for e in case.calls)
    right = sorted(c.resolved or c.name for c in calls) == wanted
    intact = all(any(_carries(c, e) for c in calls) for e in case.dictated) if case.dictated else None
    return TurnScore(reply.text, calls, right, intact)


def _carries(call: CallScore, expected: Expected) -> bool:
    value = call.value or {}
    return call.resolved == expected.name and all(value.get(k) == v for k, v in expected.arguments.items())


# -- running and reporting ---------------------------------------------------------------------


def _percent(count: int, out_of: int) -> float | None:
    return round(100 * count / out_of, 1) if out_of else None


@dataclass(frozen=True)
class Scores:
    """Percentages over some turns; None where nothing was there to count."""

    turns: Sequence[TurnScore]

    @property
    def calls(self) -> int:
        return sum(len(t.calls) for t in self.turns)

    def _calls_where(self, test: Callable[[CallScore], bool]) -> float | None:
        return _percent(sum(test(c) for t in self.turns for c in t.calls), self.calls)

    @property
    def raw_valid(self) -> float | None:
        return self._calls_where(lambda c: c.raw_valid)

    @property
    def repaired_valid(self) -> float | None:
        return self._calls_where(lambda c: c.repaired_valid)

    @property
    def right(self) -> float | None:
        return _percent(sum(t.right for t in self.turns), len(self.turns))

    @property
    def intact(self) -> float | None:
        counted = [t.intact for t in self.turns if t.intact is not None]
        return _percent(sum(counted), len(counted))

    def as_dict(self) -> dict[str, Any]:
        return {"turns": len(self.turns), "calls": self.calls, "raw_valid": self.raw_valid,
                "repaired_valid": self.repaired_valid, "right_behaviour": self.right, "args_intact": self.intact}


@dataclass(frozen=True)
class CaseResult:
    case: Case
    turns: tuple[TurnScore, ...]

    @property
    def scores(self) -> Scores:
        return Scores(self.turns)


@dataclass(frozen=True)
class Report:
    model: str
    endpoint: str
    runs: int
    cases: tuple[CaseResult, ...]

    @property
    def total(self) -> Scores:
        return Scores([t for result in self.cases for t in result.turns])

    @property
    def errors(self) -> list[str]:
        return [t.error for result in self.cases for t in result.turns if t.error]


def run_battery(model: Completer, runs: int = 1, cases: Sequence[Case] = CASES,
                on_turn: Callable[[Case, int], None] | None = None) -> tuple[CaseResult, ...]:
    """Each case `runs` times against `model`. A request the server refuses (ModelError) is a
    failed turn and the battery goes on; an unreachable endpoint or a policy refusal ends it."""
    results = []
    for case in cases:
        turns = []
        for run in range(runs):
            if on_turn is not None:
                on_turn(case, run)
            turns.append(_one_turn(model, case))
        results.append(CaseResult(case, tuple(turns)))
    return tuple(results)


def _one_turn(model: Completer, case: Case) -> TurnScore:
    try:
        reply = model.complete([Message("system", SYSTEM), Message("user", case.prompt)], TOOLS)
    except ModelError as exc:
        return TurnScore("", (), False, False if case.dictated else None, str(exc))
    return score_turn(case, reply)


COLUMNS = ("case", "calls", "raw valid", "repaired valid", "right behaviour", "args intact")


def render_table(report: Report) -> str:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:g}%"

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        return "  ".join([first.ljust(10), *(cell.rjust(len(column)) for cell, column in zip(rest, COLUMNS[1:]))])

    def row(name: str, s: Scores) -> str:
        return line((name, str(s.calls), pct(s.raw_valid), pct(s.repaired_valid), pct(s.right), pct(s.intact)))

    runs = f"{report.runs} run{'s' if report.runs != 1 else ''} per case"
    lines = [f"qualify: {report.model} at {report.endpoint}, {runs}", line(COLUMNS)]
    lines += [row(result.case.name, result.scores) for result in report.cases]
    lines.append(row("total", report.total))
    if report.errors:
        lines.append(f"{len(report.errors)} request(s) failed; the first: {report.errors[0]}")
    return "\n".join(lines)


def to_json(report: Report) -> dict[str, Any]:
    """The table's numbers, plus every turn's text and calls as the model wrote them."""
    def turn(t: TurnScore) -> dict[str, Any]:
        calls = [{"name": c.name, "arguments": c.arguments, "raw_valid": c.raw_valid,
                  "repaired_valid": c.repaired_valid, "resolved": c.resolved, "problem": c.problem} for c in t.calls]
        return {"text": t.text, "calls": calls, "right_behaviour": t.right, "args_intact": t.intact, "error": t.error}

    cases = [{"case": r.case.name, **r.scores.as_dict(), "runs": [turn(t) for t in r.turns]} for r in report.cases]
    return {"model": report.model, "endpoint": report.endpoint, "runs": report.runs, "cases": cases,
            "total": report.total.as_dict()}
