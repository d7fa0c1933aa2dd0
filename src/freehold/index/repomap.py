"""`repo_map(index, query, tokens)`: the files that matter most, with their key definitions, fitted
to a token budget.

Files are nodes of a graph whose edges run from a file to the files defining the names it uses
(names defined in many files, like `get` or `__init__`, make no edges: they do not tell where a
use leads) and to the files it imports (`Index.import_edges`). Personalized PageRank over that graph ranks the files, personalized to what the
session is about: the files the issue or query points at (`locate`'s evidence), the files in
play, and the files defining identifiers it mentions. Within a file, a definition ranks by the
rank its users pass to it and by whether the query names it.

The map lists files in rank order, each with its best definitions as they read in the source:

    sympy/core/basic.py:
      28│class Basic(Printable, metaclass=ManagedProperties):
     412│    def atoms(self, *types):

and is grown or shrunk, by bisection over how many definitions it shows, until its size is within
15 % below the budget, never over it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from freehold.index import paths as kinds
from freehold.index.issue import read_issue
from freehold.index.locate import WEIGHTS, evidence, score_of
from freehold.index.store import Index

MAX_DEFINING_FILES = 5
# An import says a file depends on another as much as one name it uses from it does.
IMPORT_WEIGHT = 1.0
DAMPING = 0.85
ITERATIONS = 30
_LINE_CHARS = 120


def estimate_tokens(text: str) -> int:
    """A token count that errs high for code (about 3.2 characters a token)."""
    return math.ceil(len(text) / 3.2)


@dataclass(frozen=True)
class Entry:
    path: str
    rank: float
    definitions: tuple[tuple[int, str, float], ...]  # (line, name, rank), best first


def rank_files(index: Index, query: str = "", in_play: Iterable[str] = ()) -> list[Entry]:
    files = index.files()
    edges, defs = _graph(index)
    personal = _personalization(index, files, query, in_play)
    ranks = pagerank(files.keys(), edges, personal)
    mentioned = set(read_issue(query).names) if query else set()
    entries = []
    for fid, rank in sorted(ranks.items(), key=lambda kv: -kv[1]):
        scored = [(line, name, _definition_rank(name, kind, parent, rank, mentioned))
                  for line, name, kind, parent in defs.get(fid, ())]
        scored.sort(key=lambda d: (-d[2], d[0]))
        entries.append(Entry(files[fid], rank, tuple(scored)))
    return entries


def repo_map(index: Index, query: str = "", tokens: int = 1024, in_play: Iterable[str] = (),
             count: Callable[[str], int] = estimate_tokens) -> str:
    """The map, at most `tokens` long by `count` and, when the repository has enough to show, at
    least 85 % of it."""
    entries = [entry for entry in rank_files(index, query, in_play) if entry.rank > 0]
    lines_cache: dict[str, list[str]] = {}
    low, high = 0, sum(1 + len(entry.definitions) for entry in entries)
    best = ""
    while low <= high:
        middle = (low + high) // 2
        rendered = _render(index.root, entries, middle, lines_cache)
        if count(rendered) <= tokens:
            best, low = rendered, middle + 1
        else:
            high = middle - 1
    return best


def _render(root: Path, entries: list[Entry], budget: int, cache: dict[str, list[str]]) -> str:
    """The first `budget` items of the map, an item being a file's name or one of its definitions;
    a file's definitions follow it, so a file shows at most budget - 1 of them."""
    out: list[str] = []
    left = budget
    for entry in entries:
        if left <= 0:
            break
        out.append(f"{entry.path}:")
        left -= 1
        shown = entry.definitions[: max(0, min(left, _per_file(budget)))]
        source = _lines(root, entry.path, cache) if shown else []
        for line, name, _ in sorted(shown):
            code = source[line - 1].rstrip()[:_LINE_CHARS] if 0 < line <= len(source) else name
            out.append(f"{line:>5}│{code}")
        left -= len(shown)
    return "\n".join(out) + ("\n" if out else "")


def _per_file(budget: int) -> int:
    """Most definitions one file may show, so a large file cannot take the whole budget."""
    return max(3, budget // 8)


def _lines(root: Path, path: str, cache: dict[str, list[str]]) -> list[str]:
    if path not in cache:
        try:
            cache[path] = (root / path).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            cache[path] = []
    return cache[path]


def _definition_rank(name: str, kind: str, parent: str, file_rank: float, mentioned: set[str]) -> float:
    weight = 1.0 if kind in ("class", "interface", "function") and not parent else 0.6
    if name.startswith("_"):
        weight *= 0.3
    if name in mentioned:
        weight *= 10.0
    return file_rank * weight


def _personalization(index: Index, files: dict[int, str], query: str, in_play: Iterable[str]) -> dict[int, float]:
    by_path = {path: fid for fid, path in files.items()}
    personal: dict[int, float] = defaultdict(float)
    if query:
        # The language prior says nothing about this query; left in, it would flatten the rest.
        weights = {**WEIGHTS, "main_language": 0.0}
        for fid, feats in evidence(index, read_issue(query)).items():
            personal[fid] += score_of(feats, files[fid], weights)
    for path in in_play:
        if path in by_path:
            personal[by_path[path]] += max(personal.values(), default=1.0) or 1.0
    return personal


def _graph(index: Index) -> tuple[dict[int, dict[int, float]], dict[int, list[tuple[int, str, str, str]]]]:
    """Edges user file -> defining file, weighted, plus importer -> imported file; and each
    file's definitions."""
    defs: dict[int, list[tuple[int, str, str, str]]] = defaultdict(list)
    definers: dict[str, set[int]] = defaultdict(set)
    for fid, name, kind, line, parent in index.db.execute("SELECT file_id, name, kind, line, parent FROM definitions"):
        defs[fid].append((line, name, kind, parent))
        definers[name].add(fid)
    useful = {name: fids for name, fids in definers.items() if len(fids) <= MAX_DEFINING_FILES and len(name) > 2}
    edges: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for fid, name, count in index.db.execute("SELECT file_id, name, count FROM refs"):
        targets = useful.get(name)
        if targets:
            weight = math.sqrt(count) * (0.1 if name.startswith("_") else 1.0) / len(targets)
            for target in targets:
                if target != fid:
                    edges[fid][target] += weight
    for fid, targets in index.import_edges().items():
        for target in targets:
            edges[fid][target] += IMPORT_WEIGHT
    return edges, defs


def pagerank(nodes: Iterable[int], edges: dict[int, dict[int, float]], personal: dict[int, float]) -> dict[int, float]:
    """Personalized PageRank by power iteration; rank of dangling nodes returns to the personalization."""
    nodes = list(nodes)
    if not nodes:
        return {}
    total = sum(personal.values())
    restart = ({n: v / total for n, v in personal.items() if v > 0} if total > 0
               else {n: 1.0 / len(nodes) for n in nodes})
    out = {n: sum(targets.values()) for n, targets in edges.items()}
    rank = dict(restart)
    for _ in range(ITERATIONS):
        following: dict[int, float] = defaultdict(float)
        dangling = 0.0
        for node, value in rank.items():
            weight = out.get(node, 0.0)
            if weight <= 0:
                dangling += value
                continue
            share = DAMPING * value / weight
            for target, w in edges[node].items():
                following[target] += share * w
        leftover = (1 - DAMPING) * sum(rank.values()) + DAMPING * dangling
        for node, value in restart.items():
            following[node] += leftover * value
        rank = following
    return rank
