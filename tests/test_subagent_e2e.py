"""Subagents end to end against the scripted server: the Task tool runs a fresh agent whose
reads and tokens stay out of the main conversation; only its report comes back."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_freehold, write

from freehold.testing import Call, ScriptedServer, Turn

DETAIL = "a-detail-only-the-subagent-read"
REPORT = "The magic number is 4242 (facts.txt, line 1)."


def run(server: ScriptedServer, repo: Path, env: dict[str, str], *extra: str):
    with server:
        return run_freehold(["-p", "What is the magic number?", "--endpoint", server.url, "--model", "m",
                             "--output-format", "json", *extra], repo, {**env, "FREEHOLD_INDEX": "0"})


def test_a_subagents_work_stays_out_of_the_main_conversation(repo, env):
    write(repo, "facts.txt", f"The magic number is 4242.\n{DETAIL}\n")
    task = {"description": "find the number", "prompt": "Find the magic number in this repository; say where."}
    turns = [Turn("", (Call("Task", task),)),  # main
             Turn("", (Call("Grep", {"pattern": "magic"}),), expect="Find the magic number"),  # subagent
             Turn("", (Call("Read", {"file_path": "facts.txt"}),), expect="facts.txt"),
             Turn(REPORT, expect=DETAIL),
             Turn("It is 4242.", expect=REPORT)]  # main again
    server = ScriptedServer(turns)
    result = run(server, repo, env).result()
    assert result["subtype"] == "success" and result["result"] == "It is 4242."
    bodies = [json.loads(r.body) for r in server.chat_requests]
    sub = bodies[1]["messages"]
    assert [m["role"] for m in sub] == ["system", "user"] and "subagent" in sub[0]["content"]
    assert "What is the magic number?" not in json.dumps(sub)  # a fresh context
    assert {t["function"]["name"] for t in bodies[1]["tools"]} == {"Read", "Grep", "Glob"}  # read-only, no Task
    main = json.dumps(bodies[-1]["messages"])
    assert DETAIL not in main and "Grep" not in main.split("Task", 1)[1]  # only the report came back
    log = Path(env["FREEHOLD_HOME"]) / "audit" / "log.jsonl"
    started = [r for r in map(json.loads, log.read_text().splitlines()) if r["type"] == "subagent"]
    assert started[0]["agent"] == "general" and started[0]["description"] == "find the number"


def test_a_project_subagent_definition_is_used(repo, env):
    write(repo, ".freehold/agents/tests.md",
          "---\nname: tests\ndescription: finds tests\ntools: Grep\n---\nYou find tests in {root}.")
    task = {"description": "tests", "prompt": "Which tests cover add?", "subagent_type": "tests"}
    turns = [Turn("", (Call("Task", task),)), Turn("test_calc.py::test_add", expect="You find tests in"),
             Turn("test_add covers it.", expect="test_calc.py::test_add")]
    server = ScriptedServer(turns)
    assert run(server, repo, env).result()["subtype"] == "success"
    sub = json.loads(server.chat_requests[1].body)
    assert [t["function"]["name"] for t in sub["tools"]] == ["Grep"]
    assert str(repo) in sub["messages"][0]["content"]
