"""What every tool is: a name, a JSON schema the model sees, and a function over the workspace."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from freehold.globs import PathPatterns


class ToolError(Exception):
    """A failure the model caused or can fix; its message goes back to the model as the result."""


@dataclass(frozen=True)
class Workspace:
    """The directory the agent works in. Every path a tool touches is resolved against it,
    and checked against the organization's `deny_read` / `deny_write` globs."""

    root: Path
    deny_read: PathPatterns = field(default_factory=lambda: PathPatterns(()))
    deny_write: PathPatterns = field(default_factory=lambda: PathPatterns(()))
    # Whether commands run here may use the network (the policy's network.tools).
    network: bool = True

    @classmethod
    def at(cls, path: str | os.PathLike[str], deny_read: tuple[str, ...] = (),
           deny_write: tuple[str, ...] = (), network: bool = True) -> Workspace:
        return cls(Path(os.path.realpath(path)), PathPatterns(deny_read), PathPatterns(deny_write), network)

    def read_denied(self, path: Path) -> str | None:
        """The policy glob that keeps `path` out of the model's context, if any."""
        return self.deny_read.match(path, self.root)

    def check_read(self, path: Path) -> None:
        glob = self.read_denied(path)
        if glob is not None:
            raise ToolError(f"refused by policy: {self.display(path)} matches files.deny_read {glob!r}")

    def resolve(self, path: str) -> Path:
        """The real path (symlinks and `..` resolved) that `path` names, relative to the root."""
        if not isinstance(path, str) or not path.strip():
            raise ToolError("a path is required")
        expanded = Path(os.path.expanduser(path.strip()))
        return Path(os.path.realpath(self.root / expanded))

    def contains(self, path: Path) -> bool:
        return path == self.root or self.root in path.parents

    def resolve_for_write(self, path: str) -> Path:
        real = self.resolve(path)
        if not self.contains(real):
            raise ToolError(f"refused: {path} is outside the workspace {self.root}; only files inside it may be written")
        glob = self.deny_write.match(real, self.root)
        if glob is not None:
            raise ToolError(f"refused by policy: {self.display(real)} matches files.deny_write {glob!r}")
        return real

    def display(self, path: Path) -> str:
        """A path as the model should see it: relative inside the workspace, absolute outside."""
        return str(path.relative_to(self.root)) if self.contains(path) and path != self.root else str(path)


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    run: Callable[[Workspace, dict[str, Any]], str]
    # Read-only tools are allowed in every permission mode, `plan` included.
    read_only: bool = False
    # Tools that change files; the permission modes treat them apart from shell commands.
    edits_files: bool = False

    def schema(self) -> dict[str, Any]:
        """The tool as the chat completions API takes it."""
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }
