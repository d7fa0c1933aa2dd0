"""The Grep and Glob tools: find text in files (ripgrep, or a pure-Python stand-in) and files by name.

Both choose files the way ripgrep does: hidden files and directories are skipped, and inside a git work
tree so are git-ignored ones (the Python side asks `git ls-files`). Every process, rg and git alike,
starts through `freehold.sandbox`. Results are sorted, capped, and shown relative to the workspace root.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any, Literal

from freehold.globs import glob_regex
from freehold.sandbox import ProcessResult, SandboxUnavailable, process
from freehold.tools.base import Tool, ToolError, Workspace

MAX_FILES = 200
MAX_LINES = 400
MAX_LINE_CHARS = 300
OUTPUT_MODES = ("files_with_matches", "content", "count")
Backend = Literal["auto", "rg", "python"]

_TIMEOUT = 60.0
# rg's and git's output is parsed whole; past this only its head is read and totals become lower bounds.
_LISTING_LIMIT = 8_000_000
# rg shortens lines longer than this many bytes itself, so a minified file cannot flood the buffer. 2000
# bytes are at least 500 characters, so both backends still cut lines at MAX_LINE_CHARS, in the same place.
_RG_MAX_COLUMNS = 2000
# Like rg, a NUL byte near the start marks a file as binary, and binary files are not searched.
_BINARY_PROBE = 8192

GREP_DESCRIPTION = (
    "Search file contents with a regular expression (ripgrep syntax). Skips hidden, binary and git-ignored "
    "files. output_mode: files_with_matches (default, paths only), content (path:line:text) or count. "
    'path: a file or directory (default: workspace root). glob filters files, e.g. "*.py" or "src/**/*.ts".'
)

GREP_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pattern": {"type": "string", "description": "Regular expression to search for"},
        "path": {"type": "string", "description": "File or directory to search (default: workspace root)"},
        "glob": {"type": "string", "description": 'Only search files matching this glob, e.g. "*.py"'},
        "output_mode": {"type": "string", "enum": list(OUTPUT_MODES)},
        "-i": {"type": "boolean", "description": "Case-insensitive search"},
    },
    "required": ["pattern"],
    "additionalProperties": False,
}

GLOB_DESCRIPTION = (
    'Find files whose path matches a glob such as "**/*.py" or "src/*.ts", relative to path (default: '
    "workspace root). Skips git-ignored files, and hidden ones unless the pattern names a hidden file or "
    "directory. Newest first, at most 200."
)

GLOB_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "pattern": {"type": "string", "description": 'Glob to match, e.g. "**/*.py"'},
        "path": {"type": "string", "description": "Directory to search (default: workspace root)"},
    },
    "required": ["pattern"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class GrepQuery:
    pattern: str
    target: Path
    mode: str = "files_with_matches"
    glob: str | None = None
    ignore_case: bool = False


@dataclass(frozen=True)
class FileHits:
    """One file's matches: how many lines matched and, in content mode, those lines (number, text)."""

    path: Path
    count: int = 0
    lines: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True)
class GrepHits:
    files: list[FileHits]
    # False when the backend's output was too large to read whole, so the totals are lower bounds.
    complete: bool = True


@dataclass(frozen=True)
class _Candidate:
    """A file a search may look at; `hidden` when any part of its path below the search root starts with '.'."""

    path: Path
    hidden: bool
    ignored: bool = False


@dataclass(frozen=True)
class _GlobRule:
    """rg's --glob: a glob keeps only the files it matches, even hidden or ignored ones; `!glob` drops them."""

    regex: re.Pattern[str]
    negated: bool

    def verdict(self, rel: str) -> bool | None:
        """True to search the file, False to skip it, None to leave it to the hidden/ignored rules."""
        if self.regex.fullmatch(rel):
            return not self.negated
        return None if self.negated else False


# ---- Grep


