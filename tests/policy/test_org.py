"""The organization's policy file: strict parsing, and settings it fixes that nothing loosens."""

from __future__ import annotations

from pathlib import Path

import pytest

from freehold.config import load
from freehold.errors import PolicyRefused, UsageError
from freehold.policy.org import DEFAULT_PATH, Policy, enforce, load_policy, origin_of

FULL = """\
[models]
allow = ["http://127.0.0.1:8000", "https://LLM.corp.example:443/"]
[network]
tools = "none"
[files]
deny_read = ["**/.env", "**/*.pem", "**/id_rsa*"]
deny_write = [".git/hooks/**"]
[redaction]
enabled = true
[permissions]
deny = ["Bash(curl:*)"]
max_mode = "accept-edits"
"""


def policy_file(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return {"FREEHOLD_POLICY": str(path)}


def test_a_full_policy_parses(tmp_path):
    policy = load_policy(policy_file(tmp_path, FULL))
    assert policy.models_allow == ("http://127.0.0.1:8000", "https://llm.corp.example")
    assert policy.network_tools == "none" and policy.max_mode == "accept-edits"
    assert policy.deny_rules == ("Bash(curl:*)",) and policy.deny_write == (".git/hooks/**",)
    assert len(policy.sha256 or "") == 64


@pytest.mark.skipif(DEFAULT_PATH.exists(), reason="this machine has an organization policy installed")
def test_no_file_at_the_default_place_is_no_policy():
    assert load_policy({}) == Policy()


@pytest.mark.parametrize(
    "text, message",
    [
        ("[models]\nallow = 'http://x'\n", r"line 2: \[models\] allow must be a list of strings"),
        ("[models]\nallow = ['http://x/v1']\n", r"line 2: .*has a path"),
        ("[models]\nallow = ['ftp://x']\n", r"line 2: .*not an http\(s\) URL"),
        ("[network]\ntools = 'some'\n", r"line 2: \[network\] tools must be one of \"none\", \"allow\""),
        ("[permissions]\nmax_mode = 'yolo'\n", r"line 2: .*max_mode must be one of"),
        ("\n[telemetry]\nenabled = true\n", r"line 2: unknown section \[telemetry\]"),
        ("[files]\ndeny_reed = []\n", r"line 2: unknown key \[files\] deny_reed"),
        ("[models\n", r"policy.toml: .*line 1"),
    ],
)
def test_a_malformed_policy_names_file_line_and_reason(tmp_path, text, message):
    with pytest.raises(UsageError, match=message) as info:
        load_policy(policy_file(tmp_path, text))
    assert str(tmp_path / "policy.toml") in str(info.value) and "\n" not in str(info.value)


def test_a_named_policy_that_is_missing_is_an_error_not_no_policy(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_policy({"FREEHOLD_POLICY": str(tmp_path / "nope.toml")})


@pytest.mark.parametrize(
    "url, origin",
    [
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000"),
        ("HTTPS://LLM.Corp.Example:443/v1", "https://llm.corp.example"),
        ("http://[::1]:11434/v1", "http://[::1]:11434"),
        ("http://host:80", "http://host"),
    ],
)
def test_origins(url, origin):
    assert origin_of(url) == origin


def test_endpoint_not_allowed_is_refused_naming_the_rule(tmp_path):
    policy = load_policy(policy_file(tmp_path, FULL))
    settings = load(tmp_path, {"endpoint": "http://127.0.0.1:8001/v1"}, {})
    with pytest.raises(PolicyRefused, match=r"\[models\] allow does not include http://127.0.0.1:8001"):
        enforce(settings, policy)
    ok = enforce(load(tmp_path, {"endpoint": "http://127.0.0.1:8000/v1"}, {}), policy)
    assert ok.network_tools == "none" and ok.origin("network_tools").startswith("policy ")


def test_max_mode_refuses_a_chosen_mode_and_lowers_a_default_one(tmp_path):
    policy = load_policy(policy_file(tmp_path, "[permissions]\nmax_mode = 'plan'\n"))
    with pytest.raises(PolicyRefused, match=r"max_mode = \"plan\" does not allow 'auto' \(asked by flag"):
        enforce(load(tmp_path, {"permission_mode": "auto"}, {}), policy)
    assert enforce(load(tmp_path, {}, {}), policy).permission_mode == "plan"


def test_a_policy_that_allows_network_is_the_default_and_a_user_may_still_say_none(tmp_path):
    policy = load_policy(policy_file(tmp_path, "[network]\ntools = 'allow'\n"))
    assert enforce(load(tmp_path, {}, {}), policy).network_tools == "allow"
    assert enforce(load(tmp_path, {}, {"FREEHOLD_NETWORK_TOOLS": "none"}), policy).network_tools == "none"
    assert enforce(load(tmp_path, {}, {}), Policy()).network_tools == "none"  # no policy: none by default


def test_user_settings_cannot_loosen_what_the_policy_fixes(tmp_path):
    policy = load_policy(policy_file(tmp_path, "[redaction]\nenabled = true\n[network]\ntools = 'none'\n"))
    env = {"FREEHOLD_REDACTION": "false"}
    settings = enforce(load(tmp_path, {}, env), policy)
    assert settings.redaction is True and settings.network_tools == "none"


def test_the_sandbox_and_rule_sections_parse(tmp_path):
    policy = load_policy(policy_file(tmp_path, '[sandbox]\nenabled = false\nhide = ["/srv/secrets", "~/vault"]\n'
                                               '[permissions]\nallow = ["Bash(pytest:*)"]\nask = ["Bash(git push:*)"]\n'))
    assert policy.sandbox is False and policy.sandbox_hide == ("/srv/secrets", "~/vault")
    assert policy.allow_rules == ("Bash(pytest:*)",) and policy.ask_rules == ("Bash(git push:*)",)


@pytest.mark.parametrize("text, message", [
    ('[sandbox]\nhide = ["relative/path"]\n', r"line 2: \[sandbox\] hide 'relative/path' is not an absolute path"),
    ('[sandbox]\nenabled = "no"\n', r"line 2: \[sandbox\] enabled must be true or false"),
    ('[permissions]\nask = ["Bash(x"]\n', r"line 2: \[permissions\] ask 'Bash\(x' is not a rule"),
])
def test_bad_sandbox_and_rule_settings_name_the_line(tmp_path, text, message):
    with pytest.raises(UsageError, match=message):
        load_policy(policy_file(tmp_path, text))
