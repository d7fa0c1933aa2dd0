"""Custom slash commands: prompt templates in `.freehold/commands/*.md` (the project's) and
`~/.config/freehold/commands/*.md` (the user's), as Claude Code has them.

`/name args` sends the template with `$ARGUMENTS` replaced by the arguments and `$1`..`$9` by
the words of them. An optional front matter (`---` lines) gives `description:` and
`argument-hint:`. A subdirectory makes a namespace: `git/commit.md` is `/git:commit`. The
project's command wins over the user's of the same name; a file that cannot be used is skipped
with a warning, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = 64 * 1024
_POSITIONAL = re.compile(r"\$([1-9])")


@dataclass(frozen=True)
class CustomCommand:
    name: str
    template: str
    source: Path
    description: str = ""
    argument_hint: str = ""

    def expand(self, arguments: str) -> str:
        words = arguments.split()
        text = self.template.replace("$ARGUMENTS", arguments)
        return _POSITIONAL.sub(lambda m: words[int(m.group(1)) - 1] if int(m.group(1)) <= len(words) else "", text)


@dataclass
class Loaded:
    commands: dict[str, CustomCommand] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load_commands(root: Path, user_dir: Path | None = None, reserved: frozenset[str] | set[str] = frozenset()) -> Loaded:
    if user_dir is None:
        from freehold.config import user_config_path

        user_dir = user_config_path().parent / "commands"
    loaded = Loaded()
    for directory in (user_dir, root / ".freehold" / "commands"):  # the project's last: it wins
        for path in sorted(directory.rglob("*.md")) if directory.is_dir() else ():
            _load(path, directory, reserved, loaded)
    return loaded


def _load(path: Path, directory: Path, reserved: frozenset[str] | set[str], loaded: Loaded) -> None:
    name = ":".join(path.relative_to(directory).with_suffix("").parts).lower()
    if name in reserved:
        loaded.warnings.append(f"custom command {path} is not used: /{name} is a built-in command")
        return
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValueError(f"it is over {MAX_BYTES // 1024} KB")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        loaded.warnings.append(f"custom command {path} is not used: {exc}")
        return
    meta, template = _front_matter(text)
    loaded.commands[name] = CustomCommand(name, template.strip(), path, meta.get("description", ""),
                                          meta.get("argument-hint", ""))


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    """`key: value` lines between a first line `---` and the next `---`, and the rest."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end, line in enumerate(lines[1:], 1):
        if line.strip() == "---":
            meta = {}
            for entry in lines[1:end]:
                key, sep, value = entry.partition(":")
                if sep:
                    meta[key.strip().lower()] = value.strip().strip("\"'")
            return meta, "".join(lines[end + 1 :])
    return {}, text