def grep(ws: Workspace, args: dict[str, Any], *, backend: Backend = "auto") -> str:
    """Run a Grep call; `backend` forces ripgrep or the Python stand-in (tests run both)."""
    query = _grep_query(ws, args)
    rg = None if backend == "python" else shutil.which("rg")
    if backend == "rg" and rg is None:
        raise ToolError("ripgrep (rg) is not installed")
    ws.check_read(query.target)
    try:
        hits = _rg_search(ws, query, rg) if rg else _python_search(ws, query)
    except SandboxUnavailable:  # rg runs only confined; the in-process search applies the same boundary
        hits = _python_search(ws, query)
    # Files the policy keeps out of the model's context are searched by no one's eyes: drop them.
    hits = GrepHits([h for h in hits.files if ws.read_denied(h.path) is None], hits.complete)
    return _format_hits(ws, query, hits)


def _grep_query(ws: Workspace, args: dict[str, Any]) -> GrepQuery:
    pattern = args.get("pattern")
    if not isinstance(pattern, str) or not pattern:
        raise ToolError("pattern is required: the regular expression to search for")
    mode = args.get("output_mode") or "files_with_matches"
    if mode not in OUTPUT_MODES:
        raise ToolError(f"output_mode must be one of: {', '.join(OUTPUT_MODES)}")
    glob = args.get("glob") or None
    if glob is not None and not isinstance(glob, str):
        raise ToolError('glob must be a string such as "*.py"')
    return GrepQuery(pattern, _search_root(ws, args.get("path")), mode, glob, bool(args.get("-i")))


def _search_root(ws: Workspace, path: Any) -> Path:
    if path is None or path == "":
        return ws.root
    if not isinstance(path, str):
        raise ToolError("path must be a string")
    target = ws.resolve(path)
    ws.check_read(target)
    if not target.exists():
        raise ToolError(f"{path} does not exist")
    return target


def _rg_search(ws: Workspace, query: GrepQuery, rg: str) -> GrepHits:
    # cwd is the workspace root because rg matches globs that contain a slash against paths relative to it.
    result = process.run(_rg_argv(rg, query), cwd=ws.root, timeout=_TIMEOUT, output_limit=_LISTING_LIMIT,
                         confinement=ws.command_confinement(network=False))
    if result.timed_out:
        raise ToolError(f"Grep timed out after {_TIMEOUT:g}s; narrow the path or glob")
    text = _whole_records(result)
    # Exit 1 is "no matches"; 2 is an error, possibly after some results (e.g. an unreadable file,
    # such as one the sandbox hides). With --no-messages, a file error prints nothing, while an
    # error in the pattern still does: silence with exit 2 means no readable file matched.
    if result.exit_code == 2 and not result.output.strip():
        return GrepHits([], complete=True)
    if result.exit_code not in (0, 1, 2) or (result.exit_code == 2 and "\0" not in text):
        raise ToolError(f"Grep failed: {result.output.strip() or f'rg exit code {result.exit_code}'}")
    return GrepHits(_parse_rg(query.mode, text), complete=not result.omitted_chars)


def _rg_argv(rg: str, query: GrepQuery) -> list[str]:
    argv = [rg, "--no-config", "--no-messages", "--color", "never", "--sort", "path", "--null"]
    argv += ["--with-filename", "--max-columns", str(_RG_MAX_COLUMNS), "--max-columns-preview"]
    argv += {"files_with_matches": ["--files-with-matches"], "count": ["--count"]}.get(
        query.mode, ["--line-number", "--no-heading"]
    )
    if query.ignore_case:
        argv.append("--ignore-case")
    if query.glob:
        argv += ["--glob", query.glob]
    return [*argv, "--regexp", query.pattern, "--", str(query.target)]


def _whole_records(result: ProcessResult) -> str:
    """The output to parse: all of it, or when it was cut, its head (whose last record may be partial)."""
    return result.head if result.omitted_chars else result.output


