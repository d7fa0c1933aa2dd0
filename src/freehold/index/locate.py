"""Which files an issue will most likely need changed, with no model: `locate(index, issue_text)`.

Each file that the issue points at gets evidence features (see `issue.py` for how the text is read):

    path      the issue names the file's path (or its tail), or a traceback passes through it
    defines   identifiers the issue mentions are defined in the file, each weighted by how rare its
              definition is in the repository (a name defined in one file says more than `save`)
    member    the issue writes `Owner.member` and the file defines `member` inside `Owner`
    bm25      full-text relevance of the file to the whole issue (FTS5 BM25 over path, symbol
              names and body, identifiers split into words)
    bm25_*    the same for the issue's title alone and for its code alone (blocks, backticks, tracebacks)
    path_words  words of the issue naming the file's directories or stem, by how rare among paths
    graph     a share of the strongest candidates' evidence, passed along co-change
    main_language  the share of the repository's code in the file's language

A file's score is the weighted sum of its features, scaled down for tests, documentation and
vendored and non-code files, which an issue's fix rarely changes. The weights were fitted on
SWE-bench Verified, each half checked with weights fitted on the other (docs/index.md says how).
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from freehold.index import paths as kinds
from freehold.index import text
from freehold.index.issue import IssueRefs, read_issue
from freehold.index.store import Index

# Fitted by benchmarks/tune_locate.py on SWE-bench Verified (docs/index.md, "How the weights were
# chosen"); fitted on either half, the other half scores Acc@5 79.6-81.6 % and Acc@1 52.4-54.8 %.
WEIGHTS = {
    "path": 8.0,
    "frame": 6.0,
    "defines": 0.1,
    "defines_max": 0.25,
    "member": 8.0,
    "bm25": 3.0,
    "bm25_code": 1.0,
    "bm25_title": 3.0,
    "path_words": 1.0,
    "graph": 0.5,
    "main_language": 4.0,
}
# A file's score is scaled by what kind of file it is (paths.kind).
KIND_FACTORS = {"code": 1.0, "test": 0.01, "vendored": 1.0, "docs": 0.5, "other": 1.0}
BM25_CANDIDATES = 200
MAX_QUERY_TERMS = 120
# A name defined in more files than this says nothing about which one to change.
MAX_DEFINING_FILES = 25


@dataclass(frozen=True)
class Located:
    path: str
    score: float


def locate(index: Index, issue: str, top: int = 10) -> list[Located]:
    features = evidence(index, read_issue(issue))
    files = index.files()
    ranked = sorted(((score_of(feats, files[fid]), files[fid]) for fid, feats in features.items()),
                    key=lambda pair: (-pair[0], pair[1]))
    return [Located(path, round(score, 4)) for score, path in ranked[:top] if score > 0]


def score_of(feats: dict[str, float], path: str, weights: dict[str, float] = WEIGHTS) -> float:
    score = sum(weights.get(name, 0.0) * value for name, value in feats.items())
    return score * KIND_FACTORS[kinds.kind(path)]


def evidence(index: Index, refs: IssueRefs) -> dict[int, dict[str, float]]:
    """file id -> feature name -> value, for every file with any evidence."""
    files = index.files()
    by_path = {path: fid for fid, path in files.items()}
    feats: dict[int, dict[str, float]] = defaultdict(dict)
    _path_evidence(refs, by_path, feats)
    _path_word_evidence(refs, by_path, feats)
    _definition_evidence(index, refs, len(files), feats)
    _bm25_evidence(index, refs, feats)
    _graph_evidence(index, files, feats)
    _language_evidence(index, feats)
    return feats


# ---- the features


def _path_evidence(refs: IssueRefs, by_path: dict[str, int], feats: dict) -> None:
    tails = _tail_table(by_path)
    for mention in refs.paths:
        for fid, strength in _match_tail(mention, tails):
            feats[fid]["path"] = max(feats[fid].get("path", 0.0), strength)
    frames = refs.frames
    for depth, (mention, _) in enumerate(frames):
        closeness = (depth + 1) / len(frames)  # the innermost frame is where it failed
        for fid, strength in _match_tail(mention, tails):
            feats[fid]["frame"] = max(feats[fid].get("frame", 0.0), strength * (0.5 + 0.5 * closeness))


def _path_word_evidence(refs: IssueRefs, by_path: dict[str, int], feats: dict) -> None:
    """Words of the issue that name a file's directories or its own name (`autodoc`, `separable`),
    each worth more the fewer paths contain it."""
    words = set(refs.terms)
    parts_of = {fid: _path_words(path) for path, fid in by_path.items()}
    df: dict[str, int] = defaultdict(int)
    for parts in parts_of.values():
        for part in parts:
            df[part] += 1
    total = max(len(parts_of), 2)
    for fid, parts in parts_of.items():
        matched = [math.log(total / df[part]) for part in parts if part in words]
        if matched:
            feats[fid]["path_words"] = sum(matched) / math.log(total)


def _path_words(path: str) -> set[str]:
    parts = path.split("/")
    stem = parts[-1].rsplit(".", 1)[0]
    names = parts[:-1] + ([] if stem == "__init__" else [stem])
    return {term for name in names for term in text.terms_of(name)}


def _tail_table(by_path: dict[str, int]) -> dict[str, list[int]]:
    """Every path tail (`query.py`, `models/query.py`, ...) -> the files that end with it."""
    table: dict[str, list[int]] = defaultdict(list)
    for path, fid in by_path.items():
        parts = path.split("/")
        for start in range(len(parts)):
            table["/".join(parts[start:])].append(fid)
    return table


def _match_tail(mention: str, tails: dict[str, list[int]]) -> list[tuple[int, float]]:
    """Files whose path ends with the longest tail of `mention` that any file has; a longer match
    and a unique one are stronger."""
    parts = mention.split("/")
    for start in range(len(parts)):
        found = tails.get("/".join(parts[start:]))
        if found:
            length = len(parts) - start
            strength = min(1.0, 0.5 + 0.25 * length) / math.sqrt(len(found))
            return [(fid, strength) for fid in found[:20]]
    return []


def _definition_evidence(index: Index, refs: IssueRefs, total: int, feats: dict) -> None:
    names = list(refs.names)
    rows: list[tuple[str, int, str]] = []
    for start in range(0, len(names), 500):
        chunk = names[start:start + 500]
        marks = ",".join("?" * len(chunk))
        rows += index.db.execute(
            f"SELECT name, file_id, parent FROM definitions WHERE name IN ({marks})", chunk).fetchall()
    defining: dict[str, set[int]] = defaultdict(set)
    for name, fid, _ in rows:
        defining[name].add(fid)
    for name, fids in defining.items():
        if len(fids) > MAX_DEFINING_FILES:
            continue
        weight = refs.names[name] * math.log(1 + total / len(fids)) / math.log(1 + total)
        for fid in fids:
            feats[fid]["defines"] = feats[fid].get("defines", 0.0) + weight
            feats[fid]["defines_max"] = max(feats[fid].get("defines_max", 0.0), weight)
    for name, fid, parent in rows:
        if parent and (parent, name) in refs.qualified:
            feats[fid]["member"] = feats[fid].get("member", 0.0) + 1.0


def _bm25_evidence(index: Index, refs: IssueRefs, feats: dict) -> None:
    """BM25 of the whole issue, of its code alone and of its title, each relative to the best file."""
    for name, terms in (("bm25", refs.terms), ("bm25_code", refs.code_terms), ("bm25_title", refs.title_terms)):
        rows = _bm25(index, [term for term, _ in terms.most_common(MAX_QUERY_TERMS)])
        if not rows or rows[0][1] <= 0:
            continue
        best = rows[0][1]
        for fid, value in rows:
            feats[fid][name] = max(0.0, value / best)


def _bm25(index: Index, terms: list[str]) -> list[tuple[int, float]]:
    if not terms:
        return []
    query = " OR ".join(f'"{term}"' for term in terms)
    return index.db.execute(
        "SELECT rowid, -bm25(fts, 4.0, 2.0, 1.0) AS s FROM fts WHERE fts MATCH ? ORDER BY s DESC LIMIT ?",
        (query, BM25_CANDIDATES)).fetchall()


def _language_evidence(index: Index, feats: dict) -> None:
    """The share of the repository's code written in the file's language: in a Python project, a
    JavaScript file is seldom where a bug is fixed."""
    counts = dict(index.db.execute(
        "SELECT language, count(*) FROM files WHERE language IS NOT NULL AND language != 'text' GROUP BY language"))
    total = sum(counts.values())
    if not total:
        return
    languages = dict(index.db.execute(
        f"SELECT id, language FROM files WHERE id IN ({','.join(str(int(fid)) for fid in feats) or 'NULL'})"))
    for fid in feats:
        feats[fid]["main_language"] = counts.get(languages.get(fid), 0) / total


def _graph_evidence(index: Index, files: dict[int, str], feats: dict) -> None:
    """Spread a share of each strongly pointed-at file's direct evidence to its co-changed files."""
    direct = {fid: score_of({k: v for k, v in f.items() if k != "graph"}, files[fid]) for fid, f in feats.items()}
    seeds = sorted(direct.items(), key=lambda kv: -kv[1])[:10]
    if not seeds or seeds[0][1] <= 0:
        return
    top = seeds[0][1]
    by_path = {path: fid for fid, path in files.items()}
    for fid, value in seeds:
        path = files[fid]
        rows = index.db.execute(
            "SELECT CASE WHEN a = ? THEN b ELSE a END, commits FROM pairs WHERE a = ? OR b = ?",
            (path, path, path)).fetchall()
        touched = index.db.execute("SELECT commits FROM touches WHERE path = ?", (path,)).fetchone()
        if not touched:
            continue
        for other, together in rows:
            ofid = by_path.get(other)
            if ofid is not None and together >= 2:
                share = (value / top) * together / touched[0]
                feats[ofid]["graph"] = max(feats[ofid].get("graph", 0.0), share)
