"""Project memory end to end: AGENTS.md and its kin reach the model in the first request's
system prompt, general first and the nearest last, within the budget; a resumed session keeps
the memory it began with."""

from __future__ import annotations

import json
import subprocess

from conftest import run_freehold, write

from freehold.testing import ScriptedServer, Turn


def system_of(server: ScriptedServer, n: int = 0) -> str:
    return json.loads(server.chat_requests[n].body)["messages"][0]["content"]


def test_memory_files_reach_the_first_request_in_order(repo, env, tmp_path):
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(tmp_path / "config", "freehold/AGENTS.md", "USER: answer in British English.")
    write(repo, "AGENTS.md", "ROOT: run tests with pytest -q.")
    write(repo, "CLAUDE.md", "CLAUDE: never touch generated files.")
    write(repo, "pkg/QWEN.md", "QWEN: pkg uses tabs.")
    write(repo, "pkg/FREEHOLD.md", "FREEHOLD: pkg is vendored upstream code.")
    write(repo, "other/AGENTS.md", "OTHER: not on the way to the working directory.")
    with ScriptedServer([Turn("Noted.")]) as server:
        run = run_freehold(["-p", "hello", "--endpoint", server.url, "--model", "m"], repo / "pkg", env)
    assert run.code == 0, run.stderr
    system = system_of(server)
    order = [system.index(tag) for tag in ("USER:", "ROOT:", "CLAUDE:", "QWEN:", "FREEHOLD:")]
    assert order == sorted(order) and "OTHER:" not in system
    assert "# Project instructions" in system


def test_a_memory_file_the_policy_denies_is_left_out(repo, env, tmp_path):
    write(repo, "AGENTS.md", "PUBLIC: fine.")
    write(repo, "FREEHOLD.md", "PRIVATE: token abc.")
    write(tmp_path / "config", "freehold/config.toml", '[files]\ndeny_read = ["**/FREEHOLD.md"]\n')
    with ScriptedServer([Turn("Noted.")]) as server:
        assert run_freehold(["-p", "hello", "--endpoint", server.url, "--model", "m"], repo, env).code == 0
    system = system_of(server)
    assert "PUBLIC: fine." in system and "PRIVATE" not in system


def test_a_budget_keeps_the_nearest_file_and_a_resumed_session_keeps_its_memory(repo, env, tmp_path):
    write(repo, "AGENTS.md", "GENERAL " + "x" * 4000)
    write(tmp_path / "config", "freehold/config.toml", "[context]\nmemory_tokens = 300\n")
    with ScriptedServer([Turn("One."), Turn("Two.")]) as server:
        assert run_freehold(["-p", "first", "--endpoint", server.url, "--model", "m"], repo, env).code == 0
        write(repo, "AGENTS.md", "CHANGED since the session began")
        assert run_freehold(["-p", "again", "--continue", "--endpoint", server.url, "--model", "m"],
                            repo, env).code == 0
    first, resumed = system_of(server, 0), system_of(server, 1)
    assert "GENERAL xxx" in first and len(first) < 2000  # cut to the budget, with a note
    assert resumed == first  # the prefix the server cached still holds
