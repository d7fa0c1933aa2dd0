"""Permission rules in the `Tool(specifier)` form users know from Claude Code.

    Bash              every shell command
    Bash(npm test)    exactly that command
    Bash(curl:*)      any command whose words start with `curl`
    Read(**/.env)     Read, Grep and Glob on paths matching the glob
    Edit(src/**)      Edit and Write on paths matching the glob
    Grep, Glob, ...   any tool by name, every call

A shell line is matched part by part: `shell.analyze` splits it into every simple command it
may run (through `&&`, `;`, pipes, `$(...)`, backticks, `bash -c`, `eval`, wrappers such as
`timeout` and `xargs`). Where a word is only known at run time (`$CMD x`), the answer is
"maybe", and the permission engine treats a maybe as a question for a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from freehold.errors import UsageError
from freehold.globs import PathPatterns
from freehold.policy.shell import Analysis, Match, SimpleCommand, analyze, match_words
from freehold.tools.base import Tool, ToolError, Workspace

_RULE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


@dataclass(frozen=True)
class Rule:
    text: str
    tool: str
    specifier: str | None

    @classmethod
    def parse(cls, text: str) -> Rule:
        match = _RULE.match(text)
        if match is None or (match.group(2) is not None and not match.group(2).strip()):
            raise ValueError(f"{text!r} is not a rule like Bash(pytest:*) or Edit(src/**)")
        return cls(text.strip(), match.group(1), match.group(2).strip() if match.group(2) is not None else None)

    def covers(self, tool: Tool) -> bool:
        if self.tool == tool.name:
            return True
        if self.tool == "Read":
            return tool.read_only
        return self.tool == "Edit" and tool.edits_files

    def matches(self, tool: Tool, args: dict[str, Any], workspace: Workspace) -> bool:
        """Whether the rule certainly applies (for a shell line: to at least one of its parts)."""
        if not self.covers(tool):
            return False
        if self.specifier is None:
            return True
        if self.tool == "Bash":
            return any(self.match_part(part) == "yes" for part in analyze(str(args.get("command", ""))).commands)
        return _path_matches(self.specifier, args, workspace)

    def match_part(self, part: SimpleCommand) -> Match:
        """How a Bash rule matches one simple command of a line. A command named by its path
        (`/usr/bin/curl`, `./curl`) is also the program of that name: a rule without a slash in
        its first word matches either way (for deny, so the path is no way around it; for allow,
        `Bash(pytest:*)` covers `.venv/bin/pytest`)."""
        if self.specifier is None:
            return "yes"
        prefix = self.specifier.endswith(":*")
        words = (self.specifier[:-2] if prefix else self.specifier).split()
        answer = match_words(part, words, prefix)
        named_by_path = part.words and "/" in part.words[0] and 0 not in part.dynamic
        if answer == "no" and named_by_path and words and "/" not in words[0]:
            program = part.words[0].rstrip("/").rsplit("/", 1)[-1]
            return match_words(replace(part, words=(program, *part.words[1:])), words, prefix)
        return answer


def bash_line(args: dict[str, Any]) -> Analysis:
    return analyze(str(args.get("command", "")))


def _path_matches(glob: str, args: dict[str, Any], workspace: Workspace) -> bool:
    for key in ("file_path", "path"):
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            try:
                return PathPatterns([glob]).match(workspace.resolve(value), workspace.root) is not None
            except ToolError:
                return False
    return False


def split_rules(values: list[str] | None) -> tuple[str, ...] | None:
    """Rules as Claude Code takes them: separated by commas or spaces outside parentheses.
    Each is checked by the config loader; an unclosed parenthesis is an error here."""
    if not values:
        return None
    rules: list[str] = []
    for value in values:
        depth, current = 0, ""
        for char in value + " ":
            if depth == 0 and char in ", \t\n":
                rules += [current] if current else []
                current = ""
                continue
            depth += (char == "(") - (char == ")")
            current += char
        if depth:
            raise UsageError(f"unbalanced parentheses in rules {value!r}")
    return tuple(rules)
