"""The file tools: Read (numbered lines, streamed), Write (atomic), Edit (see edit_match for its rules)."""

from __future__ import annotations

import os
import secrets
import stat
from itertools import islice
from pathlib import Path
from typing import Any, BinaryIO

from freehold.tools.base import Tool, ToolError, Workspace
from freehold.tools.edit_match import EditResult, MatchError, Rule, apply_edit, cut_line, numbered_line

__all__ = ["EDIT", "READ", "WRITE", "planned", "write_atomic"]

MAX_READ_LINES = 2000
_SNIFF_BYTES = 8192
# A partial line of this many bytes holds more than MAX_LINE_CHARS characters, so cutting it is safe.
_LINE_BYTES = 16384
# Counting the lines after the ones shown costs a scan; past this much, the note gives no total.
_COUNT_LIMIT = 64 * 1024 * 1024
# Edit holds the file in memory twice; bigger files are a job for Bash.
_MAX_EDIT_BYTES = 32 * 1024 * 1024
_SNIPPET_CONTEXT = 3
_SNIPPET_MAX_LINES = 30
_MAX_SNIPPETS = 3
_MAX_SUGGESTIONS = 3
_MAX_LISTING = 5000


# ---------------------------------------------------------------------------- arguments and paths


def _str_arg(args: dict[str, Any], name: str, default: str | None = None) -> str:
    value = args.get(name, default)
    if not isinstance(value, str):
        raise ToolError(f"{name} must be a string")
    return value


def _int_arg(args: dict[str, Any], name: str, default: int) -> int:
    value = args.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ToolError(f"{name} must be an integer, not {value!r}") from None


def _check_file(ws: Workspace, asked: str, path: Path) -> None:
    """Refuse anything Read or Edit cannot work on, saying what it is instead."""
    ws.check_read(path)
    shown = ws.display(path)
    if not path.exists():
        raise ToolError(f"file not found: {shown}{_suggestions(ws, asked, path)}")
    if path.is_dir():
        raise ToolError(f"{shown} is a directory, not a file; use Glob to list the files in it")
    if not stat.S_ISREG(path.stat().st_mode):
        raise ToolError(f"{shown} is not a regular file")


def _suggestions(ws: Workspace, asked: str, path: Path) -> str:
    """Files the model may have meant. Cheap on purpose: one directory listing and the root's subdirectories."""
    found = [ws.display(p) for p in _near_names(path)]
    found += [ws.display(p) for p in _under_root_dirs(ws, asked, path) if ws.display(p) not in found]
    if not found:
        return ""
    return "; did you mean " + ", ".join(found[:_MAX_SUGGESTIONS]) + "?"


def _near_names(path: Path) -> list[Path]:
    """Files next to `path` with the same name in another case, or the same stem."""
    if not path.parent.is_dir():
        return []
    name, stem = path.name.lower(), path.stem.lower()
    try:
        with os.scandir(path.parent) as entries:
            near = [
                Path(e.path)
                for e in islice(entries, _MAX_LISTING)
                if e.is_file() and (e.name.lower() == name or Path(e.name).stem.lower() == stem)
            ]
    except OSError:
        return []  # a hint is not worth an error of its own
    return sorted(near)


def _under_root_dirs(ws: Workspace, asked: str, path: Path) -> list[Path]:
    """`asked` (or its file name, if it was absolute) directly under the root or one of its subdirectories."""
    tail = path.name if os.path.isabs(os.path.expanduser(asked.strip())) else asked.strip()
    try:
        with os.scandir(ws.root) as entries:
            dirs = sorted(e.path for e in islice(entries, _MAX_LISTING) if e.is_dir() and not e.name.startswith("."))
    except OSError:
        return []
    candidates = [ws.root / tail] + [Path(d) / tail for d in dirs]
    return [c for c in candidates if c != path and c.is_file()]


def _lines_label(text: str) -> str:
    count = text.count("\n") + (1 if text and not text.endswith("\n") else 0)
    return f"{count} line" if count == 1 else f"{count} lines"


# ---------------------------------------------------------------------------- Read


def _read(ws: Workspace, args: dict[str, Any]) -> str:
    asked = _str_arg(args, "file_path")
    path = ws.resolve(asked)
    _check_file(ws, asked, path)
    offset = max(_int_arg(args, "offset", 1), 1)
    limit = min(max(_int_arg(args, "limit", MAX_READ_LINES), 1), MAX_READ_LINES)
    shown = ws.display(path)
    try:
        with path.open("rb") as f:
            if b"\0" in f.read(_SNIFF_BYTES):
                raise ToolError(f"{shown} is a binary file (it has NUL bytes); Read shows text files only")
            f.seek(0)
            return _read_numbered(f, shown, offset, limit)
    except OSError as exc:
        raise ToolError(f"cannot read {shown}: {exc.strerror or exc}") from None


