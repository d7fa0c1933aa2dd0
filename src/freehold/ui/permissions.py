"""/permissions: the rules in force, numbered, and editing the session's own."""

from __future__ import annotations

from rich.table import Table

from freehold.errors import UsageError
from freehold.policy.org import Policy
from freehold.policy.permissions import MODES, Permissions
from freehold.policy.rules import Rule, split_rules

SESSION = "session"
USAGE = "usage: /permissions [allow|ask|deny RULE... | remove N | mode MODE]"


def table(permissions: Permissions) -> Table:
    out = Table(title=f"mode: {permissions.mode}", title_justify="left", box=None, padding=(0, 2))
    out.add_column("#", justify="right")
    out.add_column("verdict")
    out.add_column("rule")
    out.add_column("from", style="dim")
    for number, rule in enumerate(permissions.rules, 1):
        out.add_row(str(number), rule.verdict, rule.rule.text, rule.origin)
    if not permissions.rules:
        out.add_row("", "", "(no rules: the mode decides)", "")
    return out


def edit(permissions: Permissions, policy: Policy, arguments: str) -> str:
    """Apply one edit; what it did, in a line. Only rules added in this session can be removed:
    the policy's and config's stay (and deny beats allow, so none can be loosened from here)."""
    action, _, rest = arguments.partition(" ")
    rest = rest.strip()
    if action in ("allow", "ask", "deny") and rest:
        rules = [_parse(text) for text in split_rules([rest]) or ()]
        for rule in rules:
            permissions.remember(action, rule, f"{SESSION}, by /permissions")  # type: ignore[arg-type]
        return f"added {action} " + ", ".join(r.text for r in rules)
    if action == "remove" and rest.isdigit():
        return _remove(permissions, int(rest))
    if action == "mode" and rest in MODES:
        allowed, rule = policy.check_mode(rest)
        if not allowed:
            raise UsageError(f"refused by policy: {rule}")
        permissions.mode = rest
        return f"mode is now {rest}"
    raise UsageError(USAGE)


def _parse(text: str) -> Rule:
    try:
        return Rule.parse(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _remove(permissions: Permissions, number: int) -> str:
    if not 1 <= number <= len(permissions.rules):
        raise UsageError(f"no rule {number}")
    rule = permissions.rules[number - 1]
    if not rule.origin.startswith(SESSION):
        raise UsageError(f"rule {number} comes from {rule.origin}; only rules added in this session can be removed")
    del permissions.rules[number - 1]
    return f"removed {rule.verdict} {rule.rule.text}"
