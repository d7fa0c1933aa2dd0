"""Which files change together: counts over the repository's recent git history.

Files committed together are related in ways imports do not show (a module and its test, code and
its documentation, a schema and its migration). `cochange` reads the last `max_commits` non-merge
commits reachable from HEAD (never other branches) and counts, for each file, the commits that
touched it and, for each pair of files, the commits that touched both. A commit touching more than
`max_files_per_commit` files (a bulk reformat, a licence header, a vendored import) says little
about any pair and would cost quadratically, so it is skipped.

The repository is not trusted. Its .git/config could name programs for git to run
(core.fsmonitor, hooks, a signature-checking gpg.program, diff drivers, a lazy fetch in a partial
clone), so git runs with each of those turned off, no system config, no prompts, stdin closed, and
a time limit, through the sandbox's single spawn point (`freehold.sandbox.process.run`). Paths are
relative to `root` (which may be a subdirectory of the work tree); files deleted or renamed since
stay in the counts, for the caller to filter.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING

from freehold.sandbox import process

if TYPE_CHECKING:
    from freehold.sandbox.confine import Confinement

# Starts each commit's record in the output (--format=%x01//). No path git lists contains "//", so no
# file name can pose as it.
_MARKER = "\x01//"
# git's output is a few hundred bytes per commit; more than this means bulk commits, read no further.
_OUTPUT_LIMIT = 64_000_000
# Settings that would make git run a program, or reach the network, on behalf of the repository.
_SAFE_CONFIG = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "log.showSignature=false",
    "protocol.allow=never",
    "core.quotePath=false",
)


@dataclass(frozen=True)
class CoChange:
    """Co-change counts over `commits` scanned commits (those skipped as too big included)."""

    commits: int
    touches: dict[str, int]  # file -> number of scanned commits that touched it
    pairs: dict[tuple[str, str], int]  # (a, b) with a < b -> commits touching both
    skipped: int = 0  # commits left out for touching more than max_files_per_commit files
    partial: bool = False  # the time or output limit cut the history short


def cochange(root: Path, *, max_commits: int = 3000, max_files_per_commit: int = 30, timeout: float = 30.0,
             confinement: Confinement | None = None) -> CoChange | None:
    """Co-change counts for the repository at `root`; None when it is not in a git work tree, has
    no commits yet, or git is missing. `confinement` runs git inside the sandbox (None: outside it,
    with the settings above still turned off)."""
    output = _git_log(Path(root), max_commits, timeout, confinement)
    if output is None:
        return None
    text, complete = output
    commits = _commits(text, complete)
    return _count(commits, max_files_per_commit, partial=not complete)


def head(root: Path, *, timeout: float = 10.0, confinement: Confinement | None = None) -> str | None:
    """The commit HEAD names in the repository at `root` (to tell whether counts are stale), or None."""
    result = _git(Path(root), ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], timeout, confinement, 4096)
    if result is None or result.exit_code != 0 or result.timed_out:
        return None
    found = result.output.strip()
    return found if found and all(c in "0123456789abcdef" for c in found) else None


def _git_log(root: Path, max_commits: int, timeout: float, confinement: Confinement | None) -> tuple[str, bool] | None:
    """git log's output, and whether it is complete; None when git fails or cannot start."""
    args = ["log", "HEAD", f"--max-count={max(0, int(max_commits))}", "--no-merges", "--no-renames",
            "--no-ext-diff", "--no-textconv", "--name-only", "-z", "--format=%x01//", "--relative", "--", "."]
    result = _git(root, args, timeout, confinement, _OUTPUT_LIMIT)
    if result is None:
        return None
    cut_short = result.timed_out or result.omitted_chars > 0
    if not cut_short and result.exit_code != 0:
        return None  # not a work tree, or no commits yet (exit 128)
    # Cut short, the tail is not what follows the head: keep the head alone.
    return (result.head, False) if cut_short else (result.head + result.tail, True)


def _git(root: Path, args: list[str], timeout: float, confinement: Confinement | None,
         output_limit: int) -> process.ProcessResult | None:
    """Run git in `root` with the repository's programs turned off; None if git cannot run there."""
    git = shutil.which("git")
    if git is None or not root.is_dir():
        return None
    argv = [git, "--no-pager"]
    for setting in _SAFE_CONFIG:
        argv += ["-c", setting]
    try:
        return process.run([*argv, *args], cwd=root, timeout=timeout, confinement=confinement, env=_git_env(),
                           output_limit=output_limit)
    except OSError:
        return None


def _git_env() -> dict[str, str]:
    """Our environment without git's own variables (GIT_DIR would point git elsewhere), plus the
    settings that keep git from reading system config, prompting, fetching or taking locks."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_TERMINAL_PROMPT="0", GIT_NO_LAZY_FETCH="1", GIT_OPTIONAL_LOCKS="0",
               GIT_ASKPASS="/bin/false", SSH_ASKPASS="/bin/false", LC_ALL="C")
    return env


def _commits(text: str, complete: bool) -> list[list[str]]:
    """Each commit's files, from `--format=<marker> -z --name-only` output: the marker, then the
    file names, each ending in NUL, the first one after a newline."""
    commits: list[list[str]] = []
    for token in text.split("\0"):
        if token == _MARKER:
            commits.append([])
        elif commits and token:
            commits[-1].append(token[1:] if not commits[-1] and token.startswith("\n") else token)
    if not complete and commits:
        commits.pop()  # the last record may have been cut in the middle
    return commits


def _count(commits: list[list[str]], max_files: int, *, partial: bool) -> CoChange:
    touches: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    skipped = 0
    for files in commits:
        if len(files) > max_files:
            skipped += 1
            continue
        files = sorted(set(files))
        touches.update(files)
        pairs.update(combinations(files, 2))
    return CoChange(len(commits), dict(touches), dict(pairs), skipped, partial)