def _parse_rg(mode: str, text: str) -> list[FileHits]:
    """Parse `rg --null` output; whatever follows the last terminator is partial or empty and dropped."""
    if mode == "files_with_matches":
        return [FileHits(Path(name)) for name in text.split("\0")[:-1]]
    records = text.split("\n")[:-1]
    if mode == "count":
        pairs = (record.partition("\0") for record in records)
        return [FileHits(Path(name), int(n)) for name, sep, n in pairs if sep and n.isdigit()]
    return _parse_rg_content(records)


def _parse_rg_content(records: list[str]) -> list[FileHits]:
    by_file: dict[str, list[tuple[int, str]]] = {}
    for record in records:
        name, sep, rest = record.partition("\0")
        number, colon, text = rest.partition(":")
        # Anything else is a notice, such as "binary file matches" for a binary file named outright.
        if sep and colon and number.isdigit():
            by_file.setdefault(name, []).append((int(number), _clip(text)))
    return [FileHits(Path(name), len(lines), tuple(lines)) for name, lines in by_file.items()]


def _python_search(ws: Workspace, query: GrepQuery) -> GrepHits:
    regex = _compile_regex(query)
    found: list[FileHits] = []
    room = MAX_LINES  # lines past this are counted but never shown, so they are not kept
    for path in _grep_files(ws, query):
        hits = _search_file(path, regex, query.mode, room)
        if hits is not None:
            found.append(hits)
            room -= len(hits.lines)
    return GrepHits(found)


def _compile_regex(query: GrepQuery) -> re.Pattern[str]:
    try:
        return re.compile(query.pattern, re.IGNORECASE if query.ignore_case else 0)
    except re.error as exc:
        raise ToolError(f"invalid regular expression {query.pattern!r}: {exc}") from None


def _grep_files(ws: Workspace, query: GrepQuery) -> list[Path]:
    if query.target.is_file():
        return [query.target]  # like rg: a file named outright is searched whatever its name
    rule = _glob_rule(query.glob)
    wants_ignored = rule is not None and not rule.negated
    files = []
    for candidate in _candidates(ws, query.target, hidden_dirs=False, ignored=wants_ignored):
        verdict = rule.verdict(ws.display(candidate.path)) if rule else None
        if verdict is None:
            verdict = not (candidate.hidden or candidate.ignored)
        if verdict:
            files.append(candidate.path)
    return files


def _search_file(path: Path, regex: re.Pattern[str], mode: str, room: int) -> FileHits | None:
    """The matches in one file, keeping at most `room` lines; None if none, or binary, or unreadable."""
    count = 0
    lines: list[tuple[int, str]] = []
    try:
        with path.open("rb") as file:
            if b"\0" in file.read(_BINARY_PROBE):
                return None
            file.seek(0)
            for number, raw in enumerate(file, 1):
                text = raw.decode("utf-8", "replace").rstrip("\n")
                if not regex.search(text):
                    continue
                count += 1
                if mode == "files_with_matches":
                    break
                if mode == "content" and len(lines) < room:
                    lines.append((number, _clip(text)))
    except OSError:
        return None  # rg skips files it cannot read, silently with --no-messages
    return FileHits(path, count, tuple(lines)) if count else None


def _clip(text: str) -> str:
    text = text.rstrip("\r")
    return text if len(text) <= MAX_LINE_CHARS else text[:MAX_LINE_CHARS] + " [... line cut]"


def _format_hits(ws: Workspace, query: GrepQuery, hits: GrepHits) -> str:
    files = sorted(hits.files, key=lambda hit: hit.path.parts)
    if not files:
        where = f" in {ws.display(query.target)}" if query.target != ws.root else ""
        return f"No matches for {query.pattern}{where}" + (f" (glob {query.glob})" if query.glob else "")
    if query.mode == "content":
        return _format_content(ws, files, hits.complete)
    if query.mode == "count":
        return _format_count(ws, files, hits.complete)
    shown = [ws.display(hit.path) for hit in files[:MAX_FILES]]
    header = f"Found {_at_least(hits.complete)}{_plural(len(files), 'file')}"
    return "\n".join([header, *shown, *_more(len(files) - len(shown), "files", hits.complete)])


