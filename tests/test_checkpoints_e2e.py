"""Checkpoints end to end: a session whose command deletes a file and whose edit changes another
is put back by `freehold rewind`, from the private store, without touching git."""

from __future__ import annotations

import subprocess
import zlib

from conftest import CALC, run_freehold, write

from freehold.testing import Call, ScriptedServer, Turn


def test_rewind_restores_what_a_command_deleted_and_an_edit_changed(repo, env):
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    write(repo, ".env", "TOKEN=never-copied\n")
    edit = {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}
    turns = [Turn("", (Call("Edit", edit),)), Turn("", (Call("Bash", {"command": "rm test_calc.py; echo made > new.txt"}),)),
             Turn("Done.")]
    with ScriptedServer(turns) as server:
        run = run_freehold(["-p", "go", "--endpoint", server.url, "--model", "m", "--permission-mode", "auto",
                            "--output-format", "json"], repo, env)
    session = run.result()["session_id"]
    assert not (repo / "test_calc.py").exists() and (repo / "new.txt").exists()
    listed = run_freehold(["rewind", session], repo, env)
    assert listed.code == 0 and "1  before Edit(calc.py)" in listed.stdout and "2  before Bash(rm" in listed.stdout
    back = run_freehold(["rewind", session, "2"], repo, env)  # before the command: the edit stays
    assert back.code == 0, back.stderr
    assert (repo / "test_calc.py").exists() and not (repo / "new.txt").exists()
    assert "return a + b" in (repo / "calc.py").read_text()
    assert run_freehold(["rewind", session, "1"], repo, env).code == 0
    assert (repo / "calc.py").read_text() == CALC
    assert (repo / ".env").read_text() == "TOKEN=never-copied\n"
    store = [p.read_bytes() for p in (repo.parent / "home" / "checkpoints").rglob("*") if p.is_file()]
    assert store and not any(b"never-copied" in zlib.decompress(data) for data in store)  # no deny_read file
    assert not any((repo / ".git" / "refs" / "heads").iterdir())  # no branch, no commit of ours
    assert not (repo / ".git" / "index").exists()  # nothing was added to the user's index either


def test_rewind_to_a_missing_step_is_one_line_and_exit_2(repo, env):
    with ScriptedServer([Turn("Hi.")]) as server:
        run = run_freehold(["-p", "hi", "--endpoint", server.url, "--model", "m", "--output-format", "json"], repo, env)
    session = run.result()["session_id"]
    assert "no checkpoints" in run_freehold(["rewind", session], repo, env).stdout
    missing = run_freehold(["rewind", session, "3"], repo, env)
    assert missing.code == 2 and missing.stderr.startswith("freehold: no step 3") and "Traceback" not in missing.stderr
