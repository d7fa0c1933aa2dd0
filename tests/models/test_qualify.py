"""`freehold qualify` against the scripted server over real HTTP: well-formed calls score 100%,
broken ones are told apart raw and repaired, text answers score as what they are."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence

import pytest

from freehold.cli import main
from freehold.messages import Message, Reply, ToolCall
from freehold.models.qualify import (
    CASES,
    LONG_TEXT,
    TOOLS,
    UNICODE_TEXT,
    Report,
    render_table,
    run_battery,
)
from freehold.testing import Call, ScriptedServer, Turn
from freehold.tools.base import Tool

NESTED = {"query": "connection pool", "filters": {"language": "python", "paths": ["src", "tests"], "max_results": 5}}

WELL_FORMED = [
    Turn("", (Call("get_weather", {"city": "Lisbon"}),)),
    Turn("", (Call("get_weather", {"city": "Oslo"}), Call("search", {"query": "borrow checker"}))),
    Turn("", (Call("search", NESTED),)),
    Turn("", (Call("write_file", {"path": "notes/long.txt", "content": LONG_TEXT}),)),
    Turn("", (Call("write_file", {"path": "notes/unicode.txt", "content": UNICODE_TEXT}),)),
    Turn("Paris."),
]

# The unicode text as a JSON string body, but with its newline and tab left raw, as models write them.
ESCAPED_BUT_RAW_CONTROLS = UNICODE_TEXT.replace("\\", "\\\\").replace('"', '\\"')

# What small models send: each case broken a different way.
BROKEN = [
    Turn("", (Call("get_weather", '{"city": "Lisbon",}'),)),  # trailing comma: repaired
    Turn("", (Call("Get_Weather", {"city": "Oslo"}), Call("search", {"query": "borrow checker"}))),  # name's case
    Turn("", (Call("search", json.dumps({**NESTED, "filters": json.dumps(NESTED["filters"])})),)),  # object as string
    Turn("", (Call("write_file", "{'path': 'notes/long.txt', 'content': 'Line 00'}"),)),  # single quotes: refused
    Turn("", (Call("write_file", '{"path": "notes/unicode.txt", "content": "' + ESCAPED_BUT_RAW_CONTROLS + '"}'),)),
    Turn("", (Call("search", {"query": "capital of France"}),)),  # a call where none was needed
]

TEXT_ONLY = [Turn("I would rather not use tools.") for _ in CASES]


@pytest.fixture
def clean(tmp_path, monkeypatch):
    for name in ("FREEHOLD_ENDPOINT", "FREEHOLD_MODEL", "FREEHOLD_STREAM", "FREEHOLD_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FREEHOLD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("FREEHOLD_POLICY", "")
    monkeypatch.setenv("FREEHOLD_RETRY_BACKOFF", "0")
    monkeypatch.chdir(tmp_path)


def freehold(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`freehold qualify ...` in this process, through the real command line (one line on stderr for an error)."""
    code = main(["qualify", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def scores(server: ScriptedServer, capsys, *extra: str) -> dict:
    code, out, err = freehold(["--endpoint", server.url, "--format", "json", *extra], capsys)
    assert (code, err) == (0, ""), err
    return json.loads(out)


def table(report: dict) -> list[tuple]:
    keys = ("calls", "raw_valid", "repaired_valid", "right_behaviour", "args_intact")
    return [(c["case"], *(c[k] for k in keys)) for c in report["cases"]] + [("total", *(report["total"][k] for k in keys))]


def test_well_formed_calls_score_100_percent(clean, capsys):
    with ScriptedServer(list(WELL_FORMED)) as server:
        report = scores(server, capsys)
    assert table(report) == [
        ("single", 1, 100, 100, 100, 100),
        ("parallel", 2, 100, 100, 100, 100),
        ("nested", 1, 100, 100, 100, 100),
        ("long", 1, 100, 100, 100, 100),
        ("unicode", 1, 100, 100, 100, 100),
        ("no_tool", 0, None, None, 100, None),
        ("total", 6, 100, 100, 100, 100),
    ]
    assert report["model"] == "scripted-model" and report["runs"] == 1
    sent = [r.json() for r in server.chat_requests]
    assert [m["content"] for r in sent for m in r["messages"] if m["role"] == "user"] == [c.prompt for c in CASES]
    assert all([t["function"]["name"] for t in r["tools"]] == ["get_weather", "write_file", "search"] for r in sent)


def test_broken_calls_are_invalid_raw_and_valid_once_repaired_where_a_repair_is_safe(clean, capsys):
    with ScriptedServer(list(BROKEN)) as server:
        report = scores(server, capsys)
    assert table(report) == [
        ("single", 1, 0, 100, 100, 100),
        ("parallel", 2, 50, 100, 100, 100),
        ("nested", 1, 0, 100, 100, 100),
        ("long", 1, 0, 0, 100, 0),  # single quotes are not guessed at: invalid either way
        ("unicode", 1, 0, 100, 100, 100),
        ("no_tool", 1, 100, 100, 0, None),
        ("total", 7, 28.6, 85.7, 83.3, 80),
    ]
    long_call = report["cases"][3]["runs"][0]["calls"][0]
    assert long_call["arguments"].startswith("{'path'") and "single quotes" in long_call["problem"]
    assert report["cases"][1]["runs"][0]["calls"][0] | {"arguments": ""} == {
        "name": "Get_Weather", "arguments": "", "raw_valid": False, "repaired_valid": True,
        "resolved": "get_weather", "problem": None}


def test_text_answers_are_right_only_where_no_tool_was_needed(clean, capsys):
    with ScriptedServer(list(TEXT_ONLY)) as server:
        report = scores(server, capsys)
    assert table(report) == [
        ("single", 0, None, None, 0, 0),
        ("parallel", 0, None, None, 0, 0),
        ("nested", 0, None, None, 0, 0),
        ("long", 0, None, None, 0, 0),
        ("unicode", 0, None, None, 0, 0),
        ("no_tool", 0, None, None, 100, None),
        ("total", 0, None, None, 16.7, 0),
    ]
    assert report["cases"][0]["runs"][0]["text"] == "I would rather not use tools."


def test_the_table_shows_the_same_numbers(clean, capsys):
    with ScriptedServer(list(BROKEN)) as server:
        code, out, err = freehold(["--endpoint", server.url, "--model", "small-model"], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"qualify: small-model at {server.url}, 1 run per case",
        "case        calls  raw valid  repaired valid  right behaviour  args intact",
        "single          1         0%            100%             100%         100%",
        "parallel        2        50%            100%             100%         100%",
        "nested          1         0%            100%             100%         100%",
        "long            1         0%              0%             100%           0%",
        "unicode         1         0%            100%             100%         100%",
        "no_tool         1       100%            100%               0%            -",
        "total           7      28.6%           85.7%            83.3%          80%",
    ]


def test_runs_repeat_each_case_and_average(clean, capsys):
    turns = [WELL_FORMED[0], BROKEN[0]] + [t for pair in zip(WELL_FORMED[1:], WELL_FORMED[1:]) for t in pair]
    with ScriptedServer(turns) as server:
        report = scores(server, capsys, "--runs", "2")
    assert table(report)[0] == ("single", 2, 50, 100, 100, 100)
    assert report["total"]["turns"] == 12 and len(server.chat_requests) == 12


def test_a_request_the_server_refuses_is_a_failed_turn_and_the_battery_goes_on(clean, capsys):
    turns = [Turn(expect="not in any request")] + list(WELL_FORMED[1:])
    with ScriptedServer(turns) as server:
        code, out, err = freehold(["--endpoint", server.url], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines()[2].split() == ["single", "0", "-", "-", "0%", "0%"]
    assert out.splitlines()[-1].startswith("1 request(s) failed; the first: model endpoint")


def test_every_request_failing_exits_1(clean, capsys):
    with ScriptedServer([Turn(expect="not in any request") for _ in CASES]) as server:
        code, out, err = freehold(["--endpoint", server.url, "--model", "m"], capsys)
    assert code == 1 and out == "" and err.count("\n") == 1 and "every qualify request failed" in err


def test_an_endpoint_refused_by_policy_exits_3_before_any_connection(clean, capsys, monkeypatch, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[models]\nallow = ["https://llm.example"]\n')
    monkeypatch.setenv("FREEHOLD_POLICY", str(policy))
    with ScriptedServer(list(WELL_FORMED)) as server:
        code, out, err = freehold(["--endpoint", server.url], capsys)
    assert code == 3 and out == "" and err.count("\n") == 1
    assert f"{policy}: [models] allow does not include http://127.0.0.1" in err
    assert server.requests == []


def test_an_unreachable_endpoint_exits_4(clean, capsys, monkeypatch):
    monkeypatch.setenv("FREEHOLD_MAX_RETRIES", "0")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = freehold(["--endpoint", f"http://127.0.0.1:{port}/v1", "--model", "m"], capsys)
    assert code == 4 and out == "" and err.count("\n") == 1 and "failed after 1 attempts" in err


def test_bad_usage_exits_2(clean, capsys):
    assert freehold(["--model", "m"], capsys)[0] == 2  # no endpoint anywhere
    code, _, err = freehold(["--endpoint", "http://127.0.0.1:9/v1", "--runs", "0"], capsys)
    assert code == 2 and "--runs must be at least 1" in err
    assert freehold(["--format", "yaml"], capsys)[0] == 2


class InProcess:
    """Any object with complete(messages, tools): here, one that answers each prompt perfectly,
    as a grammar-constrained local model would be hoped to."""

    def __init__(self) -> None:
        self.tools_seen: list[str] = []

    def complete(self, messages: Sequence[Message], tools: Sequence[Tool]) -> Reply:
        self.tools_seen = [t.name for t in tools]
        case = next(c for c in CASES if c.prompt == messages[-1].content)
        calls = [ToolCall(f"call_{i}", e.name, json.dumps(e.arguments, ensure_ascii=False))
                 for i, e in enumerate(case.calls)]
        return Reply("" if calls else "Paris.", calls)


def test_the_battery_runs_against_any_model_in_process():
    model = InProcess()
    report = Report("in-process", "(this process)", 1, run_battery(model))
    assert model.tools_seen == [t.name for t in TOOLS]
    assert render_table(report).splitlines()[-1].split() == ["total", "6", "100%", "100%", "100%", "100%"]


@pytest.mark.parametrize("name, arguments, raw, repaired", [
    ("get_weather", '{"city": "Oslo", "unit": "celsius"}', True, True),
    ("get_weather", '```json\n{"city": "Oslo"}\n```', False, True),  # a fence: repaired
    ("get_weather", '{"city": "Oslo", "unit": null}', False, True),  # null dropped: a coercion
    ("get_weather", '{"city": "Oslo"', False, True),  # cut short after a value: closed
    ("get_weather", '{"city": "Oslo", "unit": "kelvin"}', False, False),  # not in the enum
    ("get_weather", '{"town": "Oslo"}', False, False),  # unknown key, required key missing
    ("weather", '{"city": "Oslo"}', False, False),  # no such tool, however loosely matched
    ("WRITE-FILE", '{"path": "a", "content": "b"}', False, True),
])
def test_each_call_is_scored_raw_and_repaired(name, arguments, raw, repaired):
    from freehold.models.qualify import score_call

    score = score_call(ToolCall("call_0", name, arguments))
    assert (score.raw_valid, score.repaired_valid) == (raw, repaired), score.problem
    assert (score.problem is None) == repaired
