"""`search(index, query)`: symbols whose names match, then files whose text matches, ranked.

Symbols first, because a model asking for `QuerySet` or `parse_args` most often wants the
definition: an exact name beats a case-insensitive one, which beats a name that contains the
query, and classes and functions beat variables. Text hits come from FTS5's BM25 over the same
terms (all words first; any word when no file has them all), each shown with its best lines, read
from the file as it is now.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from freehold.index import paths as kinds
from freehold.index import text
from freehold.index.store import Index

_KIND_RANK = {"class": 0, "interface": 0, "function": 1, "method": 1, "type": 1, "enum": 1, "module": 2}
_LINE_CHARS = 200


@dataclass(frozen=True)
class SymbolHit:
    name: str
    kind: str
    parent: str
    path: str
    line: int


@dataclass(frozen=True)
class TextHit:
    path: str
    score: float
    lines: tuple[tuple[int, str], ...]  # (line number, text)


@dataclass(frozen=True)
class Results:
    symbols: list[SymbolHit]
    texts: list[TextHit]


def search(index: Index, query: str, *, symbols: int = 15, files: int = 10) -> Results:
    return Results(find_symbols(index, query, symbols), find_text(index, query, files))


def find_symbols(index: Index, query: str, limit: int) -> list[SymbolHit]:
    names = [word for word in text.words(query) if len(word) >= 2]
    if not names:
        return []
    hits: dict[tuple, tuple] = {}
    for name in names:
        rows = index.db.execute(
            "SELECT d.name, d.kind, d.parent, f.path, d.line FROM definitions d JOIN files f ON f.id = d.file_id "
            "WHERE d.name LIKE ? ESCAPE '\\' LIMIT 2000", (f"%{_escape_like(name)}%",)).fetchall()
        for row in rows:
            rank = (_closeness(row[0], name), _KIND_RANK.get(row[1], 3), kinds.is_test(row[3]), len(row[3]))
            key = (row[3], row[4], row[0])
            if key not in hits or rank < hits[key][0]:
                hits[key] = (rank, SymbolHit(*row))
    ranked = sorted(hits.values(), key=lambda pair: (pair[0], pair[1].path, pair[1].line))
    return [hit for _, hit in ranked[:limit]]


def _closeness(found: str, wanted: str) -> int:
    if found == wanted:
        return 0
    if found.lower() == wanted.lower():
        return 1
    if found.lower().startswith(wanted.lower()):
        return 2
    return 3


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_text(index: Index, query: str, limit: int) -> list[TextHit]:
    terms = list(dict.fromkeys(text.terms(query)))
    if not terms:
        return []
    quoted = [f'"{term}"' for term in terms]
    rows = _bm25(index, " AND ".join(quoted), limit)
    if not rows and len(quoted) > 1:
        rows = _bm25(index, " OR ".join(quoted), limit)
    return [TextHit(path, round(score, 3), _best_lines(index.root / path, terms)) for path, score in rows]


def _bm25(index: Index, match: str, limit: int) -> list[tuple[str, float]]:
    return index.db.execute(
        "SELECT f.path, -bm25(fts, 4.0, 2.0, 1.0) AS s FROM fts JOIN files f ON f.id = fts.rowid "
        "WHERE fts MATCH ? ORDER BY s DESC LIMIT ?", (match, limit)).fetchall()


def _best_lines(path: Path, terms: list[str], keep: int = 3) -> tuple[tuple[int, str], ...]:
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    pattern = re.compile("|".join(re.escape(term) for term in sorted(terms, key=len, reverse=True)), re.I)
    scored = []
    for number, line in enumerate(content.splitlines(), 1):
        found = {match.lower() for match in pattern.findall(line)}
        if found:
            scored.append((-len(found), number, line.strip()[:_LINE_CHARS]))
    return tuple((number, line) for _, number, line in sorted(scored)[:keep])


def render(results: Results) -> str:
    """The results as the model and the terminal read them."""
    out: list[str] = []
    if results.symbols:
        out.append("Definitions:")
        for hit in results.symbols:
            owner = f"{hit.parent}." if hit.parent else ""
            out.append(f"  {hit.path}:{hit.line}  {hit.kind} {owner}{hit.name}")
    if results.texts:
        out.append("Text:")
        for hit in results.texts:
            out.append(f"  {hit.path}")
            out += [f"    {number}: {line}" for number, line in hit.lines]
    return "\n".join(out) + "\n" if out else "No matches.\n"
