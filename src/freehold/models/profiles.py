"""What a model family needs, as data: one TOML file per family in `profiles/`.

A profile says how the family's tool calls come back when a server writes them as text
(`dialect`), whether tools go to the server as OpenAI `tools` or are described in the prompt
(`tools`), how it shows its reasoning, the sampling its makers recommend and the context window
it is known for. `profile_for` picks one by the model's name; `[model] profile` in the config
names one outright.

Matching: each file's `match` regexes are searched, case-insensitively, in the model's name (an
Ollama tag, a Hugging Face id, a served alias, a GGUF file's name) and in the GGUF's
`general.name` / `general.basename`. Profiles are tried in the order of their `priority` (lower
first, then by name), so a narrow family is tried before a wide one that would also match
("qwen3-coder" before "qwen3", "deepseek-r1" before the Qwen and Llama names its distills
carry). `default` matches nothing and is the answer when nothing else does.

The files are read with importlib.resources, so they are found in an installed wheel too, and
checked strictly: an unknown key or a bad value is a ValueError naming the file and the key.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path, PurePath
from typing import Any

__all__ = ["DIALECTS", "REASONING", "TOOLS", "Profile", "Sampling", "load_profiles", "profile_for"]

# How tool calls look when a server hands them back as text (no tool parser): see dialects.py
# for the ones read today ("hermes", "qwen3coder"); "native" means the family has no text form
# worth reading and relies on the server's parser.
DIALECTS = ("hermes", "qwen3coder", "mistral", "llama3", "harmony", "native")
# "native": OpenAI `tools` in the request; "prompt": tools described in the system prompt.
TOOLS = ("native", "prompt")
# "think-tags": <think>...</think> in the text (when the server does not split it out);
# "reasoning_content": a separate field from the server; "none": the family does not reason.
REASONING = ("think-tags", "reasoning_content", "none")

DEFAULT = "default"


@dataclass(frozen=True)
class Sampling:
    """The makers' recommended sampling; None where they recommend nothing (the server decides)."""

    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    min_p: float | None = None
    repeat_penalty: float | None = None

    def items(self) -> list[tuple[str, float | int]]:
        """The values set, by name, in field order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self) if getattr(self, f.name) is not None]


@dataclass(frozen=True)
class Profile:
    name: str
    match: tuple[str, ...]
    dialect: str
    tools: str
    reasoning: str
    # The chat template opens <think> itself, so the output carries only the closing tag.
    closes_with_bare_think_end: bool
    sampling: Sampling
    context_window: int | None  # the family's known default; None: unknown
    priority: int = 50

    def matches(self, names: Iterable[str]) -> bool:
        return any(re.search(p, n, re.IGNORECASE) for p in self.match for n in names if n)


# -- loading ---------------------------------------------------------------------------------

_REQUIRED = ("name", "match", "dialect", "tools", "reasoning", "closes_with_bare_think_end")
_OPTIONAL = ("priority", "context_window", "sampling")
# name -> (type, low, high): the range a value must fall in, both ends included.
_SAMPLING: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 2.0),
    "top_p": (float, 0.0, 1.0),
    "top_k": (int, 0, 1 << 20),
    "min_p": (float, 0.0, 1.0),
    "repeat_penalty": (float, 0.5, 2.0),
}


def load_profiles(directory: Traversable | Path | None = None) -> list[Profile]:
    """Every profile, in the order `profile_for` tries them (`default` last).

    `directory` is for tests; by default the package's own `profiles/` is read (once)."""
    if directory is None:
        return list(_packaged())
    return _load(directory)


@functools.cache
def _packaged() -> tuple[Profile, ...]:
    return tuple(_load(resources.files("freehold.models").joinpath("profiles")))


