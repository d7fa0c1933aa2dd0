"""The command line contract: flags, exit codes, one-line errors, no traceback, no network at start."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import run_freehold

from freehold import __version__
from freehold.testing import ScriptedServer, Turn


def test_version(repo, env):
    run = run_freehold(["--version"], repo, env)
    assert (run.code, run.stdout) == (0, f"freehold {__version__}\n")


def test_help_lists_the_exit_codes(repo, env):
    run = run_freehold(["--help"], repo, env)
    assert run.code == 0 and "4 model endpoint unreachable" in run.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (["-p", "x", "--max-turns", "lots"], "argument --max-turns: invalid int value"),
        (["-p", "x", "--permission-mode", "yolo"], "argument --permission-mode: invalid choice"),
        (["-p", "x", "--api-key", "sk"], "unrecognized arguments: --api-key sk"),
        (["-p", "x"], "no model endpoint"),
        (["-p", "x", "--endpoint", "localhost:8000"], "endpoint must be an http"),
        (["-p", "x", "--continue", "--resume", "a"], "not allowed with argument"),
        (["-p", "x", "--endpoint", "http://127.0.0.1:1/v1", "--resume", "nope"], "no session 'nope'"),
        (["-p", "   "], "empty prompt"),
        ([], "empty prompt"),  # no -p and no terminal: standard input is the prompt, and it is empty
        (["-p", "x", "--allowedTools", "Bash(curl:*"], "unbalanced parentheses in rules"),
        (["-p", "x", "--disallowedTools", "Bash()"], "flag --disallowedTools: 'Bash()' is not a rule"),
    ],
)
def test_usage_errors_exit_2_in_one_line(repo, env, args, message):
    proc = subprocess.run([sys.executable, "-m", "freehold", *args], cwd=repo, env=env, capture_output=True,
                          text=True, input="")
    assert proc.returncode == 2, proc.stderr
    assert message in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_bad_config_file_exits_2_naming_it(repo, env, tmp_path):
    cfg = tmp_path / "config" / "freehold" / "config.toml"
    cfg.parent.mkdir(parents=True)
    cfg.write_text("[model]\ntimeout = 'soon'\n")
    run = run_freehold(["-p", "x"], repo, env)
    assert run.code == 2 and str(cfg) in run.stderr and "timeout must be a number" in run.stderr


def test_json_consumers_get_a_result_object_even_for_early_errors(repo, env):
    run = run_freehold(["-p", "x", "--output-format", "json"], repo, env)
    assert run.code == 2
    assert run.result()["is_error"] is True and "no model endpoint" in run.result()["result"]


def test_prompt_from_standard_input(repo, env):
    with ScriptedServer([Turn("piped ok", expect="from a pipe")]) as server:
        run = run_freehold(["-p", "--endpoint", server.url, "--model", "m"], repo, env, stdin="from a pipe\n")
    assert (run.code, run.stdout) == (0, "piped ok\n")


def test_api_key_from_the_environment_only(repo, env):
    env["FREEHOLD_API_KEY"] = "sk-from-env"
    with ScriptedServer([Turn("ok")]) as server:
        run = run_freehold(["-p", "x", "--endpoint", server.url, "--model", "m"], repo, env)
    assert run.code == 0
    assert b"sk-from-env" not in server.chat_requests[0].body


NO_NETWORK = """
import socket, sys
events = []
sys.addaudithook(lambda name, args: events.append((name, args)) if name.startswith("socket.") else None)
from freehold.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("SOCKETS", [e for e in events if e[0] in ("socket.connect", "socket.getaddrinfo", "socket.__new__")])
"""


@pytest.mark.parametrize("args", [["--version"], ["--help"], ["-p", "x"]])
def test_no_network_at_start_up(repo, env, args):
    proc = subprocess.run([sys.executable, "-c", NO_NETWORK, *args], cwd=repo, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL)
    assert "SOCKETS []" in proc.stdout


def test_only_the_endpoint_is_contacted(repo, env):
    with ScriptedServer([Turn("ok")]) as server:
        proc = subprocess.run([sys.executable, "-c", NO_NETWORK, "-p", "x", "--endpoint", server.url, "--model", "m"],
                              cwd=repo, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    connects = [line for line in proc.stdout.splitlines() if line.startswith("SOCKETS")][0]
    assert "socket.connect" in connects
    assert connects.count("socket.connect") == connects.count(f"('127.0.0.1', {port})")


def test_allowed_tools_let_exactly_those_commands_run_headless(repo, env):
    from freehold.testing import Call

    turns = [Turn("", (Call("Bash", {"command": "echo allowed-ran"}),)),
             Turn("", (Call("Bash", {"command": "echo x && touch not-allowed"}),), expect="allowed-ran"),
             Turn("Done.", expect="headless with no one to approve it")]
    with ScriptedServer(turns) as server:
        run = run_freehold(["-p", "x", "--endpoint", server.url, "--model", "m",
                            "--allowedTools", "Bash(echo:*), Read"], repo, env)
    assert run.code == 0, run.stderr
    assert not (repo / "not-allowed").exists()
