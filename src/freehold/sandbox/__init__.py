"""Where Freehold's subprocesses are born, and confined.

    process.py   run(): the single spawn point; bounded output, timeouts, process-group kill, scrubbed env
    confine.py   Confinement: what a command (and a file tool) may see and change; view(path)
    bwrap.py     the Confinement as bubblewrap mounts and namespaces; SandboxUnavailable
"""

from __future__ import annotations

from freehold.sandbox.bwrap import SandboxUnavailable
from freehold.sandbox.confine import Confinement, confinement_for
from freehold.sandbox.process import ProcessResult, child_env, run

__all__ = ["Confinement", "ProcessResult", "SandboxUnavailable", "child_env", "confinement_for", "run"]
