"""A session over a file full of secrets: none reaches the model, and editing next to one works."""

from __future__ import annotations

import json
import random
import string

from conftest import run_freehold

from freehold.policy.redaction import Redactor
from freehold.testing import Call, ScriptedServer, Turn


def planted() -> dict[str, str]:
    rng = random.Random(7)
    pick = lambda alphabet, n: "".join(rng.choice(alphabet) for _ in range(n))  # noqa: E731
    upper = string.ascii_uppercase + string.digits
    return {
        "aws_id": "AKIA" + pick(upper, 16),
        "aws_secret": pick(string.ascii_letters + string.digits + "/+", 40),
        "db_password": pick(string.ascii_letters + string.digits, 18),
        "github": "ghp_" + pick(string.ascii_letters + string.digits, 36),
    }


def settings_file(s: dict[str, str]) -> str:
    return (
        f'AWS_ACCESS_KEY_ID = "{s["aws_id"]}"\n'
        f'AWS_SECRET_ACCESS_KEY = "{s["aws_secret"]}"\n'
        f'DATABASE_URL = "postgres://app:{s["db_password"]}@db.internal:5432/app"\n'
        f'GITHUB_TOKEN = "{s["github"]}"\n'
        "TIMEOUT = 30\n"
    )


def test_secrets_never_reach_the_model_and_edits_around_them_work(repo, env):
    secrets = planted()
    text = settings_file(secrets)
    (repo / "settings.py").write_text(text)
    # the model sees the file as a fresh redactor would show it: the same placeholders
    shown = Redactor().redact(text).splitlines()
    secret_line = shown[1]
    assert "[REDACTED:" in secret_line and secrets["aws_secret"] not in secret_line
    turns = [
        Turn("", (Call("Read", {"file_path": "settings.py"}),)),
        Turn("", (Call("Bash", {"command": "cat settings.py"}),), expect=json.dumps(secret_line)[1:-1]),
        Turn("", (Call("Grep", {"pattern": "AWS|GITHUB", "output_mode": "content"}),)),
        Turn("", (Call("Edit", {"file_path": "settings.py", "old_string": f"{secret_line}\nDATABASE_URL",
                                "new_string": f"{secret_line}\nAWS_REGION = \"eu-west-1\"\nDATABASE_URL"}),)),
        Turn("", (Call("Edit", {"file_path": "settings.py", "old_string": "TIMEOUT = 30",
                                "new_string": "TIMEOUT = 60"}),)),
        Turn("Added the region and raised the timeout."),
    ]
    with ScriptedServer(turns) as server:
        run = run_freehold(["-p", f"Use the token {secrets['github']} if needed; add AWS_REGION.",
                            "--endpoint", server.url, "--model", "m", "--permission-mode", "auto"], repo, env)
    assert run.code == 0, run.stderr
    for body in (r.body for r in server.chat_requests):
        for value in secrets.values():
            assert value.encode() not in body
    result = (repo / "settings.py").read_text()
    assert result == text.replace("DATABASE_URL", 'AWS_REGION = "eu-west-1"\nDATABASE_URL', 1).replace(
        "TIMEOUT = 30", "TIMEOUT = 60")
    assert secrets["aws_secret"] in result  # the real value is still in the file


def test_redaction_can_be_turned_off_by_the_user_when_no_policy_forces_it(repo, env):
    (repo / "settings.py").write_text('PASSWORD = "Zq8vL2pX9wR4tY7u"\n')
    env["FREEHOLD_REDACTION"] = "false"
    turns = [Turn("", (Call("Read", {"file_path": "settings.py"}),)), Turn("ok", expect="Zq8vL2pX9wR4tY7u")]
    with ScriptedServer(turns) as server:
        run = run_freehold(["-p", "read it", "--endpoint", server.url, "--model", "m"], repo, env)
    assert run.code == 0, run.stderr


def test_a_huge_output_is_cut_after_redaction_and_keeps_no_partial_secret(repo, env):
    rng = random.Random(3)
    secret = "ghp_" + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(36))
    line = "x" * 99 + "\n"
    # Read shows 107 characters a line ("{n:>6}\t" + 99 + "\n"), so on line 281 the token spans
    # characters 29,976 to 30,016 of the output: a head cut at 30,000 would split it
    text = line * 280 + f'TOKEN = "{secret}"\n' + line * 1700
    (repo / "big.txt").write_text(text)
    turns = [Turn("", (Call("Read", {"file_path": "big.txt"}),)), Turn("done")]
    with ScriptedServer(turns) as server:
        run = run_freehold(["-p", "read", "--endpoint", server.url, "--model", "m"], repo, env)
    assert run.code == 0, run.stderr
    last = server.chat_requests[-1].body
    assert b"characters omitted" in last
    assert b"ghp_" not in last and secret[10:20].encode() not in last


def test_a_resumed_session_still_turns_its_placeholders_back_into_secrets(repo, env):
    secrets = planted()
    text = settings_file(secrets)
    (repo / "settings.py").write_text(text)
    secret_line = Redactor().redact(text).splitlines()[1]
    first = [Turn("", (Call("Read", {"file_path": "settings.py"}),)), Turn("Read it.")]
    with ScriptedServer(first) as server:
        assert run_freehold(["-p", "read", "--endpoint", server.url, "--model", "m"], repo, env).code == 0
    # a new process: the placeholder map comes back from the session store
    second = [Turn("", (Call("Edit", {"file_path": "settings.py", "old_string": secret_line,
                                       "new_string": secret_line + "\nAWS_REGION = 1"}),)),
              Turn("Done.", expect="Edited")]
    with ScriptedServer(second) as server:
        run = run_freehold(["-p", "add the region", "--continue", "--endpoint", server.url, "--model", "m",
                            "--permission-mode", "auto"], repo, env)
    assert run.code == 0, run.stderr
    assert (repo / "settings.py").read_text() == text.replace(
        f'"{secrets["aws_secret"]}"\n', f'"{secrets["aws_secret"]}"\nAWS_REGION = 1\n')
