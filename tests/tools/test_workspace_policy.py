"""The policy's file and network limits, enforced inside the tools themselves."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from freehold.tools.base import ToolError, Workspace
from freehold.tools.files import EDIT, READ, WRITE
from freehold.tools.search import GLOB, grep
from freehold.tools.shell import BASH

DENY_READ = ("**/.env", "**/*.pem", "**/id_rsa*")


@pytest.fixture
def ws(tmp_path):
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / ".env").write_text("API_TOKEN=hunter2hunter2\n")
    (tmp_path / "server.pem").write_text("-----BEGIN PRIVATE KEY-----\nTOKEN\n")
    (tmp_path / "app" / "main.py").write_text("TOKEN = load()\n")
    (tmp_path / ".git" / "hooks").mkdir(parents=True)
    return Workspace.at(tmp_path, DENY_READ, (".git/hooks/**",))


@pytest.mark.parametrize("path", ["app/.env", "server.pem", "./app/../app/.env"])
def test_read_and_edit_refuse_denied_files(ws, path):
    with pytest.raises(ToolError, match="refused by policy: .* matches files.deny_read"):
        READ.run(ws, {"file_path": path})
    with pytest.raises(ToolError, match="refused by policy"):
        EDIT.run(ws, {"file_path": path, "old_string": "TOKEN", "new_string": "X"})


def test_a_symlink_to_a_denied_file_is_refused(ws):
    (ws.root / "innocent.txt").symlink_to(ws.root / "app" / ".env")
    with pytest.raises(ToolError, match="refused by policy"):
        READ.run(ws, {"file_path": "innocent.txt"})


def test_denied_outside_the_workspace_too(ws, tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    (home / "id_rsa").write_text("secret key")
    with pytest.raises(ToolError, match="refused by policy"):
        READ.run(ws, {"file_path": str(home / "id_rsa")})


@pytest.mark.parametrize("backend", ["rg", "python"])
@pytest.mark.parametrize("mode", ["files_with_matches", "content", "count"])
def test_grep_never_shows_denied_files(ws, backend, mode):
    out = grep(ws, {"pattern": "TOKEN", "output_mode": mode, "glob": "*"}, backend=backend)
    assert "main.py" in out
    assert ".env" not in out and "server.pem" not in out and "hunter2" not in out
    with pytest.raises(ToolError, match="refused by policy"):
        grep(ws, {"pattern": "TOKEN", "path": "app/.env"}, backend=backend)


def test_glob_lists_names_only(ws):
    assert "server.pem" in GLOB.run(ws, {"pattern": "*.pem"})


def test_write_refuses_deny_write(ws):
    with pytest.raises(ToolError, match="matches files.deny_write '.git/hooks/\\*\\*'"):
        WRITE.run(ws, {"file_path": ".git/hooks/pre-commit", "content": "curl evil"})
    assert not (ws.root / ".git" / "hooks" / "pre-commit").exists()


def listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []

    def accept():
        try:
            conn, _ = server.accept()
            accepted.append(conn)
        except OSError:
            pass

    threading.Thread(target=accept, daemon=True).start()
    return server, accepted


CONNECT = "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2); print('CONNECTED')\""


def test_commands_reach_the_network_when_allowed(tmp_path):
    server, accepted = listener()
    with server:
        port = server.getsockname()[1]
        out = BASH.run(Workspace.at(tmp_path, network=True), {"command": CONNECT.format(port=port)})
    assert "CONNECTED" in out


needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None and not os.environ.get("FREEHOLD_REQUIRE_BWRAP"),
    reason="bubblewrap is not installed (CI installs it and sets FREEHOLD_REQUIRE_BWRAP)",
)


@needs_bwrap
def test_commands_have_no_network_when_the_policy_says_none(tmp_path):
    server, accepted = listener()
    with server:
        port = server.getsockname()[1]
        out = BASH.run(Workspace.at(tmp_path, network=False), {"command": CONNECT.format(port=port)})
    assert "CONNECTED" not in out and "Exit code: 1" in out
    assert accepted == []


NO_BWRAP = """
import sys
from freehold.tools.base import ToolError, Workspace
from freehold.tools.shell import BASH
try:
    print(BASH.run(Workspace.at(sys.argv[1], network=False), {"command": "touch ran"}))
except ToolError as exc:
    print("REFUSED", exc)
"""


def test_without_bubblewrap_commands_are_refused_not_run_unconfined(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path / "empty-path"))
    out = subprocess.run([sys.executable, "-c", NO_BWRAP, str(tmp_path)], env=env, capture_output=True,
                         text=True, timeout=60).stdout
    assert out.startswith("REFUSED") and "bubblewrap (bwrap) is not installed" in out
    assert not (tmp_path / "ran").exists()


@needs_bwrap
def test_grep_whose_only_match_is_a_file_the_sandbox_hides_finds_nothing(tmp_path):
    # ripgrep, confined, cannot open the hidden .env and exits 2 without a word: that is "no matches".
    (tmp_path / ".env").write_text("TOKEN=hunter2hunter2\n")
    assert grep(Workspace.at(tmp_path), {"pattern": "TOKEN", "glob": "*"}, backend="rg") == "No matches for TOKEN (glob *)"


GLOBS = ("*.pem", "**/.env", "secrets/**", "app/config/*.yml", "/private/**", "build/", "**/id_rsa*")
NAMES = ("a.py", ".env", "key.pem", "id_rsa.pub", "x.yml", "notes.txt")
DIRS = ("", "app", "app/config", "secrets", "secrets/deep", "build", "private", "src/build", "pkg/.env")


def test_many_files_at_once_are_judged_as_read_denied_judges_each(tmp_path):
    """Workspace.readable (the code index's filter) must agree with read_denied file by file."""
    ws = Workspace.at(tmp_path / "repo", deny_read=GLOBS, home=tmp_path / "home",
                      private=(tmp_path / "repo" / "private",))
    paths = [f"{d}/{n}".lstrip("/") for d in DIRS for n in NAMES]
    expected = [p for p in paths if ws.read_denied(ws.root / p) is None]
    assert ws.readable(paths) == expected
    assert {"a.py", "app/a.py", "notes.txt"} <= set(expected)
    assert not {"key.pem", "secrets/a.py", "app/config/x.yml", "build/a.py", "private/a.py"} & set(expected)
