"""What the sandbox costs: starting a command inside bubblewrap against starting it bare, and
the per-start scan of the workspace for files to hide (deny_read) and protect (deny_write).

    python benchmarks/sandbox.py        (benchmarks/run.py includes these rows)
"""

from __future__ import annotations

import statistics
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from freehold.sandbox import process
from freehold.sandbox.bwrap import _mounts
from freehold.tools.base import Workspace


@dataclass
class SandboxCosts:
    bare_ms: float
    confined_ms: float
    scan_rows: list[tuple[str, float, float, int]]  # (tree, first scan ms, later scans ms, entries)


def _median_ms(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _tree(base: Path, dirs: int, files_per_dir: int) -> Path:
    root = base / f"tree-{dirs * files_per_dir}"
    for d in range(dirs):
        folder = root / f"pkg{d % 50}" / f"mod{d}"
        folder.mkdir(parents=True)
        for f in range(files_per_dir):
            (folder / f"file{f}.py").write_text("x = 1\n")
    (root / ".env").write_text("TOKEN=x\n")
    return root


def _entries(root: Path) -> int:
    return sum(1 for _ in root.rglob("*"))


def measure(runs: int = 40) -> SandboxCosts:
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        ws = Workspace.at(base)
        confinement = ws.command_confinement()
        process.run(["true"], cwd=base, timeout=30, confinement=confinement)  # probe bwrap once
        bare = _median_ms(lambda: process.run(["true"], cwd=base, timeout=30, confinement=None), runs)
        confined = _median_ms(lambda: process.run(["true"], cwd=base, timeout=30, confinement=confinement), runs)
        trees = [("synthetic, 1,000 directories", _tree(base, 1_000, 10)),
                 ("synthetic, 10,000 directories", _tree(base, 10_000, 10)),
                 ("CPython's standard library", Path(sysconfig.get_paths()["stdlib"]))]
        time.sleep(2.5)  # past the window in which a fresh directory listing is not trusted
        rows = []
        for name, root in trees:
            c = Workspace.at(root).command_confinement()
            assert c is not None
            first = _median_ms(lambda: _mounts(c), 1)  # lists every directory
            rows.append((name, first, _median_ms(lambda: _mounts(c), 5), _entries(root)))
    return SandboxCosts(bare, confined, rows)


def rows(costs: SandboxCosts) -> list[tuple[str, str, str]]:
    out = [
        ("command start, bare (`true`, median)", f"{costs.bare_ms:.1f} ms", ""),
        ("command start, in the sandbox (`true`, median)", f"{costs.confined_ms:.1f} ms", ""),
    ]
    for name, first, later, entries in costs.scan_rows:
        out.append((f"sandbox workspace scan, {name} ({entries:,} entries): first start / later starts",
                    f"{first:.0f} ms / {later:.1f} ms", ""))
    return out


if __name__ == "__main__":
    for name, value, _ in rows(measure()):
        print(f"{name}: {value}")
    sys.exit(0)
