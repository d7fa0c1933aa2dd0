"""What every tool is: a name, a JSON schema the model sees, and a function over the workspace."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from freehold.globs import PathPatterns
from freehold.sandbox.bwrap import git_protected
from freehold.sandbox.confine import Confinement, confinement_for

HOME = Path(os.path.expanduser("~"))


class ToolError(Exception):
    """A failure the model caused or can fix; its message goes back to the model as the result."""


# Secrets no file tool reads and no command sees, policy or not; the policy adds its own.
BUILTIN_DENY_READ = (
    "**/.env", "**/.env.local", "**/.env.*.local", "**/.env.production", "**/*.pem", "**/*.key", "**/*.p12",
    "**/*.pfx", "**/id_rsa*", "**/id_dsa*", "**/id_ecdsa*", "**/id_ed25519*", "**/.netrc", "**/.pgpass",
    "**/.git-credentials",
)
# The file tools never write into a git repository's own directory: its hooks and config run
# code, and the rest is git's to change. (Commands may, for `git commit`; bwrap.py keeps the
# hooks and config read-only for them.)
_GIT_DIR = (".git", "**/.git")
# Freehold's own process, which a file tool would read as itself (/proc/self/environ holds
# FREEHOLD_API_KEY). Commands get a /proc of their own sandbox instead.
_IN_PROCESS_HIDDEN = (Path("/proc"),)


@dataclass(frozen=True)
class Workspace:
    """The directory the agent works in, and the boundary around it. Every path a tool touches
    is resolved (symlinks, `..`, /proc/self/root) and then checked: against the organization's
    `deny_read` / `deny_write` globs, and against the same `Confinement` the sandbox enforces
    on commands, so a file tool can reach nothing a command could not."""

    root: Path
    # Required, so no workspace can come without a boundary: build one with `Workspace.at`.
    confinement: Confinement
    deny_read: PathPatterns = field(default_factory=lambda: PathPatterns(BUILTIN_DENY_READ))
    deny_write: PathPatterns = field(default_factory=lambda: PathPatterns(()))
    # False only when the organization's policy turns the sandbox off ([sandbox] enabled = false).
    sandboxed: bool = True

    @classmethod
    def at(cls, path: str | os.PathLike[str], deny_read: tuple[str, ...] = BUILTIN_DENY_READ,
           deny_write: tuple[str, ...] = (), network: bool = False, *, home: Path | None = HOME,
           private: tuple[Path, ...] = (), expose: tuple[Path, ...] = (), sandboxed: bool = True) -> Workspace:
        root = Path(os.path.realpath(path))
        confinement = confinement_for(root, home=home, private=private, expose=expose, network=network,
                                      deny_read=deny_read, deny_write=deny_write)
        return cls(root, confinement, PathPatterns(deny_read), PathPatterns(deny_write), sandboxed)

    @property
    def network(self) -> bool:
        return self.confinement.network

    def command_confinement(self, network: bool | None = None) -> Confinement | None:
        """The confinement a command runs in (None: unconfined, as the policy allows); helper
        programs such as rg and git get no network whatever commands may have."""
        if not self.sandboxed:
            return None
        return self.confinement if network is None else replace(self.confinement, network=network)

    def read_denied(self, path: Path) -> str | None:
        """Why `path` (real and absolute) must stay out of the model's context, or None."""
        glob = self.deny_read.match(path, self.root)
        if glob is not None:
            return f"matches files.deny_read {glob!r}"
        hidden = self._hidden_by(path)
        if hidden is not None:
            return f"is inside {hidden}, which Freehold hides from the model and from commands"
        return None

    def readable(self, paths: Iterable[str]) -> list[str]:
        """Those of `paths` (relative to the root, POSIX) that `read_denied` lets through, decided
        for many files at once: each directory's globs are tried once, not once per file in it."""
        if self.read_denied(self.root) is not None:
            return []
        denied: dict[str, bool] = {"": False}

        def denied_dir(rel: str) -> bool:
            if rel not in denied:
                parent, _, name = rel.rpartition("/")
                denied[rel] = denied_dir(parent) or self._entry_denied(name, rel)
            return denied[rel]

        kept = []
        for rel in paths:
            parent, _, name = rel.rpartition("/")
            if not denied_dir(parent) and not self._entry_denied(name, rel):
                kept.append(rel)
        return kept

    def _entry_denied(self, name: str, rel: str) -> bool:
        path = self.root / rel
        return (self.deny_read.matches_entry(name, rel, path.as_posix().lstrip("/"))
                or self._hidden_by(path) is not None)

    def check_read(self, path: Path) -> None:
        reason = self.read_denied(path)
        if reason is not None:
            by = "refused by policy" if reason.startswith("matches") else "refused"
            raise ToolError(f"{by}: {self.display(path)} {reason}")

    def _hidden_by(self, path: Path) -> Path | None:
        for place in _IN_PROCESS_HIDDEN:
            if path == place or place in path.parents:
                return place
        return self.confinement.hidden_by(path)

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
        if PathPatterns(_GIT_DIR).match(real, self.root) is not None or real in git_protected(self.root):
            raise ToolError(f"refused: {self.display(real)} belongs to git (hooks and config run code); "
                            "file tools do not write there")
        reason = self.read_denied(real)
        if reason is not None and not reason.startswith("matches"):
            raise ToolError(f"refused: {self.display(real)} {reason}")
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
