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
    max_turns: int = 50
    permission_mode: str = "default"
    redaction: bool = True
    network_tools: str = "allow"
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
    ("agent", "max_turns"): "max_turns",
    ("agent", "permission_mode"): "permission_mode",
    ("redaction", "enabled"): "redaction",
    ("network", "tools"): "network_tools",
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
}
# A project's config is in its repository, where a secret would be committed and shared.
NOT_IN_PROJECT = {"api_key"}


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
        values.update(found)
        origins.update({name: where(name) if callable(where) else where for name in found})

    user = user_config_path(env)
    if user.is_file():
        layer(_from_file(user, project=False), f"user config {user}")
    project = project_config_path(cwd)
    if project is not None:
        layer(_from_file(project, project=True), f"project config {project}")
    env_names = {name: var for var, name in ENV_KEYS.items()}
    layer(_from_env(env), lambda name: f"environment {env_names[name]}")
    layer({k: v for k, v in flags.items() if v is not None}, lambda name: f"flag --{name.replace('_', '-')}")
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
            if project and name in NOT_IN_PROJECT:
                raise UsageError(
                    f"config error: {path}: [{section}] {key} does not belong in a project's config; "
                    "set FREEHOLD_API_KEY or put it in your user config"
                )
            values[name] = _typed(name, value, f"{path}: [{section}] {key}")
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


_NAMES = {"str": "a string", "int": "a whole number", "float": "a number", "bool": "true or false"}


def _convert(kind: str, value: Any, from_text: bool) -> Any:
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
    if settings.permission_mode not in PERMISSION_MODES:
        raise UsageError(
            f"permission mode must be one of {', '.join(PERMISSION_MODES)}, got {settings.permission_mode!r}"
        )
    if settings.max_turns < 1:
        raise UsageError(f"max turns must be at least 1, got {settings.max_turns}")
    if settings.max_retries < 0 or settings.retry_backoff < 0 or settings.timeout <= 0:
        raise UsageError("max_retries and retry_backoff must be >= 0 and timeout > 0")
    if settings.network_tools not in ("none", "allow"):
        raise UsageError(f'[network] tools must be "none" or "allow", got {settings.network_tools!r}')
    if settings.endpoint is not None and not settings.endpoint.startswith(("http://", "https://")):
        raise UsageError(f"endpoint must be an http:// or https:// URL, got {settings.endpoint!r}")
    return settings
