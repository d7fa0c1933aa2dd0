"""`freehold policy show` and `freehold policy check URL`: what the organization fixed, and why."""

from __future__ import annotations

import sys
from pathlib import Path

from freehold.config import Settings, load
from freehold.errors import UsageError
from freehold.policy.org import Policy, enforce, load_policy, origin_of

USAGE = "usage: freehold policy show | freehold policy check URL"


def policy_command(argv: list[str]) -> int:
    if argv == ["show"]:
        policy = load_policy()
        asked = load(Path.cwd(), {})
        print(show(policy, enforce(asked, policy, strict=False), asked))
        return 0
    if len(argv) == 2 and argv[0] == "check":
        return check(load_policy(), argv[1])
    raise UsageError(USAGE)


def check(policy: Policy, url: str) -> int:
    try:
        origin_of(url)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    allowed, rule = policy.endpoint_rule(url)
    print(f"{'allowed' if allowed else 'refused'}: {url} ({rule})")
    return 0 if allowed else 3


def show(policy: Policy, settings: Settings, asked: Settings) -> str:
    """The effective settings (`settings`: `asked` with the policy on top) and where each came from."""
    lines = [f"policy file: {policy.path or 'none'}" + (f" (sha256 {policy.sha256})" if policy.sha256 else "")]
    where = policy.where()

    def row(name: str, value: object, fixed: bool, fallback: str) -> None:
        lines.append(f"  {name:<22} {value!s:<40} {where if fixed else fallback}")

    row("models.allow", list(policy.models_allow) if policy.models_allow is not None else "any endpoint",
        policy.models_allow is not None, "not restricted")
    row("models.pull_from", list(policy.models_pull_from) if policy.models_pull_from is not None else "any origin",
        policy.models_pull_from is not None, "not restricted")
    row("network.tools", settings.network_tools, "network_tools" in policy.set_keys, settings.origin("network_tools"))
    row("network.proxy", policy.network_proxy or "none (direct)", policy.network_proxy is not None, "default")
    row("files.deny_read", list(policy.deny_read), bool(policy.deny_read), "not restricted")
    row("files.deny_write", list(policy.deny_write), bool(policy.deny_write), "not restricted")
    row("redaction.enabled", settings.redaction, "redaction" in policy.set_keys, settings.origin("redaction"))
    for verdict in ("allow", "ask", "deny"):
        rules = getattr(policy, f"{verdict}_rules")
        row(f"permissions.{verdict}", list(rules), bool(rules), "none")
    row("sandbox.enabled", policy.sandbox, "sandbox" in policy.set_keys, "default")
    row("sandbox.hide", list(policy.sandbox_hide), bool(policy.sandbox_hide), "none")
    row("permissions.max_mode", policy.max_mode or "auto", policy.max_mode is not None, "not restricted")
    row("audit.required", policy.audit_required, "audit_required" in policy.set_keys, "default")
    row("audit.directory", policy.audit_directory or "$FREEHOLD_HOME/audit", "audit_directory" in policy.set_keys,
        "default")
    mode_ok, mode_rule = policy.check_mode(asked.permission_mode)
    if mode_ok or asked.origin("permission_mode") == "default":
        row("permission mode", settings.permission_mode, False, settings.origin("permission_mode"))
    else:
        row("permission mode", asked.permission_mode, False, f"{asked.origin('permission_mode')}; REFUSED: {mode_rule}")
    if settings.endpoint:
        allowed, rule = policy.endpoint_rule(settings.endpoint)
        row("endpoint", settings.endpoint, False, f"{settings.origin('endpoint')}; {'allowed' if allowed else 'REFUSED'}: {rule}")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(policy_command(sys.argv[1:]))
