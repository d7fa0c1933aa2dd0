"""Layered settings: defaults < user config < project config < FREEHOLD_* environment < flags.

Files are TOML. An unknown key, a wrong type or a bad value stops Freehold with exit 2 and a
line naming the file and the key: a typo never silently falls back to a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from freehold.errors import UsageError

PERMISSION_MODES = ("default", "accept-edits", "plan", "auto")


@dataclass(frozen=True)
class RunOptions:
    """What the flags say about this run beyond settings: which session, where to dump requests."""

    resume: str | None = None
    continue_latest: bool = False
    dump_requests: Path | None = None


@dataclass(frozen=True)
class Settings:
    endpoint: str | None = None
    model: str | None = None
    api_key: str | None = None
    timeout: float = 600.0
    max_retries: int = 4
    retry_backoff: float = 1.0
    stream: bool = True
    temperature: float | None = None
    max_tokens: int | None = None
    # "server" (an OpenAI-compatible endpoint) or "llama.cpp" (a GGUF file run in-process).
    runtime: str = "server"
    model_file: str | None = None
    # A profile name (models/profiles/*.toml) instead of the one chosen from the model's name.
    profile: str | None = None
    # Tokens of context to use at most; the server's own window caps it.
    context_window: int | None = None
    # CPU threads for the in-process runtime (0: half the cores, at least one).
    threads: int = 0
    # In-process runtime: "auto" lets the model answer in text; "required" allows only tool calls.
    tool_choice: str = "auto"
    max_turns: int = 50
    permission_mode: str = "default"
    redaction: bool = True
    # Whether commands may use the network: "none" (the default) or "allow".
    network_tools: str = "none"
    # Added to Freehold's built-in secret globs (tools/base.py BUILTIN_DENY_READ) and the policy's.
    deny_read: tuple[str, ...] = ()
    deny_write: tuple[str, ...] = ()
    builtin_deny_read: bool = True
    # Places under the home directory that commands may read (toolchains beyond the built-in list).
    sandbox_expose: tuple[str, ...] = ()
    # Permission rules, each with where it came from: every layer adds, none replaces.
    allow_rules: tuple[tuple[str, str], ...] = ()
    ask_rules: tuple[tuple[str, str], ...] = ()
    deny_rules: tuple[tuple[str, str], ...] = ()
    # The code index (freehold/index): built in the background for the Search tool and the map.
    index: bool = True
    # Tokens of repository map before the first prompt of a task (0: none); a sixteenth of the
    # window at most.
    map_tokens: int = 1024
    # Seconds the first prompt waits for the index before going without a map.
    index_wait: float = 2.0
    # The Task tool: subagents with a fresh context of their own (agent/subagent.py).
    subagents: bool = True
    # Compaction: when a request would fill this share of the window's prompt room, the older
    # turns are summarized (0 turns it off; /compact still works).
    compact_at: float = 0.8
    # The share of the prompt room the turns kept verbatim after a compaction may take.
    compact_keep: float = 0.3
    # Tokens of project memory (AGENTS.md and the like) in the system prompt; an eighth of the window at most.
    memory_tokens: int = 2048
    # Where each setting that is not a default came from, e.g. "flag", "environment FREEHOLD_MODEL".
    origins: tuple[tuple[str, str], ...] = ()

    def origin(self, name: str) -> str:
        return dict(self.origins).get(name, "default")


# Where each setting lives in a config file, and the environment variable that sets it.
FILE_KEYS: dict[tuple[str, str], str] = {
    ("model", "endpoint"): "endpoint",
    ("model", "name"): "model",
    ("model", "api_key"): "api_key",
    ("model", "timeout"): "timeout",
    ("model", "max_retries"): "max_retries",
    ("model", "retry_backoff"): "retry_backoff",
    ("model", "stream"): "stream",
    ("model", "temperature"): "temperature",
    ("model", "max_tokens"): "max_tokens",
    ("model", "runtime"): "runtime",
    ("model", "path"): "model_file",
    ("model", "profile"): "profile",
    ("model", "context_window"): "context_window",
    ("model", "threads"): "threads",
    ("model", "tool_choice"): "tool_choice",
    ("agent", "max_turns"): "max_turns",
    ("agent", "permission_mode"): "permission_mode",
    ("agent", "subagents"): "subagents",
    ("redaction", "enabled"): "redaction",
    ("network", "tools"): "network_tools",
    ("files", "deny_read"): "deny_read",
    ("files", "deny_write"): "deny_write",
    ("files", "builtin_deny_read"): "builtin_deny_read",
    ("sandbox", "expose"): "sandbox_expose",
    ("index", "enabled"): "index",
    ("index", "map_tokens"): "map_tokens",
    ("index", "wait"): "index_wait",
    ("context", "compact_at"): "compact_at",
    ("context", "keep_recent"): "compact_keep",
    ("context", "memory_tokens"): "memory_tokens",
    ("permissions", "allow"): "allow_rules",
    ("permissions", "ask"): "ask_rules",
    ("permissions", "deny"): "deny_rules",
}
ENV_KEYS = {
    "FREEHOLD_ENDPOINT": "endpoint",
    "FREEHOLD_MODEL": "model",
    "FREEHOLD_API_KEY": "api_key",
    "FREEHOLD_TIMEOUT": "timeout",
    "FREEHOLD_MAX_RETRIES": "max_retries",
    "FREEHOLD_RETRY_BACKOFF": "retry_backoff",
    "FREEHOLD_STREAM": "stream",
    "FREEHOLD_MAX_TURNS": "max_turns",
    "FREEHOLD_PERMISSION_MODE": "permission_mode",
    "FREEHOLD_REDACTION": "redaction",
    "FREEHOLD_NETWORK_TOOLS": "network_tools",
    "FREEHOLD_MODEL_FILE": "model_file",
    "FREEHOLD_CONTEXT_WINDOW": "context_window",
    "FREEHOLD_THREADS": "threads",
    "FREEHOLD_INDEX": "index",
    "FREEHOLD_MAP_TOKENS": "map_tokens",
    "FREEHOLD_COMPACT_AT": "compact_at",
    "FREEHOLD_SUBAGENTS": "subagents",
}
# A project's config comes with its repository: a secret there would be committed and shared,
# and a repository must not widen what the agent may reach on the machine that runs it.
NOT_IN_PROJECT = {"api_key", "builtin_deny_read", "sandbox_expose"}
RULE_KEYS = ("allow_rules", "ask_rules", "deny_rules")
FLAG_NAMES = {"allow_rules": "--allowedTools", "deny_rules": "--disallowedTools"}


def data_home(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("FREEHOLD_HOME"):
        return Path(env["FREEHOLD_HOME"]).expanduser()
    base = env.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "freehold"


def user_config_path(env: dict[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "freehold" / "config.toml"


def project_config_path(cwd: Path) -> Path | None:
    """`.freehold/config.toml` in the working directory or the nearest parent that has one,
    stopping at the repository root."""
    for directory in (cwd, *cwd.parents):
        candidate = directory / ".freehold" / "config.toml"
        if candidate.is_file():
            return candidate
        if (directory / ".git").exists():
            return None
    return None


def load(cwd: Path, flags: dict[str, Any], env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ) if env is None else env
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}

    def layer(found: dict[str, Any], where: Any) -> None:
        for name, value in found.items():
            origin = where(name) if callable(where) else where
            if name in RULE_KEYS:  # rules add up across layers, each remembering its source
                values[name] = values.get(name, ()) + tuple((rule, origin) for rule in value)
            else:
                values[name] = value
            origins[name] = origin

    user = user_config_path(env)
    if user.is_file():
        layer(_from_file(user, project=False), f"user config {user}")
    project = project_config_path(cwd)
    if project is not None:
        layer(_from_file(project, project=True), f"project config {project}")
    env_names = {name: var for var, name in ENV_KEYS.items()}
    layer(_from_env(env), lambda name: f"environment {env_names[name]}")
    given = {k: v for k, v in flags.items() if v is not None}
    for name in RULE_KEYS:
        if name in given:
            _check_rules(given[name], f"flag {FLAG_NAMES[name]}")
    layer(given, lambda name: f"flag {FLAG_NAMES.get(name, '--' + name.replace('_', '-'))}")
    return _check(replace(Settings(), **values, origins=tuple(sorted(origins.items()))))


def _from_file(path: Path, project: bool) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config error: {path}: {exc}") from None
    except OSError as exc:
        raise UsageError(f"config error: {path}: {exc.strerror}") from None
    values: dict[str, Any] = {}
    for section, table in data.items():
        if not isinstance(table, dict):
            raise UsageError(f"config error: {path}: '{section}' must be a table like [{section}]")
        for key, value in table.items():
            name = FILE_KEYS.get((section, key))
            if name is None:
                raise UsageError(f"config error: {path}: unknown setting [{section}] {key}; known: {_known()}")
            if project and (name in NOT_IN_PROJECT or (name == "network_tools" and value != "none")):
                raise UsageError(
                    f"config error: {path}: [{section}] {key} does not belong in a project's config; "
                    "put it in your user config" + (" or set FREEHOLD_API_KEY" if name == "api_key" else "")
                )
            values[name] = _typed(name, value, f"{path}: [{section}] {key}")
            if name in RULE_KEYS:
                _check_rules(values[name], f"{path}: [{section}] {key}")
    return values


def _from_env(env: dict[str, str]) -> dict[str, Any]:
    return {name: _typed(name, env[var], var, from_text=True) for var, name in ENV_KEYS.items() if env.get(var)}


def _known() -> str:
    return ", ".join(f"[{s}] {k}" for s, k in FILE_KEYS)


_TYPES = {f.name: f.type for f in fields(Settings)}


def _typed(name: str, value: Any, where: str, from_text: bool = False) -> Any:
    kind = _TYPES[name].split(" | ")[0]
    try:
        return _convert(kind, value, from_text)
    except (TypeError, ValueError):
        raise UsageError(f"config error: {where} must be {_NAMES[kind]}, got {value!r}") from None


_NAMES = {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false",
          "tuple[str, ...]": "a list of strings", "tuple[tuple[str, str], ...]": "a list of rules such as \"Bash(pytest:*)\""}


def _check_rules(rules: tuple[str, ...], where: str) -> None:
    from freehold.policy.rules import Rule

    for text in rules:
        try:
            Rule.parse(text)
        except ValueError as exc:
            raise UsageError(f"config error: {where}: {exc}") from None


def _convert(kind: str, value: Any, from_text: bool) -> Any:
    if kind.startswith("tuple["):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError
        return tuple(value)
    if kind == "bool":
        if from_text and isinstance(value, str) and value.lower() in ("1", "true", "yes", "0", "false", "no"):
            return value.lower() in ("1", "true", "yes")
        if isinstance(value, bool):
            return value
        raise TypeError
    if kind == "int":
        if isinstance(value, bool) or not (isinstance(value, int) or from_text):
            raise TypeError
        return int(value)
    if kind == "float":
        if isinstance(value, bool) or not (isinstance(value, (int, float)) or from_text):
            raise TypeError
        return float(value)
    if not isinstance(value, str):
        raise TypeError
    return value


def _check(settings: Settings) -> Settings:
    if settings.model_file is not None and settings.origin("runtime") == "default":
        settings = replace(settings, runtime="llama.cpp")  # a model file is run in-process
    if settings.tool_choice not in ("auto", "required"):
        raise UsageError(f'[model] tool_choice must be "auto" or "required", got {settings.tool_choice!r}')
    if settings.runtime == "llama.cpp" and not settings.model_file:
        raise UsageError('[model] runtime = "llama.cpp" needs a model file: --model-file PATH or [model] path')
    if settings.permission_mode not in PERMISSION_MODES:
        raise UsageError(
            f"permission mode must be one of {', '.join(PERMISSION_MODES)}, got {settings.permission_mode!r}"
        )
    if settings.max_turns < 1:
        raise UsageError(f"max turns must be at least 1, got {settings.max_turns}")
    if settings.max_retries < 0 or settings.retry_backoff < 0 or settings.timeout <= 0:
        raise UsageError("max_retries and retry_backoff must be >= 0 and timeout > 0")
    if settings.runtime not in ("server", "llama.cpp"):
        raise UsageError(f'[model] runtime must be "server" or "llama.cpp", got {settings.runtime!r}')
    if settings.context_window is not None and settings.context_window < 512:
        raise UsageError(f"context window must be at least 512 tokens, got {settings.context_window}")
    if settings.map_tokens < 0 or settings.index_wait < 0:
        raise UsageError("[index] map_tokens and wait must be >= 0")
    if settings.memory_tokens < 0:
        raise UsageError("[context] memory_tokens must be >= 0")
    if not (0 <= settings.compact_at <= 1 and 0 < settings.compact_keep < 1):
        raise UsageError("[context] compact_at must be between 0 and 1, and keep_recent between 0 and 1 (exclusive)")
    if settings.network_tools not in ("none", "allow"):
        raise UsageError(f'[network] tools must be "none" or "allow", got {settings.network_tools!r}')
    if settings.endpoint is not None and not settings.endpoint.startswith(("http://", "https://")):
        raise UsageError(f"endpoint must be an http:// or https:// URL, got {settings.endpoint!r}")
    return settings
