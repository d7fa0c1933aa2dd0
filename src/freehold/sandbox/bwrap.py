"""Bubblewrap: a `Confinement` as mounts and namespaces around one command.

    bwrap --unshare-user --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try
          [--unshare-net] --die-with-parent --new-session --cap-drop ALL
          --ro-bind / / --dev /dev --proc /proc
          (mounts, shallowest first: hidden dirs as empty tmpfs, hidden files as /dev/null,
           exposed and protected places read-only, the workspace read-write)
          --chdir CWD -- COMMAND

Inside the workspace, at each start: files matching `deny_read` are hidden, those matching
`deny_write` and git's hooks and config are read-only, and `.git` is a mount point, so it can
be neither renamed nor replaced by one whose hooks the model wrote.

The process limit (RLIMIT_NPROC) is set with util-linux's `prlimit` on bwrap, and counts only
the sandbox's own user namespace; Linux exempts uid 0 from it, so root gets the time limit and
the PID namespace (everything dies with the command) but no process cap.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from freehold.globs import PathPatterns
from freehold.sandbox.confine import Confinement

# Processes a command may have beyond those its user already runs: room for `make -j` and test
# runners, and a ceiling for a fork bomb.
PROCESS_ALLOWANCE = 1024

_NAMESPACES = ("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try")
_ALWAYS = ("--die-with-parent", "--new-session", "--cap-drop", "ALL")
# Inside .git/objects every name is a hash; no glob means anything there, and it can be huge.
_SKIP_SCAN = (".git/objects", ".git/lfs")


class SandboxUnavailable(OSError):
    """The isolation a run needs cannot be had; the command must not run without it."""


_checked: dict[bool, str] = {}  # network allowed -> the bwrap that passed the probe with those flags


def bwrap_path(network: bool) -> str:
    """The bwrap to use, once it has been seen to start a sandbox like ours here."""
    if network in _checked:
        return _checked[network]
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed; install it (apt install bubblewrap)")
    probe = [bwrap, *_flags(network), "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bubblewrap cannot start here: {exc}") from None
    if done.returncode != 0:
        reason = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit code {done.returncode}"
        raise SandboxUnavailable(f"bubblewrap cannot start a sandbox here ({reason[:200]}); user namespaces "
                                 "may be disabled")
    _checked[network] = bwrap
    return bwrap


def _flags(network: bool) -> list[str]:
    return [*_NAMESPACES, *([] if network else ["--unshare-net"]), *_ALWAYS]


def wrap(argv: Sequence[str], confinement: Confinement, cwd: Path) -> list[str]:
    """`argv` as a command line that runs it inside the sandbox. Raises SandboxUnavailable."""
    bwrap = bwrap_path(confinement.network)
    mounts = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", *_mounts(confinement)]
    return [*_process_limit(), bwrap, *_flags(confinement.network), *mounts, "--chdir", str(cwd), "--", *argv]


def _process_limit() -> list[str]:
    prlimit = shutil.which("prlimit")
    if prlimit is None or os.getuid() == 0:  # root is exempt from the limit: see the module docstring
        return []
    limit = _processes_of(os.getuid()) + PROCESS_ALLOWANCE
    return [prlimit, f"--nproc={limit}:{limit}", "--"]


def _processes_of(uid: int) -> int:
    count = 0
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                count += entry.stat().st_uid == uid
            except OSError:
                pass  # gone meanwhile
    return count


def _mounts(c: Confinement) -> list[str]:
    """Mount options, shallowest place first so a deeper one lands on top of it."""
    hidden, protected = _scan_workspace(c)
    places = [(p, 0, "hide") for p in (*c.hidden, *hidden)] + [(p, 1, "ro") for p in c.exposed]
    places += [(c.workspace, 2, "rw")] + [(p, 3, "ro") for p in protected]
    # Every directory between the workspace and a place hidden or protected inside it becomes a
    # mount point of its own: a mount point cannot be renamed, so `mv .git x` or `mv .local x`
    # cannot carry a hidden place out from under its mount, or leave git's hooks behind.
    inside = [p for p in (*c.hidden, *protected) if c.workspace in p.parents]
    pins = {a for p in inside for a in p.parents
            if c.workspace in a.parents and not a.is_symlink() and c.view(a) != "hidden"}
    places += [(p, 2, "rw") for p in sorted(pins)]
    args: list[str] = []
    for path, _, kind in sorted(places, key=lambda p: (len(p[0].parts), p[1])):
        if kind == "hide" and c.view(path.parent) == "hidden":
            continue  # already inside an empty place: nothing of it shows
        args += _mount(path, kind)
    return args


def _mount(path: Path, kind: str) -> list[str]:
    if not os.path.lexists(path) or os.path.islink(path):
        return []  # nothing to hide or protect; bwrap would follow a link to its target
    if kind == "hide":
        return ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    return ["--bind" if kind == "rw" else "--ro-bind", str(path), str(path)]


@dataclass(frozen=True)
class _Listing:
    """What one directory held at a scan: its mtime then, and what of it matters."""

    mtime_ns: int
    scanned_ns: int
    hidden: tuple[Path, ...]
    protected: tuple[Path, ...]
    subdirs: tuple[tuple[Path, str], ...]

    def still_true(self, mtime_ns: int) -> bool:
        # A directory's mtime moves whenever an entry is added, removed or renamed in it. One
        # changed within a moment of the scan may have changed again in the same clock tick
        # unseen, so such a listing is not trusted (git's "racy" rule).
        return mtime_ns == self.mtime_ns and mtime_ns < self.scanned_ns - _RACY_NS


_RACY_NS = 2_000_000_000
_listings: dict[tuple[str, tuple[str, ...], tuple[str, ...]], dict[Path, _Listing]] = {}


def _scan_workspace(c: Confinement) -> tuple[list[Path], list[Path]]:
    """Places inside the workspace to hide (deny_read) and to keep read-only (deny_write, git).
    Each directory is listed again only when its mtime says it changed since the last start."""
    patterns = PathPatterns(c.deny_read), PathPatterns(c.deny_write)
    cache = _listings.setdefault((str(c.workspace), c.deny_read, c.deny_write), {})
    hidden: list[Path] = []
    protected = git_protected(c.workspace)
    stack = [(c.workspace, "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            mtime = os.stat(directory, follow_symlinks=False).st_mtime_ns
        except OSError:
            continue
        listing = cache.get(directory)
        if listing is None or not listing.still_true(mtime):
            listing = cache[directory] = _list(c.workspace, directory, prefix, mtime, patterns)
        hidden += listing.hidden
        protected += listing.protected
        stack += listing.subdirs
    return hidden, protected


def _list(root: Path, directory: Path, prefix: str, mtime_ns: int,
          patterns: tuple[PathPatterns, PathPatterns]) -> _Listing:
    deny_read, deny_write = patterns
    absolute_root = root.as_posix().lstrip("/")
    hidden, protected, subdirs = [], [], []
    for entry in _entries(directory):
        relative = prefix + entry.name
        absolute = f"{absolute_root}/{relative}" if absolute_root else relative
        if deny_read.matches_entry(entry.name, relative, absolute):
            hidden.append(Path(entry.path))
        elif deny_write.matches_entry(entry.name, relative, absolute):
            protected.append(Path(entry.path))
        elif entry.is_dir(follow_symlinks=False) and relative not in _SKIP_SCAN:
            subdirs.append((Path(entry.path), relative + "/"))
    return _Listing(mtime_ns, time.time_ns(), tuple(hidden), tuple(protected), tuple(subdirs))


def _entries(directory: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(directory) as entries:
            return list(entries)
    except OSError:
        return []  # unreadable here means unreadable in the sandbox too


# Files in a git directory that make git read configuration (and so run hooks and fsmonitor
# commands) from somewhere else. They are read-only where they exist, and removed after a
# command that created them (git_sweep): git makes neither in normal work.
GIT_REDIRECTS = ("commondir", "config.worktree")


def git_protected(workspace: Path) -> list[Path]:
    """What git runs or obeys that the model must not rewrite: hooks, config and the files that
    redirect config, of the repository and its submodules; a hooks path and included config
    files inside the workspace; or the `.git` file that says where a worktree's repository is."""
    git = workspace / ".git"
    if git.is_file():
        return [git]
    if not git.is_dir():
        return []
    repos = git_dirs(workspace)
    for repo in repos:
        with contextlib.suppress(OSError):  # git makes it at init; without it a hook could be added
            (repo / "hooks").mkdir(exist_ok=True)
    places = [repo / name for repo in repos for name in ("hooks", "config", *GIT_REDIRECTS)]
    for named in _config_paths(git / "config"):
        places.append(named if named.is_absolute() else workspace / named)
    return [p for p in places if workspace in p.parents and os.path.lexists(p)]


