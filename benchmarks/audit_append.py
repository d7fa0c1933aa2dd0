"""What the audit log costs: an fsynced append, a signed checkpoint, opening and verifying a big log.

    python benchmarks/audit_append.py [--appends 2000] [--records 20000] [--dir PATH]

Runs on the file system of --dir (default: a temporary directory), which decides what fsync
costs; say which one when quoting the numbers.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from freehold.audit.log import AuditLog
from freehold.audit.verify import verify

TYPICAL = {"type": "tool_call", "session": "0" * 36, "id": "call_1", "name": "Bash",
           "input": {"command": "python -m pytest -q tests/test_calc.py"}, "decision": "allow",
           "decided_by": "mode 'auto'"}


@dataclass
class AppendCosts:
    append_us: float  # median per append of a ~300-byte record, fsync included
    append_10k_us: float  # the same with a 10 kB record (a model request body, say)
    create_ms: float  # open a new log: directory, file, and a new key (importing cryptography)
    checkpoint_us: float  # median per checkpoint after that: sign, temp file, fsync, rename, fsync dir
    open_from_checkpoint_ms: float  # open a log of `records` records whose newest checkpoint is near its end
    open_full_scan_ms: float  # the same log with no checkpoint to start from
    verify_ms: float  # verify the whole log (one checkpoint)
    records: int


def median_us(run: Callable[[], object], times: int) -> float:
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def ms(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1e3


def measure(base: Path, appends: int, records: int) -> AppendCosts:
    started = time.perf_counter()
    with AuditLog.open(base / "append", checkpoint_every=0) as log:
        create = (time.perf_counter() - started) * 1e3
        small = median_us(lambda: log.append(TYPICAL), appends)
        large = median_us(lambda: log.append(TYPICAL | {"body": "x" * 10_000}), appends // 4)
        checkpoint = median_us(log.checkpoint, 200)
    big = base / "big"
    with AuditLog.open(big, checkpoint_every=0) as log:
        for _ in range(records):
            log.append(TYPICAL)
        log.checkpoint()
        log.append(TYPICAL)
    from_checkpoint = ms(lambda: AuditLog.open(big).close())
    verify_ms = ms(lambda: verify(big))
    for path in (big / "checkpoints").iterdir():
        path.unlink()
    full_scan = ms(lambda: AuditLog.open(big).close())
    return AppendCosts(round(small, 1), round(large, 1), round(create, 1), round(checkpoint, 1),
                       round(from_checkpoint, 2), round(full_scan, 1), round(verify_ms, 1), records + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--dir", type=Path, help="where to write (its file system sets the fsync cost)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as temp:
        costs = measure(Path(temp), args.appends, args.records)
    print(json.dumps(asdict(costs), indent=1))


if __name__ == "__main__":
    main()
