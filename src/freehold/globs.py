"""Globs as regular expressions, and sets of path patterns such as a policy's `deny_read`.

The syntax is ripgrep's and .gitignore's: `*` and `?` stay within one directory, `**` crosses
directories, `[..]` and `{a,b}` work; a pattern with a slash (other than a trailing one) is
anchored at the root, one without matches a name at any depth.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path


def glob_regex(glob: str) -> str:
    """Translate a glob to a regex: * and ? stay within one directory, ** crosses them, [..] and {a,b}."""
    out: list[str] = []
    depth, i = 0, 0
    while i < len(glob):
        char, step = glob[i], 1
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            step = 3
        elif glob.startswith("**", i):
            out.append(".*")
            step = 2
        elif char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and (end := glob.find("]", i + 2)) != -1:
            body = glob[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body[0] in "!^" else body).replace("\\", "\\\\") + "]")
            step = end + 1 - i
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        elif char == "\\" and i + 1 < len(glob):
            out.append(re.escape(glob[i + 1]))
            step = 2
        else:
            out.append(re.escape(char))
        i += step
    return "".join(out)


class PathPatterns:
    """A set of globs matched against paths relative to a root, and against absolute paths
    (so `**/id_rsa*` also covers `~/.ssh/id_rsa` outside the workspace)."""

    def __init__(self, globs: Iterable[str]) -> None:
        self.globs = tuple(globs)
        self._regexes = [self._compile(g) for g in self.globs]
        # For walks that only ask whether any glob matches: the globs that can only match a
        # name (`*.pem`, `**/.env`) as one regex over names, the rest as one over paths.
        names = [g for g in self.globs if _name_only(g)]
        paths = [r.pattern for g, r in zip(self.globs, self._regexes) if not _name_only(g)]
        self._any_name = _alternatives([glob_regex(_name_part(g)) for g in names])
        self._any_path = _alternatives(paths)

    @staticmethod
    def _compile(glob: str) -> re.Pattern[str]:
        body = glob.rstrip("/")
        anchored = "/" in body
        return re.compile(("" if anchored else "(?:.*/)?") + glob_regex(body.lstrip("/")))

    def match(self, path: Path, root: Path) -> str | None:
        """The first glob that matches `path` (a real, absolute path), or None."""
        candidates = [path.as_posix().lstrip("/")]
        if path == root or root in path.parents:
            candidates.insert(0, path.relative_to(root).as_posix())
        for glob, regex in zip(self.globs, self._regexes):
            # A match on the path or on any directory above it: a denied directory denies its files.
            if any(regex.fullmatch(c) or regex.fullmatch(c + "/") for c in _with_parents(candidates)):
                return glob
        return None


    def matches_entry(self, name: str, relative: str, absolute: str) -> bool:
        """Whether any glob matches an entry met while walking down from the root, whose parents
        were already checked: the entry alone is tried, by `name`, as `relative` and as
        `absolute` (POSIX, without the leading slash). Agrees with `match` (a test checks)."""
        if self._any_name is not None and self._any_name.fullmatch(name):
            return True
        if self._any_path is None:
            return False
        fullmatch = self._any_path.fullmatch
        return bool(fullmatch(relative) or fullmatch(absolute) or fullmatch(relative + "/")
                    or fullmatch(absolute + "/"))


def _name_part(glob: str) -> str:
    body = glob.rstrip("/")
    while body.startswith("**/"):
        body = body[3:]
    return body


def _name_only(glob: str) -> bool:
    """`*.pem` and `**/.env` match a name at any depth, and nothing else does."""
    part = _name_part(glob)
    return "/" not in part and "**" not in part and not glob.startswith("/")


def _alternatives(patterns: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None


def _with_parents(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        parts = p.split("/")
        out += ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return out