def git_dirs(workspace: Path) -> list[Path]:
    git = workspace / ".git"
    return [git, *sorted(git.glob("modules/*"))] if git.is_dir() else []


def git_sweep(workspace: Path, before: set[Path]) -> list[str]:
    """Remove the config redirects a command created (those in `before` existed already and
    were read-only); return a note for each, for the model and the audit log."""
    notes = []
    for repo in git_dirs(workspace):
        for name in GIT_REDIRECTS:
            path = repo / name
            if path not in before and os.path.lexists(path) and not os.path.isdir(path):
                with contextlib.suppress(OSError):
                    path.unlink()
                    notes.append(f"removed {path.relative_to(workspace)}: it would make git take its "
                                 "configuration from elsewhere")
    return notes


def git_redirects(workspace: Path) -> set[Path]:
    return {repo / n for repo in git_dirs(workspace) for n in GIT_REDIRECTS if os.path.lexists(repo / n)}


# core.hooksPath (as husky sets it) and include paths, read plainly: good enough to protect them.
_CONFIG_PATHS = re.compile(r"^\s*(?:hookspath|path)\s*=\s*(.+?)\s*$", re.IGNORECASE | re.MULTILINE)


def _config_paths(config: Path) -> list[Path]:
    try:
        text = config.read_text(errors="replace")
    except OSError:
        return []
    return [Path(os.path.expanduser(found.strip('"'))) for found in _CONFIG_PATHS.findall(text)]
