"""kill -9 a writer at random moments, ~200 times on one log: nothing committed is lost, and it verifies.

The loop lives in benchmarks/audit_crash.py, which runs it 1000 times and reports the numbers.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def test_writers_killed_at_random_moments_lose_no_committed_record(tmp_path):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from audit_crash import kill_loop
    finally:
        sys.path.remove(str(BENCHMARKS))
    stats = kill_loop(tmp_path / "audit", int(os.environ.get("FREEHOLD_AUDIT_KILL_LOOP", "200")), seed=7)
    assert stats.verify_failures == 0, stats.first_failure
    assert stats.lost == 0
    assert stats.committed > stats.iterations  # the writers did get records in before dying
