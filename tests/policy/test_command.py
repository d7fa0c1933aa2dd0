"""`freehold policy show` and `freehold policy check URL`, and the policy at `-p` time."""

from __future__ import annotations


from conftest import run_freehold

POLICY = """\
[models]
allow = ["http://127.0.0.1:8000"]
[network]
tools = "none"
[permissions]
deny = ["Bash(curl:*)"]
max_mode = "accept-edits"
"""


def with_policy(env, tmp_path, text=POLICY):
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return env | {"FREEHOLD_POLICY": str(path)}, path


def test_show_names_where_each_setting_comes_from(repo, env, tmp_path):
    env, path = with_policy(env, tmp_path)
    run = run_freehold(["policy", "show"], repo, env | {"FREEHOLD_REDACTION": "false"})
    assert run.code == 0
    lines = {line.split()[0]: line for line in run.stdout.splitlines()[1:]}
    assert str(path) in run.stdout.splitlines()[0] and "sha256" in run.stdout
    assert "http://127.0.0.1:8000" in lines["models.allow"] and f"policy {path}" in lines["models.allow"]
    assert "none" in lines["network.tools"] and f"policy {path}" in lines["network.tools"]
    assert "False" in lines["redaction.enabled"] and "environment FREEHOLD_REDACTION" in lines["redaction.enabled"]
    assert "True" in lines["sandbox.enabled"] and "default" in lines["sandbox.enabled"]
    assert {"permissions.allow", "permissions.ask", "permissions.deny", "sandbox.hide"} <= set(lines)


def test_show_without_a_policy(repo, env):
    run = run_freehold(["policy", "show"], repo, env | {"FREEHOLD_POLICY": ""})
    assert run.code == 0 and "not restricted" in run.stdout


def test_check_answers_with_the_deciding_rule(repo, env, tmp_path):
    env, path = with_policy(env, tmp_path)
    ok = run_freehold(["policy", "check", "http://127.0.0.1:8000/v1"], repo, env)
    assert ok.code == 0 and ok.stdout.startswith("allowed:") and "[models] allow includes" in ok.stdout
    no = run_freehold(["policy", "check", "https://api.vendor.example/v1"], repo, env)
    assert no.code == 3 and no.stdout.startswith("refused:") and "https://api.vendor.example" in no.stdout
    bad = run_freehold(["policy", "check", "not a url"], repo, env)
    assert bad.code == 2


def test_a_malformed_policy_stops_every_run_with_exit_2(repo, env, tmp_path):
    env, path = with_policy(env, tmp_path, "[models]\nallow = 'x'\n")
    run = run_freehold(["-p", "hi", "--endpoint", "http://127.0.0.1:8000/v1"], repo, env)
    assert run.code == 2 and f"{path}, line 2" in run.stderr and run.stderr.count("\n") == 1


def test_a_mode_above_the_maximum_is_refused_with_exit_3(repo, env, tmp_path):
    env, _ = with_policy(env, tmp_path)
    run = run_freehold(["-p", "hi", "--endpoint", "http://127.0.0.1:8000/v1", "--permission-mode", "auto"], repo, env)
    assert run.code == 3 and "max_mode" in run.stderr


def test_policy_deny_rules_hold_in_auto_mode(repo, env, tmp_path):
    from freehold.testing import Call, ScriptedServer, Turn

    turns = [Turn("", (Call("Bash", {"command": "echo hi && curl http://127.0.0.1:1"}),)),
             Turn("refused.", expect="Permission denied: `curl http://127.0.0.1:1` is covered by deny rule Bash(curl:*) (policy ")]
    with ScriptedServer(turns) as server:
        port = server.url.split(":")[2].split("/")[0]
        env, _ = with_policy(env, tmp_path, f'[models]\nallow = ["http://127.0.0.1:{port}"]\n'
                                             '[permissions]\ndeny = ["Bash(curl:*)"]\n')
        run = run_freehold(["-p", "x", "--endpoint", server.url, "--model", "m", "--permission-mode", "auto"],
                           repo, env)
    assert run.code == 0, run.stderr