def _format_content(ws: Workspace, files: list[FileHits], complete: bool) -> str:
    shown: list[str] = []
    for hit in files:
        name = ws.display(hit.path)
        shown += [f"{name}:{number}:{text}" for number, text in hit.lines[: MAX_LINES - len(shown)]]
    total = sum(hit.count for hit in files)
    return "\n".join([*shown, *_more(total - len(shown), "matching lines", complete)])


def _format_count(ws: Workspace, files: list[FileHits], complete: bool) -> str:
    shown = [f"{ws.display(hit.path)}:{hit.count}" for hit in files[:MAX_FILES]]
    total = sum(hit.count for hit in files)
    summary = f"Found {_at_least(complete)}{_plural(total, 'matching line')} in {_plural(len(files), 'file')}"
    return "\n".join([*shown, *_more(len(files) - len(shown), "files", complete), summary])


def _more(hidden: int, noun: str, complete: bool) -> list[str]:
    if not complete:
        return [f"[more {noun} not shown: the results were too large; narrow the pattern, path or glob]"]
    return [f"[{hidden} more {noun} not shown; narrow the pattern, path or glob]"] if hidden > 0 else []


def _at_least(complete: bool) -> str:
    return "" if complete else "at least "


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# ---- Glob


def glob_files(ws: Workspace, args: dict[str, Any]) -> str:
    """Run a Glob call."""
    pattern = _glob_pattern(args.get("pattern"))
    root = _search_root(ws, args.get("path"))
    if not root.is_dir():
        raise ToolError(f"{args.get('path')} is not a directory; Glob searches under a directory")
    regex = _compile_glob(pattern, anchored=True)
    # Hidden files are found only when asked for by name, as in ".github/**/*.yml".
    show_hidden = any(part.startswith(".") for part in pattern.split("/"))
    matches = [
        candidate.path
        for candidate in _candidates(ws, root, hidden_dirs=show_hidden, ignored=False)
        if (show_hidden or not candidate.hidden) and regex.fullmatch(candidate.path.relative_to(root).as_posix())
    ]
    if not matches:
        return _no_files(ws, pattern, root)
    ordered = _newest_first(matches)
    shown = [ws.display(path) for path in ordered[:MAX_FILES]]
    return "\n".join([*shown, *_more(len(ordered) - len(shown), "files", True)])


