"""The audit log of real `freehold -p` sessions: complete, matching what was sent, verifiable."""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CALC, run_freehold

from freehold.testing import Call, ScriptedServer, Turn


def fix_turns() -> list[Turn]:
    return [
        Turn("Reading.", (Call("Read", {"file_path": "calc.py"}),)),
        Turn("", (Call("Edit", {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}),)),
        Turn("", (Call("Bash", {"command": "echo checked"}),)),
        Turn("Fixed."),
    ]


def audit_dir(env: dict[str, str]) -> Path:
    return Path(env["FREEHOLD_HOME"]) / "audit"


def records(env: dict[str, str]) -> list[dict]:
    return [json.loads(line) for line in (audit_dir(env) / "log.jsonl").read_bytes().split(b"\n") if line]


def session(repo: Path, env: dict[str, str], *extra: str, turns=None):
    with ScriptedServer(turns or fix_turns()) as server:
        run = run_freehold(["-p", "Fix it.", "--endpoint", server.url, "--model", "m", "--permission-mode", "auto",
                            "--output-format", "json", *extra], repo, env)
    return run, server


def test_a_session_is_recorded_whole_and_verifies(repo, env):
    run, server = session(repo, env)
    assert run.code == 0, run.stderr
    log = records(env)
    kinds = [r["type"] for r in log]
    assert kinds[0] == "session_start" and kinds[-1] == "session_end"
    assert kinds.count("model_request") == 4 and kinds.count("model_response") == 4
    assert kinds.count("tool_call") == 3 and kinds.count("tool_result") == 3 and kinds.count("file_change") == 1
    assert all(r["session"] == run.result()["session_id"] for r in log)
    assert [r["seq"] for r in log] == list(range(len(log)))
    verify = run_freehold(["audit", "verify"], repo, env)
    assert verify.code == 0 and verify.stdout.startswith(f"ok: {len(log)} records")


def test_request_sha256_is_the_hash_of_the_bytes_the_server_received(repo, env):
    run, server = session(repo, env)
    assert run.code == 0, run.stderr
    recorded = [r for r in records(env) if r["type"] == "model_request"]
    received = [r.body for r in server.chat_requests]
    assert [r["request_sha256"] for r in recorded] == [hashlib.sha256(b).hexdigest() for b in received]
    assert [r["body"].encode() for r in recorded] == received


def test_decisions_and_file_changes_are_recorded(repo, env):
    run, _ = session(repo, env)
    assert run.code == 0, run.stderr
    log = records(env)
    calls = [r for r in log if r["type"] == "tool_call"]
    assert [c["decision"] for c in calls] == ["allow"] * 3
    assert all(c["decided_by"].startswith("mode 'auto'") for c in calls)
    change = next(r for r in log if r["type"] == "file_change")
    assert change["path"] == "calc.py"
    assert change["sha256_before"] == hashlib.sha256(CALC.encode()).hexdigest()
    assert change["sha256_after"] == hashlib.sha256((repo / "calc.py").read_bytes()).hexdigest()
    # each decision is on disk before the call's result exists
    order = [(r["type"], r.get("id")) for r in log if r["type"] in ("tool_call", "tool_result")]
    assert order[::2] == [("tool_call", c["id"]) for c in calls]


def test_a_refusal_is_recorded_with_what_decided_it(repo, env):
    turns = [Turn("", (Call("Bash", {"command": "touch x"}),)), Turn("Not allowed.")]
    with ScriptedServer(turns) as server:
        run = run_freehold(["-p", "x", "--endpoint", server.url, "--model", "m"], repo, env)
    assert run.code == 0, run.stderr
    call = next(r for r in records(env) if r["type"] == "tool_call")
    assert call["decision"] == "deny" and call["decided_by"] == "mode 'default': asks a person, none present (headless)"