def _load(directory: Traversable | Path) -> list[Profile]:
    try:
        files = sorted((f for f in directory.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name)
    except FileNotFoundError:  # an install without its data files (see pyproject's package-data)
        raise ValueError(f"profiles: the directory {directory} is missing") from None
    profiles = [_parse(f.name, f.read_text(encoding="utf-8")) for f in files]
    # Names are file names (checked in _parse), so no two profiles share one.
    if DEFAULT not in {p.name for p in profiles}:
        raise ValueError(f"profiles: no {DEFAULT}.toml in {directory}")
    return sorted(profiles, key=lambda p: (p.name == DEFAULT, p.priority, p.name))


def _parse(filename: str, text: str) -> Profile:
    where = f"profiles/{filename}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{where}: not valid TOML: {exc}") from None
    unknown = sorted(set(data) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise ValueError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(_REQUIRED + _OPTIONAL)})")
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ValueError(f"{where}: missing key {missing[0]!r}")
    name = _string(data, "name", where)
    if name != PurePath(filename).stem:
        raise ValueError(f"{where}: key 'name' is {name!r}, but must be the file's name, {PurePath(filename).stem!r}")
    return Profile(
        name=name,
        match=_patterns(data["match"], where),
        dialect=_choice(data, "dialect", DIALECTS, where),
        tools=_choice(data, "tools", TOOLS, where),
        reasoning=_choice(data, "reasoning", REASONING, where),
        closes_with_bare_think_end=_bool(data, "closes_with_bare_think_end", where),
        sampling=_sampling(data.get("sampling", {}), where),
        context_window=_positive(data, "context_window", where, 512, 1 << 24),
        priority=_positive(data, "priority", where, 0, 1000) if "priority" in data else 50,
    )


def _string(data: dict[str, Any], key: str, where: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: key {key!r} must be a non-empty string, got {value!r}")
    return value


def _choice(data: dict[str, Any], key: str, allowed: tuple[str, ...], where: str) -> str:
    value = data[key]
    if value not in allowed:
        raise ValueError(f"{where}: key {key!r} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _bool(data: dict[str, Any], key: str, where: str) -> bool:
    value = data[key]
    if not isinstance(value, bool):
        raise ValueError(f"{where}: key {key!r} must be true or false, got {value!r}")
    return value


def _positive(data: dict[str, Any], key: str, where: str, low: int, high: int) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{where}: key {key!r} must be a whole number from {low} to {high}, got {value!r}")
    return value


def _patterns(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise ValueError(f"{where}: key 'match' must be a list of regular expressions (strings)")
    for pattern in value:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"{where}: key 'match': {pattern!r} is not a valid regular expression: {exc}") from None
    return tuple(value)


def _sampling(table: Any, where: str) -> Sampling:
    if not isinstance(table, dict):
        raise ValueError(f"{where}: key 'sampling' must be a table ([sampling])")
    values: dict[str, float | int] = {}
    for key, value in table.items():
        if key not in _SAMPLING:
            raise ValueError(f"{where}: unknown key 'sampling.{key}' (known: {', '.join(_SAMPLING)})")
        kind, low, high = _SAMPLING[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or (kind is int and type(value) is not int) or not low <= value <= high:
            what = "a whole number" if kind is int else "a number"
            raise ValueError(f"{where}: key 'sampling.{key}' must be {what} from {low} to {high}, got {value!r}")
        values[key] = kind(value)
    return Sampling(**values)  # type: ignore[arg-type]


# -- choosing --------------------------------------------------------------------------------


def profile_for(
    model: str | None,
    *,
    gguf_names: Sequence[str] = (),
    override: str | None = None,
    profiles: Sequence[Profile] | None = None,
) -> Profile:
    """The profile for `model`: the one `override` names, else the first that matches (see the
    module docstring), else `default`. An unknown `override` is a ValueError naming the known ones.

    `gguf_names` are a GGUF's `general.name` and `general.basename`, when there is a file to read.
    `model` is None when the name is not known yet (no --model, the server not asked): then only
    `gguf_names` and `override` can choose."""
    known = list(profiles) if profiles is not None else load_profiles()
    if override is not None:
        chosen = next((p for p in known if p.name == override), None)
        if chosen is None:
            names = ", ".join(sorted(p.name for p in known))
            raise ValueError(f"no model profile named {override!r}; the known ones are: {names}")
        return chosen
    names = [_file_name(model) if model else "", *gguf_names]
    found = next((p for p in known if p.name != DEFAULT and p.matches(names)), None)
    return found or next(p for p in known if p.name == DEFAULT)


def _file_name(model: str) -> str:
    """A GGUF path's file name (its directories say nothing of the model); any other name whole."""
    return PurePath(model).name if model.lower().endswith(".gguf") else model
