"""The organization's policy: a TOML file users cannot loosen.

Read from `FREEHOLD_POLICY` or `/etc/freehold/policy.toml`. With no file there is no policy and
users configure what they like; with one, every setting it makes wins over user and project
config, environment and flags. A malformed file stops Freehold (exit 2, naming the file, the
line and the reason); it never falls back to "no policy".
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from freehold.config import Settings
from freehold.errors import PolicyRefused, UsageError

DEFAULT_PATH = Path("/etc/freehold/policy.toml")
MODES_BY_REACH = ("plan", "default", "accept-edits", "auto")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Policy:
    """What the organization fixed. None (or empty) means the policy does not set it."""

    path: Path | None = None
    sha256: str | None = None
    models_allow: tuple[str, ...] | None = None
    # Origins `freehold models pull` may download weights from; None: the policy does not restrict it.
    models_pull_from: tuple[str, ...] | None = None
    network_tools: str | None = None
    network_proxy: str | None = None
    deny_read: tuple[str, ...] = ()
    deny_write: tuple[str, ...] = ()
    redaction: bool | None = None
    allow_rules: tuple[str, ...] = ()
    ask_rules: tuple[str, ...] = ()
    deny_rules: tuple[str, ...] = ()
    max_mode: str | None = None
    # False lets commands run outside the sandbox: the only way to, and the audit log says so.
    sandbox: bool = True
    sandbox_hide: tuple[str, ...] = ()
    audit_required: bool = True
    audit_directory: str | None = None
    audit_key_path: str | None = None
    audit_checkpoint_every: int = 1000
    # Which settings the file made, for `freehold policy show`.
    set_keys: frozenset[str] = field(default_factory=frozenset)

    @property
    def active(self) -> bool:
        return self.path is not None

    def where(self) -> str:
        return f"policy {self.path}" if self.path else "no policy"

    def endpoint_rule(self, url: str) -> tuple[bool, str]:
        """Whether prompts may be sent to `url`, and the rule that decides."""
        return self._origin_rule(url, self.models_allow, "allow", "model endpoints")

    def pull_rule(self, url: str) -> tuple[bool, str]:
        """Whether `freehold models pull` may download from `url`, and the rule that decides."""
        return self._origin_rule(url, self.models_pull_from, "pull_from", "model downloads")

    def _origin_rule(self, url: str, allowed: tuple[str, ...] | None, key: str, what: str) -> tuple[bool, str]:
        if allowed is None:
            return True, f"no policy restricts {what}" if not self.active else f"{self.path} sets no [models] {key}"
        origin = origin_of(url)
        if origin in allowed:
            return True, f"{self.path}: [models] {key} includes {origin}"
        return False, f"{self.path}: [models] {key} does not include {origin}"

    def check_mode(self, mode: str) -> tuple[bool, str]:
        if self.max_mode is None or MODES_BY_REACH.index(mode) <= MODES_BY_REACH.index(self.max_mode):
            return True, ""
        return False, f"{self.path}: [permissions] max_mode = \"{self.max_mode}\" does not allow '{mode}'"


def origin_of(url: str) -> str:
    """`scheme://host[:port]`, lower-cased, default port dropped: what the allow-list compares."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


def policy_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    return Path(env["FREEHOLD_POLICY"]) if env.get("FREEHOLD_POLICY") else DEFAULT_PATH


def load_policy(env: dict[str, str] | None = None) -> Policy:
    """The policy in force: none when the default file is absent; an error for a named file that is absent."""
    env = os.environ if env is None else env
    path = policy_path(env)
    if not path.exists():
        if env.get("FREEHOLD_POLICY"):
            raise UsageError(f"policy error: {path}: FREEHOLD_POLICY names a file that does not exist")
        return Policy()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"policy error: {path}: cannot read it: {exc.strerror}") from None
    return _parse(path, raw)


# section -> key -> (field name, checker)
def _origins(value: Any) -> tuple[str, ...]:
    items = _strings(value)
    for item in items:
        if urlsplit(item).path not in ("", "/"):
            raise ValueError(f"{item!r} has a path; list origins (scheme://host[:port])")
    return tuple(origin_of(item) for item in items)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("must be a list of strings")
    return tuple(value)


