"""Compaction end to end: `freehold -p` on a task whose tool outputs far exceed a 4k-token
window, against the scripted server (which refuses any request over its window). The early
fact the answer needs survives in the summaries; each compaction is in the audit log."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_freehold

from freehold.testing import Call, ScriptedServer, Turn

FACT = "The magic number is 4242."


def long_repo(repo: Path) -> None:
    (repo / "facts.txt").write_text(FACT + "\n")
    for k in range(4):  # about 2 KB each: the window holds the system prompt, tools and one of these
        (repo / f"part{k}.py").write_text("".join(f"def f{k}_{i}(x):\n    return x * {i} + {k}\n" for i in range(40)))


def read(path: str, expect: str | None = None) -> Turn:
    return Turn("", (Call("Read", {"file_path": path}),), expect=expect)


def summary(n: int) -> Turn:
    return Turn(f"Goal: find the magic number and read the parts. Facts learned: the magic number is 4242. "
                f"Files touched: none. Next step: read part{n}.py.", expect="summarize this conversation")


def audit(env: dict[str, str], kind: str) -> list[dict]:
    log = Path(env["FREEHOLD_HOME"]) / "audit" / "log.jsonl"
    return [r for r in map(json.loads, log.read_text().splitlines()) if r["type"] == kind]


def run(server: ScriptedServer, repo: Path, env: dict[str, str]):
    with server:
        return run_freehold(["-p", "Find the magic number, then read every part file.", "--endpoint", server.url,
                             "--model", "m", "--permission-mode", "auto", "--output-format", "json"],
                            repo, {**env, "FREEHOLD_INDEX": "0"})


def test_a_task_larger_than_the_window_completes_through_model_summaries(repo, env):
    long_repo(repo)
    turns = [read("facts.txt"), read("part0.py", expect="4242"),
             summary(1), read("part1.py", expect="<conversation-summary>"),
             summary(2), read("part2.py", expect="<conversation-summary>"),
             summary(3), Turn("The magic number is 4242; I read all the parts.", expect="4242")]
    server = ScriptedServer(turns, context_window=4096)
    result = run(server, repo, env).result()
    assert result["subtype"] == "success" and "4242" in result["result"]
    assert server.over_window == [] and server.turns == []
    bodies = [r.body for r in server.chat_requests]
    assert FACT.encode() not in bodies[-1]  # the Read of facts.txt is long gone; its fact is in the summary
    compactions = audit(env, "compaction")
    assert [c["by"] for c in compactions] == ["model"] * 3
    assert all(c["removed_messages"] > 0 and len(c["removed_sha256"]) == 64 for c in compactions)


def test_when_the_model_cannot_summarize_a_digest_made_without_it_keeps_the_facts(repo, env):
    long_repo(repo)
    turns = [read("facts.txt"), read("part0.py", expect="4242"),
             Turn(fault="http_500"), Turn("The magic number is 4242.", expect="The magic number is 4242")]
    server = ScriptedServer(turns, context_window=4096)
    result = run(server, repo, {**env, "FREEHOLD_MAX_RETRIES": "0"}).result()
    assert result["subtype"] == "success"
    compactions = audit(env, "compaction")
    assert len(compactions) == 1 and compactions[0]["by"].startswith("digest: model endpoint")
    assert "facts.txt" in compactions[0]["summary"] and FACT in compactions[0]["summary"]
