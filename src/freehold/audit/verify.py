"""Check an audit log: the hash chain of every record, and every signed checkpoint against it.

What it catches:

- a record changed, removed, inserted or moved when a later record follows it: that record's
  `seq` no longer counts up, or the next record's `prev` no longer matches its hash;
- any change to the records a valid checkpoint covers, the last of them included, and their
  removal: their Merkle root or their count no longer matches what was signed;
- a checkpoint whose signature is wrong, that was signed by a key other than this log's, or
  whose unsigned hints (log_bytes, frontier) were edited.

What it cannot: the chain is unkeyed, so whoever can write the file can change, drop or add
records after the newest checkpoint and recompute their chain; the last record, changed or
cut off, leaves no trace at all without a checkpoint taken after it (hence one at the end of
every session). Whoever also holds the signing key can rewrite everything and sign anew; only
a checkpoint copied elsewhere beforehand (`verify --checkpoint`) catches that.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from freehold.audit.log import (
    CHECKPOINTS,
    LOG_NAME,
    ZERO_HASH,
    AuditError,
    checkpoint_message,
    complete_lines,
    local_public_key,
)
from freehold.audit.merkle import EMPTY_ROOT, Frontier, leaf_hash

UNANCHORED = ("no signing.key or signing.pub here: checkpoints were checked only against the keys they "
              "carry, which anyone can make")


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    size: int  # complete records in the log (all of them when ok; up to the problem otherwise)
    root: str  # hex Merkle root of those records
    first_bad: str = ""  # one line naming the first problem; empty when ok
    checkpoints: int = 0  # checkpoints checked against the log
    note: str = ""  # something worth saying that is not a failure, e.g. a torn tail


@dataclass(frozen=True)
class Checkpoint:
    name: str
    size: int
    root: str
    log_bytes: int
    frontier: tuple[str, ...]
    public_key: str
    signature: str


def verify(directory: Path, checkpoint: Path | None = None) -> VerifyResult:
    """Check the log in `directory` and its checkpoints, plus `checkpoint` from anywhere; stop at the first problem."""
    directory = Path(directory)
    try:
        checkpoints = _load_checkpoints(directory, checkpoint)
        expected_key = local_public_key(directory)
        problem = _signature_problem(checkpoints, expected_key)
        if problem:
            return _failed(problem)
        result = _check_log(directory / LOG_NAME, checkpoints)
        if result.ok and checkpoints and expected_key is None:
            return replace(result, note=" ".join(filter(None, [result.note, UNANCHORED])))
        return result
    except (_Unreadable, AuditError) as exc:
        return _failed(str(exc))
    except OSError as exc:
        return _failed(f"cannot read {exc.filename}: {exc.strerror or exc}")


def _failed(problem: str) -> VerifyResult:
    return VerifyResult(False, 0, EMPTY_ROOT.hex(), problem)


def read_records(directory: Path) -> Iterator[dict[str, Any]]:
    """The committed records, in order (a torn tail is not a record); AuditError on a line that is not one."""
    path = Path(directory) / LOG_NAME
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for number, line in enumerate(complete_lines(fd, 0, _committed_end(fd)), 1):
            try:
                record = json.loads(line)
            except ValueError:
                record = None
            if not isinstance(record, dict):
                raise AuditError(f"line {number} of {path} is not a record; see freehold audit verify")
            yield record
    finally:
        os.close(fd)


class _Unreadable(Exception):
    """A checkpoint file that cannot be parsed: a problem to report, not a crash."""


# -- checkpoints ---------------------------------------------------------------------------------


def _load_checkpoints(directory: Path, extra: Path | None) -> list[Checkpoint]:
    paths = sorted(p for p in (directory / CHECKPOINTS).glob("*.json") if p.stem.isdigit())
    found = [_read_checkpoint(p, p.name) for p in paths]
    if extra is not None:
        found.append(_read_checkpoint(extra, str(extra)))
    return sorted(found, key=lambda c: c.size)


def _read_checkpoint(path: Path, name: str) -> Checkpoint:
    try:
        data = json.loads(path.read_bytes())
        return Checkpoint(name, _int(data["size"]), str(data["root"]), _int(data["log_bytes"]),
                          tuple(str(h) for h in data["frontier"]), str(data["public_key"]), str(data["signature"]))
    except OSError as exc:
        raise _Unreadable(f"checkpoint {name} cannot be read: {exc.strerror or exc}") from None
    except KeyError as exc:
        raise _Unreadable(f"checkpoint {name} is not a valid checkpoint: it has no {exc}") from None
    except (ValueError, TypeError) as exc:
        raise _Unreadable(f"checkpoint {name} is not a valid checkpoint: {exc}") from None


def _int(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ValueError(f"not a count: {value!r}")
    return value


def _signature_problem(checkpoints: list[Checkpoint], expected_key: str | None) -> str | None:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    for cp in checkpoints:
        try:
            public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(cp.public_key))
            public_key.verify(bytes.fromhex(cp.signature), checkpoint_message(cp.size, cp.root))
        except (InvalidSignature, ValueError):
            return f"checkpoint {cp.name}: the signature does not match its size and root (or its key)"
        if expected_key is not None and cp.public_key != expected_key:
            return (f"checkpoint {cp.name} is signed by another key ({cp.public_key[:16]}…), "
                    f"not this log's signing key ({expected_key[:16]}…)")
    return None


# -- the log -------------------------------------------------------------------------------------


def _committed_end(fd: int) -> int:
    """The log's length with no append in flight (appenders hold the lock from write to fsync)."""
    fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        return os.fstat(fd).st_size
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _check_log(path: Path, checkpoints: list[Checkpoint]) -> VerifyResult:
    if not path.exists():
        return _failed(f"there is no audit log at {path}")
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        end = _committed_end(fd)
        scan = _Scan(checkpoints)
        problem = scan.due_checkpoints()
        for line in complete_lines(fd, 0, end):
            problem = problem or scan.add(line)
            if problem:
                break
        return scan.result(problem or scan.leftover_checkpoint(), end)
    finally:
        os.close(fd)


