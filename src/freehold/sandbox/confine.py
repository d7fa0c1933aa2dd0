"""What a confined command (and a file tool) may see and change: one description, two enforcers.

The sandbox (bwrap.py) turns a `Confinement` into mounts; the file tools ask the same object
through `view()` before they open a path, so `Read ~/.ssh/id_rsa` and `cat ~/.ssh/id_rsa` are
refused by the same rule. The model of the filesystem is the one bubblewrap builds:

    /                   read-only
    hidden places       empty: the home directory, /tmp, /run, Freehold's data, audit log, policy
    exposed places      read-only again inside a hidden one (toolchains under ~, Freehold's Python)
    the workspace       writable
    secrets             empty again even inside the workspace (~/.ssh when the workspace is ~)

The deepest place containing a path decides what it is, as the deepest mount does.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

View = Literal["hidden", "read-only", "writable"]

# Under the home directory: credentials and tokens of the tools people use. The whole home is
# hidden anyway; these stay hidden when the workspace is the home directory (or contains it) and
# can never be exposed.
HOME_SECRETS = (
    ".ssh", ".gnupg", ".aws", ".azure", ".config", ".kube", ".docker", ".netrc", ".npmrc", ".pypirc",
    ".git-credentials", ".password-store", ".vault-token", ".pgpass", ".my.cnf", ".terraform.d",
    ".terraformrc", ".local/share/keyrings", ".m2", ".gradle", ".cargo/credentials.toml",
    ".cargo/credentials", ".bash_history", ".zsh_history", ".python_history", ".psql_history",
)
# Toolchains people keep under the home directory, shown read-only so commands still find them.
HOME_TOOLCHAINS = (
    ".pyenv", ".local/bin", ".local/lib", ".local/share/uv", ".local/pipx", ".cargo/bin", ".rustup",
    ".nvm", ".volta", ".bun/bin", ".deno/bin", "go/bin", ".sdkman/candidates", ".elan", ".ghcup/bin",
)
# Host-wide places a command gets a private, empty copy of: scratch space and the sockets of
# host daemons (Docker, D-Bus, ssh-agent, systemd) live here.
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/run", "/var/run", "/dev/shm")


@dataclass(frozen=True)
class Confinement:
    """Paths are absolute and real (symlinks resolved), as `confinement_for` makes them."""

    workspace: Path
    hidden: tuple[Path, ...]
    exposed: tuple[Path, ...] = ()
    network: bool = False
    # The policy's file globs, applied inside the workspace at each start (see bwrap.py).
    deny_read: tuple[str, ...] = ()
    deny_write: tuple[str, ...] = ()

    def view(self, path: Path) -> View:
        """What a confined process sees at the real path `path`."""
        text = str(path)
        best: tuple[int, int, View] = (0, 0, "read-only")  # (depth, precedence, view); "/" is read-only
        for prefix, depth, rank, view in self._prefixes:
            if text.startswith(prefix) or text == prefix[:-1]:
                best = max(best, (depth, rank, view))
        return best[2]

    def hidden_by(self, path: Path) -> Path | None:
        """The hidden place that hides `path`, or None when it is visible."""
        if self.view(path) != "hidden":
            return None
        text = str(path)
        inside = [h for h in self.hidden if text == str(h) or text.startswith(_as_prefix(h))]
        return max(inside, key=lambda h: len(h.parts))

    @cached_property
    def _prefixes(self) -> tuple[tuple[str, int, int, View], ...]:
        """Each place as a string prefix ("/a/b/"): comparing strings is far cheaper than walking
        `path.parents` for every check (the index checks every file of a repository)."""
        return tuple((_as_prefix(place), len(place.parts), rank, view) for place, rank, view in self._places())

    def _places(self) -> list[tuple[Path, int, View]]:
        # At equal depth the workspace wins over an exposed place, which wins over a hidden one:
        # `freehold` run in ~ works in ~, and a secret under it stays hidden by being deeper.
        places: list[tuple[Path, int, View]] = [(h, 0, "hidden") for h in self.hidden]
        places += [(e, 1, "read-only") for e in self.exposed]
        places.append((self.workspace, 2, "writable"))
        return places


def _as_prefix(place: Path) -> str:
    """`place` as the prefix every path inside it starts with: "/a/b" -> "/a/b/", "/" -> "/"."""
    return str(place).rstrip("/") + "/"


def real(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.realpath(os.path.expanduser(path)))


def confinement_for(workspace: Path, *, home: Path | None, private: tuple[Path, ...] = (),
                    expose: tuple[Path, ...] = (), network: bool = False, deny_read: tuple[str, ...] = (),
                    deny_write: tuple[str, ...] = ()) -> Confinement:
    """The confinement for `workspace`: the home directory and its secrets, the host's private
    directories and `private` (Freehold's data, audit log, policy, key) hidden; the toolchains
    under the home and `expose` shown read-only, except where that would show a secret."""
    hidden = [real(p) for p in PRIVATE_DIRS] + [real(p) for p in private]
    # The Python Freehold runs on stays usable (it may live in a virtualenv under ~ or /tmp); so
    # does the resolver's configuration, which Debian keeps under /run, when there is network.
    exposed = [real(p) for p in (*expose, sys.prefix, sys.base_prefix)]
    if network:
        exposed.append(real("/etc/resolv.conf"))
    if home is not None and real(home) != Path("/"):
        home = real(home)
        hidden += [home, *(home / name for name in HOME_SECRETS)]
        exposed += [home / name for name in HOME_TOOLCHAINS]
    secrets = [h for h in hidden if home is not None and home in h.parents]
    exposed = [e for e in exposed if not any(e == s or s in e.parents for s in secrets)]
    return Confinement(real(workspace), _unique(hidden), _unique(exposed), network, deny_read, deny_write)


def _unique(paths: list[Path]) -> tuple[Path, ...]:
    return tuple(dict.fromkeys(paths))
