"""Permission rules in the `Tool(specifier)` form users know from Claude Code.

    Bash              every shell command
    Bash(npm test)    exactly that command
    Bash(curl:*)      any command whose words start with `curl`
    Read(**/.env)     Read, Grep and Glob on paths matching the glob
    Edit(src/**)      Edit and Write on paths matching the glob

A shell command is split before matching: at `&&`, `||`, `;`, `|`, `&` and new lines outside
quotes, and into the commands inside `$(...)`, backticks and `( ... )`; leading `VAR=value`
assignments are skipped. A rule matches a command when it matches any of its parts, so
`echo ok && curl x` is caught by `Bash(curl:*)`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from freehold.globs import PathPatterns
from freehold.tools.base import Tool, ToolError, Workspace

_RULE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)
_OPERATORS = re.compile(r"&&|\|\||[;|&\n]")
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class Rule:
    text: str
    tool: str
    specifier: str | None

    @classmethod
    def parse(cls, text: str) -> Rule:
        match = _RULE.match(text)
        if match is None:
            raise ValueError(f"{text!r} is not a rule like Bash(pytest:*) or Edit(src/**)")
        return cls(text.strip(), match.group(1), match.group(2).strip() if match.group(2) is not None else None)

    def matches(self, tool: Tool, args: dict[str, Any], workspace: Workspace) -> bool:
        if not self._covers(tool):
            return False
        if self.specifier is None:
            return True
        if self.tool == "Bash":
            return any(_command_matches(self.specifier, part) for part in split_command(str(args.get("command", ""))))
        return _path_matches(self.specifier, args, workspace)

    def _covers(self, tool: Tool) -> bool:
        if self.tool == tool.name:
            return True
        if self.tool == "Read":
            return tool.read_only
        return self.tool == "Edit" and tool.edits_files


def _command_matches(specifier: str, command: str) -> bool:
    if specifier.endswith(":*"):
        prefix = specifier[:-2].split()
        return command.split()[: len(prefix)] == prefix
    return command.split() == specifier.split()


def _path_matches(glob: str, args: dict[str, Any], workspace: Workspace) -> bool:
    for key in ("file_path", "path"):
        value = args.get(key)
        if isinstance(value, str) and value.strip():
            try:
                return PathPatterns([glob]).match(workspace.resolve(value), workspace.root) is not None
            except ToolError:
                return False
    return False


def split_command(command: str) -> list[str]:
    """The simple commands a shell line runs, as text, for rule matching."""
    parts: list[str] = []
    for inner in _substitutions(command):
        parts += split_command(inner)
    for piece in _OPERATORS.split(_blank_quoted(command, _without_substitutions(command))):
        words = _words(piece.strip().strip("()"))
        while words and _ASSIGNMENT.match(words[0]):
            words.pop(0)
        if words:
            parts.append(" ".join(words))
    return parts


def _substitutions(command: str) -> list[str]:
    found = re.findall(r"\$\(((?:[^()]|\([^()]*\))*)\)", command) + re.findall(r"`([^`]*)`", command)
    return [f for f in found if f.strip()]


def _without_substitutions(command: str) -> str:
    return re.sub(r"`[^`]*`", " ", re.sub(r"\$\(((?:[^()]|\([^()]*\))*)\)", " ", command))


def _blank_quoted(original: str, command: str) -> str:
    """`command` with operators inside quotes hidden, so `echo "a;b"` stays one command."""
    out, quote = [], ""
    for char in command:
        if quote:
            out.append("\0" if _OPERATORS.fullmatch(char) else char)
            quote = "" if char == quote else quote
        else:
            quote = char if char in "'\"" else ""
            out.append(char)
    return "".join(out)


def _words(piece: str) -> list[str]:
    text = piece.replace("\0", ";")
    try:
        return shlex.split(text)
    except ValueError:  # unbalanced quotes: the shell would refuse it too; match on plain words
        return text.split()
