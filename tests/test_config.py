"""Layered settings: defaults < user < project < environment < flags; every bad value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from freehold.config import Settings, data_home, load
from freehold.errors import UsageError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def layout(tmp_path):
    cwd = tmp_path / "repo"
    (cwd / ".git").mkdir(parents=True)
    env = {"XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    return cwd, env, tmp_path / "cfg" / "freehold" / "config.toml"


def test_defaults(layout):
    cwd, env, _ = layout
    assert load(cwd, {}, env) == Settings()


def test_each_layer_overrides_the_one_before(layout):
    cwd, env, user = layout
    write(user, '[model]\nendpoint = "http://user/v1"\nname = "u"\nmax_retries = 1\n[agent]\nmax_turns = 7\n')
    write(cwd / ".freehold" / "config.toml", '[model]\nname = "p"\nmax_retries = 2\n')
    env |= {"FREEHOLD_MAX_RETRIES": "3", "FREEHOLD_STREAM": "false"}
    s = load(cwd, {"max_turns": 9, "model": None}, env)
    assert (s.endpoint, s.model, s.max_retries, s.max_turns, s.stream) == ("http://user/v1", "p", 3, 9, False)


def test_project_config_found_from_a_subdirectory_but_not_past_the_repo(layout, tmp_path):
    cwd, env, _ = layout
    write(cwd / ".freehold" / "config.toml", '[model]\nname = "p"\n')
    sub = cwd / "src" / "pkg"
    sub.mkdir(parents=True)
    assert load(sub, {}, env).model == "p"
    write(tmp_path / ".freehold" / "config.toml", '[model]\nname = "outside"\n')
    (cwd / ".freehold" / "config.toml").unlink()
    assert load(sub, {}, env).model is None


@pytest.mark.parametrize(
    "text, message",
    [
        ("[model]\nmax_retries = 'x'\n", r"\[model\] max_retries must be a whole number, got 'x'"),
        ("[model]\nendpont = 'x'\n", r"unknown setting \[model\] endpont"),
        ("[model\n", r"config.toml: "),
        ("model = 1\n", r"'model' must be a table"),
        ("[model]\nstream = 'yes'\n", r"stream must be true or false"),
        ("[agent]\npermission_mode = 'yolo'\n", r"permission mode must be one of default, accept-edits, plan, auto"),
        ("[model]\nendpoint = 'ftp://x'\n", r"endpoint must be an http"),
    ],
)
def test_bad_config_names_file_and_key(layout, text, message):
    cwd, env, user = layout
    write(user, text)
    with pytest.raises(UsageError, match=message) as info:
        load(cwd, {}, env)
    assert "\n" not in str(info.value)


def test_api_key_refused_in_a_project_config(layout):
    cwd, env, _ = layout
    write(cwd / ".freehold" / "config.toml", '[model]\napi_key = "sk"\n')
    with pytest.raises(UsageError, match="does not belong in a project's config"):
        load(cwd, {}, env)


def test_bad_environment_value_is_named(layout):
    cwd, env, _ = layout
    with pytest.raises(UsageError, match="FREEHOLD_MAX_TURNS must be a whole number"):
        load(cwd, {}, env | {"FREEHOLD_MAX_TURNS": "many"})


def test_data_home():
    assert data_home({"FREEHOLD_HOME": "/x/y"}) == Path("/x/y")
    assert data_home({"XDG_DATA_HOME": "/d"}) == Path("/d/freehold")


def test_rules_add_up_across_layers_each_with_its_source(layout):
    cwd, env, user = layout
    write(user, '[permissions]\nallow = ["Bash(pytest:*)"]\ndeny = ["Bash(curl:*)"]\n')
    project = write(cwd / ".freehold" / "config.toml", '[permissions]\nallow = ["Edit(src/**)"]\nask = ["Bash(git push:*)"]\n')
    s = load(cwd, {"deny_rules": ("Bash(rm:*)",)}, env)
    assert s.allow_rules == (("Bash(pytest:*)", f"user config {user}"), ("Edit(src/**)", f"project config {project}"))
    assert s.ask_rules == (("Bash(git push:*)", f"project config {project}"),)
    assert s.deny_rules == (("Bash(curl:*)", f"user config {user}"), ("Bash(rm:*)", "flag --disallowedTools"))


@pytest.mark.parametrize("text, message", [
    ('[permissions]\nallow = ["Bash(curl:*"]\n', r"\[permissions\] allow: 'Bash\(curl:\*' is not a rule"),
    ('[permissions]\ndeny = "Bash"\n', r"\[permissions\] deny must be a list of rules"),
    ('[sandbox]\nexpose = [1]\n', r"\[sandbox\] expose must be a list of strings"),
])
def test_bad_rules_and_lists_are_named(layout, text, message):
    cwd, env, user = layout
    write(user, text)
    with pytest.raises(UsageError, match=message):
        load(cwd, {}, env)


def test_a_bad_rule_in_a_flag_is_named(layout):
    cwd, env, _ = layout
    with pytest.raises(UsageError, match=r"flag --allowedTools: 'Bash\(\)' is not a rule"):
        load(cwd, {"allow_rules": ("Bash()",)}, env)


@pytest.mark.parametrize("text", ['[network]\ntools = "allow"\n', '[sandbox]\nexpose = ["~/.ssh"]\n',
                                  '[files]\nbuiltin_deny_read = false\n'])
def test_a_project_cannot_widen_what_commands_reach(layout, text):
    cwd, env, _ = layout
    project = write(cwd / ".freehold" / "config.toml", text)
    with pytest.raises(UsageError, match=f"{project}: .* does not belong in a project's config"):
        load(cwd, {}, env)


def test_a_project_may_narrow_network_and_a_user_may_widen_it(layout):
    cwd, env, user = layout
    write(cwd / ".freehold" / "config.toml", '[network]\ntools = "none"\n')
    assert load(cwd, {}, env).network_tools == "none"
    write(user, '[network]\ntools = "allow"\n')
    assert load(cwd, {}, env).network_tools == "none"  # the project, read later, narrows it again
    assert load(cwd, {}, env | {"FREEHOLD_NETWORK_TOOLS": "allow"}).network_tools == "allow"
