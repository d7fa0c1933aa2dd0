"""Fit `locate`'s feature weights and kind factors, and check them on instances they were not fitted on.

    python benchmarks/localize.py ... --features FEATURES.jsonl     # every candidate's features, once
    python benchmarks/tune_locate.py FEATURES.jsonl

Scoring is `freehold.index.locate.score_of`'s: a weighted sum of a file's features, times the factor
of its kind (code, test, vendored, docs, other). Weights are fitted by coordinate ascent over a small
grid (two sweeps), maximizing Acc@5 + 0.5 Acc@1 + 0.1 Acc@10 (strict: every gold file in the top k).
Every fit starts from the same neutral point (each weight 1, each factor 1), never from the shipped
weights, so a fold's held-out score owes nothing to the other fold. Two folds: fitted on the
instances at even positions of the dataset and scored on the odd ones, and the other way round; the
held-out scores estimate how the weights do on issues they have not seen. Finally the weights are
fitted on everything: those are the ones to ship in locate.py.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from freehold.index import paths
from freehold.index.locate import KIND_FACTORS, WEIGHTS

GRID = (0, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4, 6, 8)
FACTOR_GRID = (0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0)

Candidate = tuple[str, str, dict[str, float]]  # path, kind, features
Row = tuple[int, list[str], list[Candidate]]  # dataset position, gold files, candidates


def read(path: Path) -> list[Row]:
    rows = []
    for line in path.open():
        record = json.loads(line)
        candidates = [(p, paths.kind(p), feats) for p, feats in record["features"].items()]
        rows.append((record["position"], record["gold"], candidates))
    return rows


def accuracy(weights: dict, factors: dict, rows: list[Row]) -> tuple[float, float, float]:
    hits = [0, 0, 0]
    for _, gold, candidates in rows:
        scored = sorted(((sum(weights.get(k, 0.0) * v for k, v in feats.items()) * factors[kind], path)
                         for path, kind, feats in candidates), key=lambda pair: (-pair[0], pair[1]))
        ranked = [path for score, path in scored if score > 0]
        for i, k in enumerate((1, 5, 10)):
            hits[i] += all(g in ranked[:k] for g in gold)
    return tuple(h / max(len(rows), 1) for h in hits)  # type: ignore[return-value]


def objective(weights: dict, factors: dict, rows: list[Row]) -> float:
    at1, at5, at10 = accuracy(weights, factors, rows)
    return at5 + 0.5 * at1 + 0.1 * at10


def fit(rows: list[Row], weights: dict, factors: dict, sweeps: int = 2) -> tuple[dict, dict]:
    best = objective(weights, factors, rows)
    for _ in range(sweeps):
        for key in list(weights):
            for value in GRID:
                trial = {**weights, key: value}
                if (score := objective(trial, factors, rows)) > best + 1e-9:
                    best, weights = score, trial
        for key in (k for k in factors if k != "code"):
            for value in FACTOR_GRID:
                trial = {**factors, key: value}
                if (score := objective(weights, trial, rows)) > best + 1e-9:
                    best, factors = score, trial
    return weights, factors


def show(label: str, scores: tuple[float, float, float]) -> str:
    return f"{label}: Acc@1 {scores[0]:.1%}, Acc@5 {scores[1]:.1%}, Acc@10 {scores[2]:.1%}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("features", type=Path, help="the file localize.py --features wrote")
    args = parser.parse_args()
    rows = read(args.features)
    even = [row for row in rows if row[0] % 2 == 0]
    odd = [row for row in rows if row[0] % 2 == 1]
    print(show(f"shipped weights, all {len(rows)}", accuracy(WEIGHTS, KIND_FACTORS, rows)))
    start = ({name: 1.0 for name in WEIGHTS}, {kind: 1.0 for kind in KIND_FACTORS})
    for name, train, test in (("even", even, odd), ("odd", odd, even)):
        weights, factors = fit(train, *start)
        print(f"fitted on {name}: {weights} {factors}")
        print("  " + show("held out", accuracy(weights, factors, test)))
    weights, factors = fit(rows, *start)
    print(f"fitted on all: {weights} {factors}")
    print("  " + show("in sample", accuracy(weights, factors, rows)))


if __name__ == "__main__":
    main()