def _choice(*choices: str) -> Any:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError("must be one of " + ", ".join(f'"{c}"' for c in choices))
        return value

    return check


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _proxy(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a URL string")
    origin_of(value)
    return value


def _positive(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("must be a whole number of at least 1")
    return value


def _rules(value: Any) -> tuple[str, ...]:
    from freehold.policy.rules import Rule

    rules = _strings(value)
    for rule in rules:
        Rule.parse(rule)  # its ValueError says what is wrong
    return rules


def _paths(value: Any) -> tuple[str, ...]:
    paths = _strings(value)
    for path in paths:
        if not os.path.isabs(os.path.expanduser(path)):
            raise ValueError(f"{path!r} is not an absolute path")
    return paths


def _path(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a path")
    return value


SCHEMA: dict[str, dict[str, tuple[str, Any]]] = {
    "models": {"allow": ("models_allow", _origins), "pull_from": ("models_pull_from", _origins)},
    "network": {"tools": ("network_tools", _choice("none", "allow")), "proxy": ("network_proxy", _proxy)},
    "files": {"deny_read": ("deny_read", _strings), "deny_write": ("deny_write", _strings)},
    "redaction": {"enabled": ("redaction", _boolean)},
    "permissions": {
        "allow": ("allow_rules", _rules),
        "ask": ("ask_rules", _rules),
        "deny": ("deny_rules", _rules),
        "max_mode": ("max_mode", _choice(*MODES_BY_REACH)),
    },
    "sandbox": {"enabled": ("sandbox", _boolean), "hide": ("sandbox_hide", _paths)},
    "audit": {
        "required": ("audit_required", _boolean),
        "directory": ("audit_directory", _path),
        "key_path": ("audit_key_path", _path),
        "checkpoint_every": ("audit_checkpoint_every", _positive),
    },
}


def _parse(path: Path, raw: bytes) -> Policy:
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"policy error: {path}: {exc}") from None
    text = raw.decode("utf-8")
    values: dict[str, Any] = {}
    for section, table in data.items():
        if section not in SCHEMA or not isinstance(table, dict):
            raise UsageError(f"policy error: {path}{_line(text, section)}: unknown section [{section}]; "
                             f"known: {', '.join(f'[{s}]' for s in SCHEMA)}")
        for key, value in table.items():
            if key not in SCHEMA[section]:
                known = ", ".join(SCHEMA[section])
                raise UsageError(f"policy error: {path}{_line(text, key)}: unknown key [{section}] {key}; known: {known}")
            name, check = SCHEMA[section][key]
            try:
                values[name] = check(value)
            except ValueError as exc:
                raise UsageError(f"policy error: {path}{_line(text, key)}: [{section}] {key} {exc}") from None
    return Policy(path, hashlib.sha256(raw).hexdigest(), set_keys=frozenset(values), **values)


def _line(text: str, key: str) -> str:
    """`, line N` for the first line that sets or opens `key`, to point the reader at it."""
    pattern = re.compile(rf"^[ \t]*(\[\s*{re.escape(key)}\s*\]|{re.escape(key)}\s*=)", re.MULTILINE)
    match = pattern.search(text)
    return f", line {text.count(chr(10), 0, match.start()) + 1}" if match else ""


def enforce(settings: Settings, policy: Policy, strict: bool = True) -> Settings:
    """`settings` with the policy on top. Raises PolicyRefused (exit 3) when the user asked for
    what the policy forbids; a mode the user did not choose is lowered to the policy's maximum.
    With strict=False nothing is refused, only fixed (for reporting what would be in force)."""
    if not policy.active:
        return settings
    if strict and settings.endpoint is not None:
        allowed, rule = policy.endpoint_rule(settings.endpoint)
        if not allowed:
            raise PolicyRefused(f"refused by policy: the endpoint {settings.endpoint} is not allowed ({rule})")
    fixed: dict[str, Any] = {}
    allowed, rule = policy.check_mode(settings.permission_mode)
    if not allowed:
        if strict and settings.origin("permission_mode") != "default":
            raise PolicyRefused(f"refused by policy: {rule} (asked by {settings.origin('permission_mode')})")
        fixed["permission_mode"] = policy.max_mode
    if policy.redaction is not None:
        fixed["redaction"] = policy.redaction
    # "none" binds everyone; "allow" is the ceiling and the default, and a user may still say "none".
    if policy.network_tools == "none" or (policy.network_tools == "allow" and settings.origin("network_tools") == "default"):
        fixed["network_tools"] = policy.network_tools
    origins = dict(settings.origins) | {name: policy.where() for name in fixed}
    return replace(settings, **fixed, origins=tuple(sorted(origins.items())))
