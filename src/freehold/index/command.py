"""`freehold map`, `freehold search` and `freehold locate`: the code index from the command line.

    freehold map [--repo PATH] [--tokens N] [--file PATH ...] [QUERY]
    freehold search [--repo PATH] [--format text|json] QUERY
    freehold locate [--repo PATH] [--top K] [--format text|json] ISSUE_TEXT | @FILE | -

Each brings the repository's index up to date first (incrementally; a progress bar on stderr when
that takes a while and stderr is a terminal). The index sees only what the agent's tools may read:
git-ignored, hidden and deny_read files stay out. Exit codes: 0 done, 1 the index cannot be
opened or written, 2 bad usage (no such repository, unreadable @FILE).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import NoReturn

from freehold.errors import UsageError


def map_command(argv: list[str]) -> int:
    p = _parser("freehold map", "The files that matter most for QUERY and their key definitions.")
    p.add_argument("--tokens", type=int, default=1024, metavar="N", help="the map's size in tokens (default 1024)")
    p.add_argument("--file", action="append", default=[], metavar="PATH",
                   help="a file in play (repeatable): it and what it uses rank higher")
    p.add_argument("query", nargs="*", help="what the map is for (default: the whole repository)")
    args = p.parse_args(argv)
    if args.tokens < 16:
        raise UsageError(f"--tokens must be at least 16, got {args.tokens}")
    from freehold.index.repomap import repo_map

    with open_index(args.repo) as index:
        in_play = [_relative(index.root, path) for path in args.file]
        sys.stdout.write(repo_map(index, " ".join(args.query), args.tokens, in_play=in_play))
    return 0


def search_command(argv: list[str]) -> int:
    p = _parser("freehold search", "Definitions and text that match QUERY, best first.")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("query", nargs="+")
    args = p.parse_args(argv)
    from freehold.index.search import render, search

    with open_index(args.repo) as index:
        results = search(index, " ".join(args.query))
    if args.format == "json":
        print(json.dumps({"symbols": [asdict(hit) for hit in results.symbols],
                          "text": [asdict(hit) for hit in results.texts]}, indent=1))
    else:
        sys.stdout.write(render(results))
    return 0


def locate_command(argv: list[str]) -> int:
    p = _parser("freehold locate", "The files an issue most likely needs changed, with scores.")
    p.add_argument("--top", type=int, default=10, metavar="K")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("issue", nargs="+", metavar="ISSUE_TEXT|@FILE|-")
    args = p.parse_args(argv)
    if args.top < 1:
        raise UsageError(f"--top must be at least 1, got {args.top}")
    issue = _issue_text(" ".join(args.issue))
    from freehold.index.locate import locate

    with open_index(args.repo) as index:
        found = locate(index, issue, args.top)
    if args.format == "json":
        print(json.dumps([{"path": hit.path, "score": hit.score} for hit in found]))
    else:
        for hit in found:
            print(f"{hit.score:8.3f}  {hit.path}")
    return 0


def open_index(repo: Path | None):
    """The repository's index, brought up to date, as the agent's workspace would see it."""
    from freehold import config
    from freehold.app import workspace_for
    from freehold.index.progress import Bar
    from freehold.index.live import update_index
    from freehold.policy.org import load_policy

    root = (repo or Path.cwd()).expanduser()
    if not root.is_dir():
        raise UsageError(f"--repo {root}: no such directory")
    policy = load_policy()
    workspace = workspace_for(root.resolve(), config.load(root.resolve(), {}), policy)
    with Bar.for_stderr("indexing") as bar:
        return update_index(workspace, config.data_home(), progress=bar.update)


def _relative(root: Path, path: str) -> str:
    """A path given on the command line, as the index names it (relative to the repository)."""
    resolved = Path(path).expanduser().resolve()
    try:
        return resolved.relative_to(root).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _issue_text(value: str) -> str:
    if value == "-":
        return sys.stdin.read()
    if value.startswith("@"):
        try:
            return Path(value[1:]).expanduser().read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read {value[1:]}: {exc.strerror or exc}") from None
    return value


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
            raise UsageError(f"{message} (see {prog} --help)")

    p = Parser(prog=prog, description=description)
    p.add_argument("--repo", type=Path, metavar="PATH", help="the repository (default: the current directory)")
    return p
