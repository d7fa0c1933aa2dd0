"""Measure the code index on a real repository: cold indexing, a one-file change, search, map, locate.

    python benchmarks/index.py --mirror /work/.mirror/sympy+sympy/repo [--commit SHA] [--out FILE]
    python benchmarks/index.py --repo PATH [--out FILE]

With --mirror, the repository is cloned (`git clone --shared`, nothing fetched) into a temporary
directory and checked out at --commit (default: sympy's oldest base commit in SWE-bench Verified's
data, or the mirror's HEAD). The index is built the way a session builds it: through the agent's
workspace (files listed by `git ls-files` in the sandbox, deny_read files left out, co-change from
git history), into a fresh FREEHOLD_HOME. Results go to benchmarks/results/index.json, which
benchmarks/run.py puts into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from freehold.index.live import update_index
from freehold.index.locate import locate
from freehold.index.repomap import repo_map
from freehold.index.search import search
from freehold.tools.base import Workspace

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "Basic", "Symbol", "simplify", "Matrix.det", "solve_linear_system", "lambdify", "Rational", "sqrt",
    "Piecewise", "integrate", "expand_trig", "latex printer", "free_symbols", "subs", "Poly", "factorint",
    "ImmutableDenseNDimArray", "sympify strict", "_eval_is_positive", "MatrixExpr", "Derivative doit",
    "series expansion order", "nsimplify", "assumptions", "is_zero", "Mul flatten", "Add", "Eq", "Interval",
    "unevaluated",
]
ISSUE = ("`Matrix.det` returns nan for a symbolic matrix:\n```python\n>>> from sympy import Matrix, symbols\n"
         ">>> a = symbols('a')\n>>> Matrix([[a, 1], [1, a]]).det(method='bareiss')\nnan\n```")


def checkout(mirror: Path, commit: str | None, into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(mirror), str(into)], check=True)
    subprocess.run(["git", "-C", str(into), "checkout", "-q", "--detach", commit or "HEAD"], check=True)
    return into


def first_sympy_commit() -> str | None:
    data = ROOT.parent / "shared" / "data" / "swebench-verified-loc.jsonl"
    if not data.is_file():
        return None
    for line in data.open():
        record = json.loads(line)
        if record["repo"] == "sympy/sympy":
            return record["base_commit"]
    return None


def timed(action) -> tuple[float, object]:
    started = time.perf_counter()
    value = action()
    return time.perf_counter() - started, value


def measure(repo: Path, home: Path) -> dict:
    workspace = Workspace.at(repo, home=home / "userhome")
    cold, index = timed(lambda: update_index(workspace, home))
    files = index.file_count()
    index.close()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    noop, index = timed(lambda: update_index(workspace, home))
    index.close()
    target = repo / "sympy" / "core" / "basic.py"
    changes = []
    for n in range(5):
        target.write_text(target.read_text() + f"\n\ndef benchmark_added_{n}():\n    return {n}\n")
        seconds, index = timed(lambda: update_index(workspace, home))
        changes.append(seconds)
        index.close()
    index = update_index(workspace, home)
    searches = [timed(lambda q=q: search(index, q))[0] for q in QUERIES for _ in range(3)]
    locates = [timed(lambda: locate(index, ISSUE))[0] for _ in range(5)]
    maps = [timed(lambda: repo_map(index, ISSUE, 1024))[0] for _ in range(3)]
    index.close()
    return {
        "files": files, "cold_s": cold, "peak_rss_mb": rss_mb, "noop_update_s": noop,
        "one_file_update_s": statistics.median(changes), "one_file_update_max_s": max(changes),
        "search_p50_ms": statistics.median(searches) * 1000,
        "search_p95_ms": sorted(searches)[int(len(searches) * 0.95) - 1] * 1000,
        "locate_ms": statistics.median(locates) * 1000, "map_1024_ms": statistics.median(maps) * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--mirror", type=Path, help="a git repository (bare is fine) to clone and check out")
    source.add_argument("--repo", type=Path, help="a checkout to index as it is (it is modified: one file)")
    parser.add_argument("--commit", help="the commit to check out from --mirror")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "index.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        if args.mirror:
            commit = args.commit or first_sympy_commit()
            repo = checkout(args.mirror, commit, base / "repo")
        else:
            repo, commit = args.repo.resolve(), None
        name = (args.mirror.parent.name if args.mirror.name == "repo" else args.mirror.name) if args.mirror else str(args.repo)
        result = {"repository": name, "commit": commit,
                  **measure(repo, base / "home")}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    json.dump(result, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