def test_a_policy_refusal_is_recorded(repo, env, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[models]\nallow = ["http://127.0.0.1:8000"]\n')
    run = run_freehold(["-p", "x", "--endpoint", "http://127.0.0.1:8001/v1"], repo, env | {"FREEHOLD_POLICY": str(policy)})
    assert run.code == 3
    refusal = records(env)[-1]
    assert refusal["type"] == "refusal" and "127.0.0.1:8001" in refusal["rule"]


@pytest.mark.parametrize("damage", ["byte", "delete", "swap"])
def test_damage_to_any_record_fails_verify_naming_it(repo, env, damage):
    run, _ = session(repo, env)
    assert run.code == 0, run.stderr
    path = audit_dir(env) / "log.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    target = random.Random(damage).randrange(1, len(lines) - 1)
    if damage == "byte":
        line = bytearray(lines[target])
        line[len(line) // 2] ^= 0x01
        lines[target] = bytes(line)
    elif damage == "delete":
        del lines[target]
    else:
        lines[target], lines[target + 1] = lines[target + 1], lines[target]
    path.write_bytes(b"".join(lines))
    verify = run_freehold(["audit", "verify"], repo, env)
    assert verify.code == 1
    assert f"record {target}" in verify.stderr or f"line {target + 1}" in verify.stderr


def test_show_prints_the_session_readably_and_export_gives_jsonl(repo, env):
    run, _ = session(repo, env)
    session_id = run.result()["session_id"]
    shown = run_freehold(["audit", "show", session_id], repo, env)
    assert shown.code == 0
    assert "user: Fix it." in shown.stdout and "- return a - b" in shown.stdout and "+ return a + b" in shown.stdout
    assert "tool Bash: allow by mode 'auto'" in shown.stdout and "file calc.py:" in shown.stdout
    exported = run_freehold(["audit", "export", "--format", "jsonl", "--session", session_id], repo, env)
    lines = [json.loads(line) for line in exported.stdout.splitlines()]
    assert lines == [r for r in records(env) if r["session"] == session_id]
    missing = run_freehold(["audit", "show", "nope"], repo, env)
    assert missing.code == 2 and "no records of session 'nope'" in missing.stderr


def test_an_unwritable_log_stops_freehold_before_it_acts(repo, env):
    directory = audit_dir(env)
    directory.parent.mkdir(parents=True)
    directory.write_text("not a directory")  # the log cannot be created
    with ScriptedServer(fix_turns()) as server:
        run = run_freehold(["-p", "x", "--endpoint", server.url, "--model", "m", "--permission-mode", "auto"], repo, env)
    assert run.code == 1 and "audit" in run.stderr and run.stderr.count("\n") == 1
    assert server.chat_requests == [] and (repo / "calc.py").read_text() == CALC


def test_a_policy_may_allow_running_unrecorded(repo, env, tmp_path):
    directory = audit_dir(env)
    directory.parent.mkdir(parents=True)
    directory.write_text("not a directory")
    policy = tmp_path / "policy.toml"
    policy.write_text("[audit]\nrequired = false\n")
    with ScriptedServer([Turn("ok")]) as server:
        run = run_freehold(["-p", "x", "--endpoint", server.url, "--model", "m"], repo,
                           env | {"FREEHOLD_POLICY": str(policy)})
    assert run.code == 0 and "running unrecorded" in run.stderr


def test_sessions_killed_at_random_points_leave_a_verifiable_log(repo, env):
    """kill -9 real sessions mid-flight; after each, the log verifies and no committed record is lost."""
    rng = random.Random(11)
    committed = 0
    turns = [Turn("", (Call("Bash", {"command": "echo step"}),)) for _ in range(30)] + [Turn("done")]
    for _ in range(int(os.environ.get("FREEHOLD_KILL_LOOP", "25"))):
        with ScriptedServer(list(turns)) as server:
            proc = subprocess.Popen([sys.executable, "-m", "freehold", "-p", "go", "--endpoint", server.url,
                                     "--model", "m", "--permission-mode", "auto"], cwd=repo, env=env,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.05, 0.6))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        path = audit_dir(env) / "log.jsonl"
        before = path.read_bytes()[: committed] if path.exists() else b""
        verify = run_freehold(["audit", "verify"], repo, env)
        assert verify.code == 0, verify.stderr
        after = path.read_bytes()
        assert after.startswith(before)  # nothing committed was lost or rewritten
        committed = after.rfind(b"\n") + 1


def test_a_retried_request_is_recorded_again_with_the_same_hash(repo, env):
    turns = fix_turns()
    turns.insert(1, Turn(fault="http_500"))
    run, server = session(repo, env, turns=turns)
    assert run.code == 0, run.stderr
    hashes = [r["request_sha256"] for r in records(env) if r["type"] == "model_request"]
    assert len(hashes) == 5 and hashes[1] == hashes[2]
    assert hashes == [hashlib.sha256(r.body).hexdigest() for r in server.chat_requests]
