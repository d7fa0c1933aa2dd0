"""Project memory: the instruction files (AGENTS.md, CLAUDE.md, QWEN.md, FREEHOLD.md) read at the
start of a session and put in the system prompt, general first and most specific last.

The user's own files (beside config.toml) come first, then each directory's from the repository
root down to the working directory, so the nearest instructions come last and win a conflict.
The whole block keeps to a token budget: when it is over, the most general files are cut first.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from freehold.config import user_config_path

NAMES = ("AGENTS.md", "CLAUDE.md", "QWEN.md", "FREEHOLD.md")
USER_NAMES = ("AGENTS.md", "FREEHOLD.md")
CHARS_PER_TOKEN = 3.2
MAX_FILE_BYTES = 64 * 1024
HEADER = (
    "\n\n# Project instructions\n"
    "Instructions from the project's memory files; the later, more specific ones win.\n"
)
CUT_MARK = "\n[… cut to fit]"
# A file cut to fewer characters than this says too little to be worth its heading: leave it out.
_MIN_KEPT = 120


@dataclass(frozen=True)
class MemoryFile:
    path: Path
    label: str  # what the model and the person see: relative to the repository root, or "~/…"
    text: str
    cut: bool = False


@dataclass(frozen=True)
class Memory:
    files: list[MemoryFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def block(self) -> str:
        """The text appended to the system prompt; "" when there are no files."""
        if not self.files:
            return ""
        parts = [HEADER]
        parts += [f"\n## {f.label}\n{f.text.rstrip()}\n" for f in self.files]
        parts += [f"\n({note})\n" for note in self.notes]
        return "".join(parts)

    def describe(self) -> str:
        """What /memory shows: each file, its size, whether it was cut, then the notes."""
        if not self.files and not self.notes:
            return f"no memory files ({', '.join(NAMES)})"
        lines = [f"{f.label}  {f.path}  {len(f.text)} chars{', cut' if f.cut else ''}" for f in self.files]
        if not self.files:
            lines.append(f"no memory files ({', '.join(NAMES)})")
        return "\n".join(lines + [f"note: {note}" for note in self.notes])


def load_memory(cwd: Path, *, user_dir: Path | None = None, budget_tokens: int = 2048,
                readable: Callable[[Path], bool] | None = None) -> Memory:
    """The memory files for a session in `cwd`; never raises for a bad file (it becomes a note).
    `readable` is the workspace's deny_read check, given each project file's real path."""
    cwd = Path(os.path.realpath(cwd))
    user_dir = user_config_path().parent if user_dir is None else user_dir
    # Outside a repository the working directory is both the top and the boundary.
    root = repository_root(cwd) or cwd
    files: list[MemoryFile] = []
    notes: list[str] = []
    for name in USER_NAMES:
        _add(user_dir / name, _user_label(user_dir / name), None, None, files, notes)
    for directory in directories(root, cwd):
        for name in NAMES:
            path = directory / name
            _add(path, path.relative_to(root).as_posix(), root, readable, files, notes)
    return fit(Memory(files, notes), int(budget_tokens * CHARS_PER_TOKEN))


def repository_root(cwd: Path) -> Path | None:
    """The nearest ancestor of `cwd` (itself included) holding `.git`, a directory or a file."""
    for directory in (cwd, *cwd.parents):
        if (directory / ".git").exists():
            return directory
    return None


def directories(root: Path, cwd: Path) -> list[Path]:
    """From `root` (an ancestor of `cwd`, or `cwd` itself) down to `cwd`."""
    chain = [cwd, *cwd.parents]
    return list(reversed(chain[: chain.index(root) + 1]))


def fit(memory: Memory, limit: int) -> Memory:
    """`memory` with its block at most `limit` characters: the most general files (first) are
    cut, or left out when little would remain, and a note names them."""
    files, notes = list(memory.files), list(memory.notes)
    cut: list[str] = []
    dropped: list[str] = []
    i = 0
    while i < len(files) and len(Memory(files, notes + _budget_note(cut, dropped)).block()) > limit:
        original = files[i]
        # Measure everything else with this file cut to nothing, its note included.
        bare = files[:i] + [replace(original, text=CUT_MARK, cut=True)] + files[i + 1:]
        room = limit - len(Memory(bare, notes + _budget_note(cut + [original.label], dropped)).block())
        if room >= _MIN_KEPT:
            files[i] = replace(original, text=_head(original.text, room) + CUT_MARK, cut=True)
            cut.append(original.label)
            i += 1
        else:
            del files[i]
            dropped.append(original.label)
    return Memory(files, notes + _budget_note(cut, dropped))


def _budget_note(cut: list[str], dropped: list[str]) -> list[str]:
    said = []
    if cut:
        said.append(f"cut: {', '.join(cut)}")
    if dropped:
        said.append(f"left out: {', '.join(dropped)}")
    return [f"memory over its token budget; {'; '.join(said)}"] if said else []


def _head(text: str, room: int) -> str:
    """At most `room` characters from the start of `text`, ending at a line break when one is near."""
    head = text[:room].rstrip()
    line_end = head.rfind("\n")
    return head[:line_end].rstrip() if line_end > room // 2 else head


def _add(path: Path, label: str, root: Path | None, readable: Callable[[Path], bool] | None,
         files: list[MemoryFile], notes: list[str]) -> None:
    """Append `path` to `files` when it may be read, or a note to `notes` saying why not.
    `root` None: the user's own directory, exempt from the containment and readable checks
    (it sits under ~/.config, which the workspace hides from the model)."""
    if not os.path.lexists(path):
        return
    real = Path(os.path.realpath(path))
    if root is not None and not real.is_relative_to(root):
        notes.append(f"{label} left out: it links outside the repository")
        return
    if not real.is_file():
        notes.append(f"{label} left out: not a regular file")
        return
    if root is not None and readable is not None and not readable(real):
        notes.append(f"{label} left out: the workspace's deny_read refuses it")
        return
    try:
        with open(real, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        notes.append(f"{label} left out: {error.strerror or error}")
        return
    text = data[:MAX_FILE_BYTES].decode("utf-8", errors="replace")
    if len(data) > MAX_FILE_BYTES:
        notes.append(f"{label} cut at {MAX_FILE_BYTES // 1024} KB")
        text += CUT_MARK
    files.append(MemoryFile(path, label, text, cut=len(data) > MAX_FILE_BYTES))


def _user_label(path: Path) -> str:
    home = Path(os.path.expanduser("~"))
    return f"~/{path.relative_to(home).as_posix()}" if path.is_relative_to(home) else str(path)
