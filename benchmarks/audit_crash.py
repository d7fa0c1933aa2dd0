"""kill -9 a process appending to the audit log, again and again, and count what was lost.

    python benchmarks/audit_crash.py [--iterations 1000] [--seed 1]

Each iteration starts a writer that appends records in a loop and prints each seq (and leaf hash)
only after `append` returned, SIGKILLs it at a random moment (now and then before it finished
opening the log), then reopens the log (setting a torn tail aside) and verifies it. A committed
record is lost if the seq the writer printed is missing or its line no longer hashes to the leaf
it printed, or if any line committed before this iteration changed. tests/audit/test_crash.py
runs the same loop, shorter.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from freehold.audit.log import LOG_NAME, AuditLog
from freehold.audit.merkle import leaf_hash
from freehold.audit.verify import verify

WRITER = """
import random, sys
from pathlib import Path
from freehold.audit.log import AuditLog
log = AuditLog.open(Path(sys.argv[1]), checkpoint_every=64)
rng = random.Random(sys.argv[2])
print("ready", flush=True)
for n in range(10**9):
    pad = "x" * rng.choice([0, 0, 0, 100, 100, 2000] * 6 + [20000, 1 << 18])
    entry = log.append({"type": "tick", "writer": sys.argv[2], "n": n, "pad": pad})
    print(entry.seq, entry.leaf, flush=True)
"""


@dataclass
class CrashStats:
    iterations: int = 0
    committed: int = 0  # records the writers reported as committed
    lost: int = 0  # committed records missing or changed afterwards: must be 0
    torn_tails: int = 0  # half-written records found after a kill and set aside on reopen
    verify_failures: int = 0
    seconds: float = 0.0
    first_failure: str = ""


@dataclass
class Committed:
    """The lines committed before this iteration: their leaves, and a running digest of their bytes."""

    leaves: list[str] = field(default_factory=list)
    end: int = 0
    digest: Any = field(default_factory=hashlib.sha256)

    def changed(self, data: bytes) -> int:
        """How many of these lines `data` no longer holds unchanged (0 on the fast path)."""
        if hashlib.sha256(data[: self.end]).digest() == self.digest.digest():
            return 0
        now = self.leaves_of(data[: self.end])
        return sum(a != b for a, b in zip(self.leaves, now)) + max(0, len(self.leaves) - len(now))

    def extended(self, data: bytes) -> Committed:
        end = data.rfind(b"\n") + 1
        digest = self.digest.copy()
        digest.update(data[self.end: end])
        return Committed(self.leaves + self.leaves_of(data[self.end: end]), end, digest)

    @staticmethod
    def leaves_of(data: bytes) -> list[str]:
        return [leaf_hash(line).hex() for line in data.split(b"\n")[:-1]]


def kill_loop(directory: Path, iterations: int, seed: int = 1, max_delay: float = 0.02) -> CrashStats:
    rng = random.Random(seed)
    stats = CrashStats()
    started = time.perf_counter()
    committed = Committed()
    for i in range(iterations):
        reported = run_and_kill(directory, f"{seed}-{i}", rng, max_delay)
        data = read_log(directory)
        stats.torn_tails += not data.endswith(b"\n") and data != b""
        stats.lost += committed.changed(data)
        leaves = committed.leaves + committed.leaves_of(data[committed.end: data.rfind(b"\n") + 1])
        stats.committed += len(reported)
        stats.lost += sum(seq >= len(leaves) or leaves[seq] != leaf for seq, leaf in reported)
        AuditLog.open(directory).close()  # recovery, as the next Freehold run would do it
        result = verify(directory)
        if not result.ok:
            stats.verify_failures += 1
            stats.first_failure = stats.first_failure or result.first_bad
        committed = committed.extended(read_log(directory))
        stats.iterations += 1
    stats.seconds = time.perf_counter() - started
    return stats


def read_log(directory: Path) -> bytes:
    path = directory / LOG_NAME
    return path.read_bytes() if path.exists() else b""


def run_and_kill(directory: Path, name: str, rng: random.Random, max_delay: float) -> list[tuple[int, str]]:
    """Start a writer, kill it at a random moment; the (seq, leaf) pairs it reported committed."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(directory), name],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    if rng.random() < 0.9:  # otherwise kill it while it may still be opening (and recovering) the log
        proc.stdout.readline()
    time.sleep(rng.uniform(0, max_delay))
    proc.send_signal(signal.SIGKILL)
    out = proc.stdout.read()
    proc.wait()
    pairs = [line.split() for line in out.splitlines()]
    return [(int(p[0]), p[1]) for p in pairs if len(p) == 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "audit_crash.json",
                        help="where to keep the results (benchmarks/run.py puts them in docs/benchmarks.md)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        stats = kill_loop(Path(temp) / "audit", args.iterations, args.seed)
        records = AuditLog.open(Path(temp) / "audit").size
    result = asdict(stats) | {"records_in_log": records}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