class _Scan:
    """Walks the records once, keeping the chain and the Merkle frontier, checking each checkpoint
    when the walk reaches its size."""

    def __init__(self, checkpoints: list[Checkpoint]) -> None:
        self.frontier = Frontier()
        self.prev = ZERO_HASH
        self.offset = 0  # bytes of the records walked so far
        self.pending = deque(checkpoints)
        self.checked = 0

    def add(self, line: bytes) -> str | None:
        seq = self.frontier.size
        problem = _record_problem(line, seq, self.prev)
        if problem:
            return f"record {seq} (line {seq + 1}): {problem}"
        leaf = leaf_hash(line)
        self.frontier.append(leaf)
        self.prev = leaf.hex()
        self.offset += len(line) + 1
        return self.due_checkpoints()

    def due_checkpoints(self) -> str | None:
        while self.pending and self.pending[0].size == self.frontier.size:
            problem = _against(self.pending.popleft(), self.frontier, self.offset)
            if problem:
                return problem
            self.checked += 1
        return None

    def leftover_checkpoint(self) -> str | None:
        """A checkpoint the walk never reached covers records that are no longer there."""
        if not self.pending:
            return None
        cp = self.pending[0]
        return (f"the log has {self.frontier.size} records but checkpoint {cp.name} covers {cp.size}: "
                "records were removed")

    def result(self, problem: str | None, end: int) -> VerifyResult:
        size, root = self.frontier.size, self.frontier.root().hex()
        if problem:
            return VerifyResult(False, size, root, problem, self.checked)
        torn = end - self.offset
        note = f"{torn} bytes of an unfinished record follow the last one; opening the log sets them aside"
        return VerifyResult(True, size, root, "", self.checked, note if torn else "")


def _record_problem(line: bytes, seq: int, prev: str) -> str | None:
    try:
        record = json.loads(line)
    except ValueError:
        return "not valid JSON"
    if not isinstance(record, dict):
        return "not a JSON object"
    found = record.get("seq")
    if type(found) is not int or found != seq:
        return f"seq is {found!r}, expected {seq}: a record is missing, added or out of order here"
    if record.get("prev") != prev:
        return f"prev does not match the hash of record {seq - 1}" if seq else "prev of the first record is not zeros"
    return None


def _against(cp: Checkpoint, frontier: Frontier, offset: int) -> str | None:
    """Compare a checkpoint with the log's first cp.size records."""
    if frontier.root().hex() != cp.root:
        first, last = _changed_range(cp, frontier)
        return (f"checkpoint {cp.name} covers {cp.size} records but they no longer hash to its signed root: "
                f"a record in {first}..{last} (lines {first + 1}..{last + 1}) was changed")
    if cp.log_bytes != offset or list(cp.frontier) != frontier.to_hex():
        return (f"checkpoint {cp.name}: its log_bytes or frontier do not match the first {cp.size} records "
                "(its signed root does): the checkpoint file was edited")
    return None


def _changed_range(cp: Checkpoint, frontier: Frontier) -> tuple[int, int]:
    """The smallest run of records that must hold a change, from the first frontier subtree that
    differs; the whole range when the checkpoint's own frontier cannot be trusted."""
    try:
        signed = Frontier.from_hex(cp.size, cp.frontier)
    except ValueError:
        return 0, cp.size - 1
    if signed.root().hex() != cp.root:
        return 0, cp.size - 1
    start = 0
    for bit, ours, theirs in zip(_subtree_sizes(cp.size), frontier.hashes, signed.hashes):
        if ours != theirs:
            return start, start + bit - 1
        start += bit
    return 0, cp.size - 1


def _subtree_sizes(size: int) -> list[int]:
    return [1 << b for b in reversed(range(size.bit_length())) if size >> b & 1]
