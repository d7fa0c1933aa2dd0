"""Custom slash commands: prompt templates in `.freehold/commands/*.md` (the project's) and
`~/.config/freehold/commands/*.md` (the user's), as Claude Code has them.

`/name args` sends the template with `$ARGUMENTS` replaced by the arguments and `$1`..`$9` by
their words (a missing word is empty); a template with neither gets the arguments appended, so
nothing typed is lost. An optional front matter (`---` lines) gives `description:` and
`argument-hint:`. A subdirectory makes a namespace: `git/commit.md` is `/git:commit`. The
project's command wins over the user's of the same name; a file that cannot be used is skipped
with a warning, never an error.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from freehold.frontmatter import front_matter

MAX_BYTES = 64 * 1024
_PLACEHOLDER = re.compile(r"\$(ARGUMENTS|[1-9])")
_NAME_PART = re.compile(r"[\w][\w.-]*")  # what can follow "/" and be typed as one word


@dataclass(frozen=True)
class CustomCommand:
    name: str
    description: str
    template: str
    source: Path
    argument_hint: str = ""

    def expand(self, arguments: str) -> str:
        """The prompt for `/name arguments`. One pass over the template, so a `$1` inside the
        arguments stays as typed."""
        words = arguments.split()

        def value(match: re.Match[str]) -> str:
            key = match.group(1)
            if key == "ARGUMENTS":
                return arguments
            return words[int(key) - 1] if int(key) <= len(words) else ""

        if arguments and not _PLACEHOLDER.search(self.template):
            return f"{self.template}\n\nARGUMENTS: {arguments}"
        return _PLACEHOLDER.sub(value, self.template)


@dataclass
class Loaded:
    commands: dict[str, CustomCommand] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def load_commands(root: Path, user_dir: Path | None = None,
                  reserved: frozenset[str] | set[str] = frozenset()) -> Loaded:
    """The commands of the workspace `root` and of `user_dir` (by default the user's config
    directory's `commands/`); names in `reserved` (the built-ins) are refused with a warning."""
    if user_dir is None:
        from freehold.config import user_config_path

        user_dir = user_config_path().parent / "commands"
    loaded = Loaded()
    for directory in (user_dir, root / ".freehold" / "commands"):  # the project's last: it wins
        for path in sorted(directory.rglob("*.md")) if directory.is_dir() else ():
            _load(path, directory, reserved, loaded)
    return loaded


class _Unusable(Exception):
    """Why a command file is skipped; the message completes "is not used: ..."."""


def _load(path: Path, directory: Path, reserved: frozenset[str] | set[str], loaded: Loaded) -> None:
    parts = path.relative_to(directory).with_suffix("").parts
    if any(part.startswith(".") for part in parts):  # hidden, and editors' lock and backup files
        return
    name = ":".join(parts).lower()
    try:
        _check_name(name, reserved)
        meta, body = front_matter(_read(path))
    except _Unusable as exc:
        loaded.warnings.append(f"custom command {path} is not used: {exc}")
        return
    loaded.commands[name] = CustomCommand(name, meta.get("description", ""), body.strip(), path,
                                          meta.get("argument-hint", ""))


def _check_name(name: str, reserved: frozenset[str] | set[str]) -> None:
    if name in reserved:
        raise _Unusable(f"/{name} is a built-in command")
    if not all(_NAME_PART.fullmatch(part) for part in name.split(":")):
        raise _Unusable(f"/{name} cannot be typed as a command (use letters, digits, '.', '-' and '_')")


def _read(path: Path) -> str:
    """The file's text. Only a regular file is opened: a FIFO would block, a device never end."""
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            raise _Unusable("it is not a regular file")
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise _Unusable(f"it is over {MAX_BYTES // 1024} KB")
        return raw.decode("utf-8-sig")  # an editor's byte-order mark is not part of the text
    except OSError as exc:
        raise _Unusable(exc.strerror or str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise _Unusable("it is not UTF-8 text") from exc