def _read_numbered(f: BinaryIO, shown: str, offset: int, limit: int) -> str:
    skipped = _skip_lines(f, offset - 1)
    lines = _take_lines(f, limit)
    if not lines:
        if skipped == 0:
            return f"{shown} is empty"
        raise ToolError(f"offset {offset} is past the end of {shown}, which has {skipped} lines")
    body = "\n".join(numbered_line(offset + i, line) for i, line in enumerate(lines))
    last = offset + len(lines) - 1
    rest = _remaining_lines(f)
    if rest == 0:
        return body
    total = f" of {last + rest}" if rest is not None else ""
    return f"{body}\n[showing lines {offset}-{last}{total}; call Read with offset={last + 1} to continue]"


def _next_line(f: BinaryIO) -> tuple[str, int] | None:
    """The next line, cut to the shown length, and how many characters were cut; None at the end.

    Reads at most _LINE_BYTES of a line at once, so one huge line never fills memory.
    """
    head = f.readline(_LINE_BYTES)
    if not head:
        return None
    hidden, chunk = 0, head
    while not chunk.endswith(b"\n"):
        chunk = f.readline(_LINE_BYTES)
        if not chunk:
            break
        hidden += _char_count(chunk.removesuffix(b"\n").removesuffix(b"\r"))
    text = head.decode("utf-8", "replace").removesuffix("\n").removesuffix("\r")
    return text, hidden


def _char_count(data: bytes) -> int:
    # UTF-8 continuation bytes (0b10xxxxxx) do not start a character.
    return len(data.translate(None, delete=bytes(range(0x80, 0xC0))))


def _skip_lines(f: BinaryIO, count: int) -> int:
    for skipped in range(count):
        if _next_line(f) is None:
            return skipped
    return count


def _take_lines(f: BinaryIO, count: int) -> list[str]:
    lines: list[str] = []
    while len(lines) < count and (line := _next_line(f)) is not None:
        lines.append(cut_line(*line))
    return lines


def _remaining_lines(f: BinaryIO) -> int | None:
    """How many lines follow; None when there are too many bytes left to count cheaply."""
    size = os.fstat(f.fileno()).st_size
    if size - f.tell() > _COUNT_LIMIT:
        return None
    count, last = 0, b"\n"
    while chunk := f.read(1 << 20):
        count += chunk.count(b"\n")
        last = chunk[-1:]
    return count + (last != b"\n")


READ = Tool(
    name="Read",
    description=(
        "Read a text file. Lines come numbered like `cat -n` (number, tab, line); the numbers are not "
        f"part of the file. Shows up to {MAX_READ_LINES} lines from offset (1-based); page through long "
        "files with offset and limit. Lines over 2000 characters are cut. file_path is absolute or "
        "relative to the workspace root."
    ),
    parameters={
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "Path of the file to read"},
            "offset": {"type": "integer", "description": "Line number to start at (1-based)"},
            "limit": {"type": "integer", "description": f"Number of lines to read (at most {MAX_READ_LINES})"},
        },
        "required": ["file_path"],
        "additionalProperties": False,
    },
    run=_read,
    read_only=True,
)


# ---------------------------------------------------------------------------- Write


def write_atomic(path: Path, data: bytes) -> None:
    """Replace `path` with `data` through a temp file in the same directory, keeping its permission bits.

    Readers see the old file or the new one, never half of one. A new file gets the
    usual mode (0o666 less the umask), which is why the temp file is made with os.open
    rather than tempfile (which makes it 0o600).
    """
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
    temp = path.with_name(f".{path.name[:64]}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _encode(text: str, name: str) -> bytes:
    # surrogateescape gives back, unchanged, bytes an edited file had that were not UTF-8.
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise ToolError(f"{name} is not valid Unicode text (it has a lone surrogate)") from None


def _save(ws: Workspace, path: Path, text: str, name: str) -> None:
    data = _encode(text, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, data)
    except OSError as exc:
        raise ToolError(f"cannot write {ws.display(path)}: {exc.strerror or exc}") from None


def _write(ws: Workspace, args: dict[str, Any]) -> str:
    path = ws.resolve_for_write(_str_arg(args, "file_path"))
    content = _str_arg(args, "content")
    if path.is_dir():
        raise ToolError(f"{ws.display(path)} is a directory; give the path of a file")
    existed = path.exists()
    _save(ws, path, content, "content")
    if existed:
        return f"Wrote {_lines_label(content)} to {ws.display(path)}"
    return f"Created {ws.display(path)} ({_lines_label(content)})"


WRITE = Tool(
    name="Write",
    description=(
        "Write a file, replacing its whole content (parent directories are created). To change part "
        "of an existing file use Edit instead; Read a file before overwriting it."
    ),
    parameters={
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "Path of the file to write"},
            "content": {"type": "string", "description": "The complete new content of the file"},
        },
        "required": ["file_path", "content"],
        "additionalProperties": False,
    },
    run=_write,
    edits_files=True,
)


# ---------------------------------------------------------------------------- Edit