def _glob_pattern(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ToolError('pattern is required: a glob such as "**/*.py"')
    pattern = value.strip()
    if os.path.isabs(pattern):
        raise ToolError('pattern must be relative: put the directory in path and use a pattern such as "**/*.py"')
    return pattern.removeprefix("./")


def _no_files(ws: Workspace, pattern: str, root: Path) -> str:
    message = f"No files match {pattern} under {ws.display(root)}"
    if "/" not in pattern:
        message += f"; patterns match whole relative paths, so use **/{pattern} to search subdirectories"
    return message


def _newest_first(paths: list[Path]) -> list[Path]:
    stamped = []
    for path in paths:
        try:
            stamped.append((-path.stat().st_mtime_ns, path.parts, path))
        except OSError:
            continue  # removed since it was listed
    return [path for _, _, path in sorted(stamped)]


# ---- choosing files, as rg does


def workspace_files(ws: Workspace) -> list[str]:
    """The workspace's files as rg would search them (git-ignored and hidden ones left out),
    relative to its root, minus any the model may not read: what the code index holds."""
    listed = _candidates(ws, ws.root, hidden_dirs=False, ignored=False)
    return ws.readable([c.path.relative_to(ws.root).as_posix() for c in listed if not c.hidden])


def project_files(ws: Workspace) -> list[str]:
    """Every file of the project as git would keep it (hidden ones too, git-ignored ones not),
    relative to the root, minus any the model may not read: what a checkpoint holds."""
    listed = _candidates(ws, ws.root, hidden_dirs=True, ignored=False)
    return ws.readable([c.path.relative_to(ws.root).as_posix() for c in listed])


def _candidates(ws: Workspace, root: Path, *, hidden_dirs: bool, ignored: bool) -> list[_Candidate]:
    """Files under `root`, sorted: never inside .git, inside hidden directories only with `hidden_dirs`,
    and git-ignored files (outside ignored directories) only with `ignored`, marked as such."""
    found = _git_candidates(ws, root, ignored)
    if found is None:
        found = list(_walk(root, hidden_dirs))
    kept = [c for c in found if hidden_dirs or not _hidden(c.path.relative_to(root).parts[:-1])]
    return sorted(kept, key=lambda candidate: candidate.path.parts)


def _git_candidates(ws: Workspace, root: Path, ignored: bool) -> list[_Candidate] | None:
    """The files git lists under `root`, or None when git is missing or `root` is not in a work tree."""
    listed = _git_ls(ws, root, "--cached", "--others", "--exclude-standard")
    if listed is None:
        return None
    # --directory names an ignored directory once ("build/") instead of listing its files; rg skips those.
    extra = _git_ls(ws, root, "--others", "--ignored", "--exclude-standard", "--directory") if ignored else []
    candidates = [_candidate(root, rel, False) for rel in dict.fromkeys(listed)]
    candidates += [_candidate(root, rel, True) for rel in extra or [] if not rel.endswith("/")]
    return [candidate for candidate in candidates if _plain_file(candidate.path)]


def _git_ls(ws: Workspace, root: Path, *flags: str) -> list[str] | None:
    git = shutil.which("git")
    if git is None:
        return None
    try:
        result = process.run([git, "ls-files", "-z", *flags], cwd=root, timeout=_TIMEOUT, output_limit=_LISTING_LIMIT,
                             confinement=ws.command_confinement(network=False))
    except OSError:
        return None
    if result.exit_code != 0 or result.timed_out or result.omitted_chars:
        return None  # not a work tree (exit 128), or too big to list: walk the directory instead
    return result.output.split("\0")[:-1]


def _walk(root: Path, hidden_dirs: bool) -> Iterator[_Candidate]:
    # Symbolic links are neither followed nor listed, as rg does by default.
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git" and (hidden_dirs or not d.startswith("."))]
        for name in filenames:
            path = Path(dirpath, name)
            if not path.is_symlink():
                yield _Candidate(path, _hidden(path.relative_to(root).parts))


def _candidate(root: Path, rel: str, ignored: bool) -> _Candidate:
    return _Candidate(root / rel, _hidden(PurePath(rel).parts), ignored)


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(part.startswith(".") for part in parts)


def _plain_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink()


def _glob_rule(glob: str | None) -> _GlobRule | None:
    if not glob:
        return None
    negated = glob.startswith("!")
    body = glob[1:] if negated else glob
    # Like .gitignore: a glob with a slash (other than a trailing one) is anchored, else it matches a name.
    anchored = "/" in body.rstrip("/")
    return _GlobRule(_compile_glob(body.lstrip("/"), anchored=anchored), negated)


def _compile_glob(glob: str, *, anchored: bool) -> re.Pattern[str]:
    try:
        return re.compile(("" if anchored else "(?:.*/)?") + glob_regex(glob))
    except re.error as exc:
        raise ToolError(f"invalid glob {glob!r}: {exc}") from None


GREP = Tool(name="Grep", description=GREP_DESCRIPTION, parameters=GREP_PARAMETERS, run=grep, read_only=True)
GLOB = Tool(name="Glob", description=GLOB_DESCRIPTION, parameters=GLOB_PARAMETERS, run=glob_files, read_only=True)
