"""Where Freehold's subprocesses are born, and (in a later issue) confined.

    process.py   run(): the single spawn point; bounded output, timeouts, process-group kill, scrubbed env
"""

from __future__ import annotations

from freehold.sandbox.process import ProcessResult, SandboxUnavailable, child_env, run

__all__ = ["ProcessResult", "SandboxUnavailable", "child_env", "run"]
