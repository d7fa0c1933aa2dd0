"""Nothing hidden in what is sent: request bodies depend only on the conversation, the
configuration and the working directory, and --dump-requests shows them byte for byte."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Run

from freehold.testing import Call, ScriptedServer, Turn


def read_only_turns() -> list[Turn]:
    return [
        Turn("", (Call("Read", {"file_path": "calc.py"}),)),
        Turn("", (Call("Grep", {"pattern": "def ", "output_mode": "content"}),)),
        Turn("", (Call("Glob", {"pattern": "*.py"}),)),
        Turn("add subtracts."),
    ]


def can_set_hostname() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--uts", "hostname", "probe-host"], capture_output=True)
    return probe.returncode == 0


def run_as(env: dict[str, str], repo: Path, url: str, dump: Path, hostname: str | None) -> Run:
    argv = [sys.executable, "-m", "freehold", "-p", "What does add do?", "--endpoint", url, "--model", "m",
            "--dump-requests", str(dump)]
    if hostname:
        argv = ["unshare", "--uts", "sh", "-c", f'hostname {hostname} && exec "$@"', "sh", *argv]
    proc = subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    return Run(proc.returncode, proc.stdout, proc.stderr)


def test_bodies_are_identical_across_machines_time_zones_and_locales(repo, env, tmp_path):
    hostnames = ("build-host-1", "laptop-of-someone-else") if can_set_hostname() else (None, None)
    people = [
        {"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "USER": "alice", "HOME": str(tmp_path / "alice")},
        {"TZ": "Asia/Tokyo", "LANG": "de_DE.UTF-8", "LC_ALL": "de_DE.UTF-8", "USER": "bob",
         "HOME": str(tmp_path / "bob"), "http_proxy": "http://proxy.corp.example:3128"},
    ]
    bodies = []
    for n, (extra, hostname) in enumerate(zip(people, hostnames)):
        run_env = env | extra | {"FREEHOLD_HOME": str(tmp_path / f"home{n}")}
        with ScriptedServer(read_only_turns(), port=0) as server:
            run = run_as(run_env, repo, server.url, tmp_path / f"dump{n}", hostname)
        assert run.code == 0, run.stderr
        bodies.append([r.body for r in server.chat_requests])
    first, second = bodies
    assert len(first) == 4
    # the servers listened on different ports, but the bodies do not name the endpoint
    assert first == second


def test_dump_requests_writes_exactly_what_was_sent(repo, env, tmp_path):
    dump = tmp_path / "dump"
    with ScriptedServer(read_only_turns()) as server:
        run = run_as(env, repo, server.url, dump, None)
    assert run.code == 0, run.stderr
    files = sorted(dump.glob("*.json"))
    assert [f.read_bytes() for f in files] == [r.body for r in server.chat_requests]
    import hashlib

    assert all(f.name.split("-")[1].startswith(hashlib.sha256(f.read_bytes()).hexdigest()[:16]) for f in files)


def test_a_retry_is_dumped_as_the_identical_bytes(repo, env, tmp_path):
    dump = tmp_path / "dump"
    turns = read_only_turns()
    turns.insert(1, Turn(fault="http_500"))
    with ScriptedServer(turns) as server:
        run = run_as(env, repo, server.url, dump, None)
    assert run.code == 0, run.stderr
    files = sorted(dump.glob("*.json"))
    assert len(files) == 5 and files[1].read_bytes() == files[2].read_bytes()


@pytest.mark.parametrize("needle", ["Asia/Tokyo", "alice", "bob", "de_DE", "build-host", "proxy.corp"])
def test_nothing_about_the_user_is_in_the_prompt(repo, env, tmp_path, needle):
    extra = {"TZ": "Asia/Tokyo", "LANG": "de_DE.UTF-8", "USER": "alice", "LOGNAME": "bob",
             "http_proxy": "http://proxy.corp.example:3128"}
    with ScriptedServer(read_only_turns()) as server:
        run = run_as(env | extra, repo, server.url, tmp_path / "d", "build-host" if can_set_hostname() else None)
    assert run.code == 0, run.stderr
    assert all(needle.encode() not in r.body for r in server.chat_requests)