def _edit(ws: Workspace, args: dict[str, Any]) -> str:
    asked = _str_arg(args, "file_path")
    path = ws.resolve_for_write(asked)
    old, new = _str_arg(args, "old_string"), _str_arg(args, "new_string")
    replace_all = bool(args.get("replace_all", False))
    if old == new:
        raise ToolError("old_string and new_string are identical; there is nothing to change")
    if not old:
        return _create(ws, asked, path, new)
    _check_file(ws, asked, path)
    text = _load_for_edit(ws, path)
    try:
        result = apply_edit(text, old, new, replace_all)
    except MatchError as exc:
        raise ToolError(f"{ws.display(path)}: {exc}") from None
    _save(ws, path, result.text, "new_string")
    return _edit_report(ws.display(path), result)


def planned(ws: Workspace, args: dict[str, Any], tool: str) -> tuple[Path, str | None, str]:
    """What Write or Edit with `args` would do, with nothing written: (the file, its text now or
    None if it does not exist, its text after). Raises ToolError where the call would fail."""
    asked = _str_arg(args, "file_path")
    path = ws.resolve_for_write(asked)
    if path.is_dir():
        raise ToolError(f"{ws.display(path)} is a directory; give the path of a file")
    before = None
    if path.exists():
        _check_file(ws, asked, path)
        before = _load_for_edit(ws, path)
    if tool == "Write":
        return path, before, _str_arg(args, "content")
    old, new = _str_arg(args, "old_string"), _str_arg(args, "new_string")
    if not old:
        if before:
            raise ToolError("old_string is empty but the file has content")
        return path, before, new
    if before is None:
        raise ToolError(f"file not found: {ws.display(path)}")
    try:
        return path, before, apply_edit(before, old, new, bool(args.get("replace_all", False))).text
    except MatchError as exc:
        raise ToolError(str(exc)) from None


def _create(ws: Workspace, asked: str, path: Path, new: str) -> str:
    """An empty old_string makes a new file; on a file that has text it would be a guess."""
    if path.is_dir():
        raise ToolError(f"{ws.display(path)} is a directory; give the path of a file")
    existed = path.exists()
    if existed:
        _check_file(ws, asked, path)
        if path.stat().st_size > 0:
            raise ToolError(
                f"old_string is empty but {ws.display(path)} already has content; give the text to "
                "replace, or use Write to replace the whole file"
            )
    _save(ws, path, new, "new_string")
    verb = "Wrote" if existed else "Created"
    return f"{verb} {ws.display(path)} ({_lines_label(new)})"


def _load_for_edit(ws: Workspace, path: Path) -> str:
    shown = ws.display(path)
    try:
        if path.stat().st_size > _MAX_EDIT_BYTES:
            raise ToolError(f"{shown} is too large for Edit ({path.stat().st_size} bytes); use Bash to change it")
        data = path.read_bytes()
    except OSError as exc:
        raise ToolError(f"cannot read {shown}: {exc.strerror or exc}") from None
    if b"\0" in data[:_SNIFF_BYTES]:
        raise ToolError(f"{shown} is a binary file (it has NUL bytes); Edit changes text files only")
    return data.decode("utf-8", "surrogateescape")


def _edit_report(shown: str, result: EditResult) -> str:
    how = "" if result.rule is Rule.EXACT else f" (matched {result.rule.value})"
    places = ", ".join(span.label() for span in result.changed[:10]) + (", …" if len(result.changed) > 10 else "")
    if len(result.changed) == 1:
        noun = "line" if result.changed[0].first == result.changed[0].last else "lines"
        head = f"Edited {shown} at {noun} {places}{how}:"
    else:
        head = f"Edited {shown}: replaced {len(result.changed)} occurrences, at lines {places}{how}:"
    lines = result.text.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the text ends with a line break; there is no line after it
    snippets = [_snippet(lines, span.first, span.last) for span in result.changed[:_MAX_SNIPPETS]]
    more = len(result.changed) - _MAX_SNIPPETS
    tail = [f"[{more} more occurrences not shown]"] if more > 0 else []
    return "\n".join([head, "\n...\n".join(snippets), *tail])


def _snippet(lines: list[str], first: int, last: int) -> str:
    """The changed lines and a few around them, numbered as Read numbers them."""
    start = max(first - _SNIPPET_CONTEXT, 1)
    stop = min(last + _SNIPPET_CONTEXT, len(lines), start + _SNIPPET_MAX_LINES - 1)
    shown = [numbered_line(n, cut_line(lines[n - 1])) for n in range(start, stop + 1)]
    if stop < last + _SNIPPET_CONTEXT and stop < len(lines):
        shown.append("     …")
    return "\n".join(shown)


EDIT = Tool(
    name="Edit",
    description=(
        "Replace old_string with new_string in a file. old_string must match the file's text exactly "
        "(copy it from Read output, without the line-number prefix) and be unique: add surrounding "
        "lines to make it unique, or set replace_all to change every occurrence. An empty old_string "
        "creates a new file."
    ),
    parameters={
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "Path of the file to edit"},
            "old_string": {"type": "string", "description": "The exact text to replace"},
            "new_string": {"type": "string", "description": "The text to put in its place"},
            "replace_all": {"type": "boolean", "description": "Replace every occurrence (default false)"},
        },
        "required": ["file_path", "old_string", "new_string"],
        "additionalProperties": False,
    },
    run=_edit,
    edits_files=True,
)
