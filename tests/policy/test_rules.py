"""Permission rules: the Tool(specifier) form, matched part by part against shell lines."""

from __future__ import annotations

import pytest

from freehold.policy.rules import Rule
from freehold.tools import default_tools
from freehold.tools.base import Workspace

TOOLS = {t.name: t for t in default_tools()}


@pytest.mark.parametrize(
    "rule, command, hit",
    [
        ("Bash(curl:*)", "curl http://x", True),
        ("Bash(curl:*)", "echo ok && curl http://x", True),
        ("Bash(curl:*)", "echo $(curl http://x)", True),
        ("Bash(curl:*)", "curlew --fly", False),
        ("Bash(curl:*)", "echo curl", False),
        ("Bash(npm test)", "npm test", True),
        ("Bash(npm test)", "npm test --watch", False),
        ("Bash(git push:*)", "git push origin main", True),
        ("Bash", "anything at all", True),
        ("Bash(curl:*)", "timeout 5 curl x", True),
        ("Bash(curl:*)", "bash -c 'echo; curl x'", True),
        ("Bash(curl:*)", "c\\url x", True),
        ("Bash(curl:*)", "$CMD x", False),
        ("Bash(curl:*)", "/usr/bin/curl http://x", True),
        ("Bash(curl:*)", "echo ok; ./curl x", True),
        ("Bash(pytest:*)", ".venv/bin/pytest -q", True),
        ("Bash(/usr/bin/curl:*)", "curl x", False),  # only a maybe: the engine asks (tests/policy/test_permissions.py)
    ],
)
def test_bash_rules(tmp_path, rule, command, hit):
    assert Rule.parse(rule).matches(TOOLS["Bash"], {"command": command}, Workspace.at(tmp_path)) is hit


def test_path_rules_cover_their_tool_family(tmp_path):
    ws = Workspace.at(tmp_path)
    read_env = Rule.parse("Read(**/.env)")
    assert read_env.matches(TOOLS["Read"], {"file_path": "app/.env"}, ws)
    assert read_env.matches(TOOLS["Grep"], {"pattern": "x", "path": ".env"}, ws)
    assert not read_env.matches(TOOLS["Read"], {"file_path": "app/env.py"}, ws)
    edit_src = Rule.parse("Edit(src/**)")
    assert edit_src.matches(TOOLS["Write"], {"file_path": "src/a.py", "content": ""}, ws)
    assert not edit_src.matches(TOOLS["Read"], {"file_path": "src/a.py"}, ws)


@pytest.mark.parametrize("text", ["Bash(curl:*", "Bash()", "(x)", "Bash(x) y", ""])
def test_a_malformed_rule_is_refused(text):
    with pytest.raises(ValueError, match="is not a rule"):
        Rule.parse(text)
