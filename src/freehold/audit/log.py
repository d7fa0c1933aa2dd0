"""The append-only audit log: hash-chained JSON Lines, durable per record, with signed Merkle checkpoints.

The directory (made 0700) holds:

    log.jsonl                  one record per line (0600); `append` returns only once the line is fsynced
    checkpoints/<size>.json    signed tree heads; <size> is the number of records covered, 12 digits
    signing.key                the Ed25519 key that signs checkpoints (0600), made on first use
    signing.pub                hex public key, written only when the key lives elsewhere (`key_path`)
    torn-<time>.bin            the bytes of a record a crash left half-written, set aside on open

A record is the caller's dict with three keys put first:

    {"seq":17,"prev":"<hex leaf hash of record 16, or 64 zeros>","time":"2025-01-01T12:00:00.123Z",...}

written as compact JSON on one line. Its leaf hash is RFC 6962's SHA-256(0x00 || line), the line
without its newline. Split the log on b"\\n" only: records keep non-ASCII text as UTF-8, and
str.splitlines() also breaks at U+2028 or U+0085 inside a string. A checkpoint is

    {"size": n, "root": hex, "log_bytes": bytes of the first n lines, "frontier": [hex, ...],
     "time": ..., "public_key": hex raw Ed25519, "signature": hex}

and the signature is over `checkpoint_message(size, root)`:

    b"freehold-audit-checkpoint\\n" + f"{size}\\n{root}\\n".encode()

Only size and root are signed; log_bytes and frontier are hints that let `open` skip re-reading
the records a checkpoint covers, and `verify` checks them against the log.

Several processes may append at once: every read-modify-write of the log's tail happens under
an exclusive flock on the log, so seq and prev stay one chain.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from freehold.audit.merkle import Frontier, leaf_hash
from freehold.errors import FreeholdError

LOG_NAME = "log.jsonl"
KEY_NAME = "signing.key"
PUBLIC_KEY_NAME = "signing.pub"
CHECKPOINTS = "checkpoints"
ZERO_HASH = "0" * 64
RESERVED = ("seq", "prev", "time")
CHECKPOINT_DOMAIN = b"freehold-audit-checkpoint\n"
_CHUNK = 1 << 20


class AuditError(FreeholdError):
    exit_code = 1


@dataclass(frozen=True)
class Entry:
    seq: int
    leaf: str  # hex leaf hash of the record's line


def checkpoint_message(size: int, root_hex: str) -> bytes:
    """The exact bytes a checkpoint's signature covers."""
    return CHECKPOINT_DOMAIN + f"{size}\n{root_hex}\n".encode()


def complete_lines(fd: int, start: int, end: int) -> Iterator[bytes]:
    """The newline-terminated lines of fd[start:end], without their newlines; a torn tail is left out."""
    pending: list[bytes] = []
    offset = start
    while offset < end:
        chunk = os.pread(fd, min(_CHUNK, end - offset), offset)
        if not chunk:
            return
        offset += len(chunk)
        *lines, rest = chunk.split(b"\n")
        if lines:
            yield b"".join([*pending, lines[0]])
            yield from lines[1:]
            pending = []
        pending.append(rest)


def utc_now() -> str:
    """UTC, ISO 8601, milliseconds: 2025-01-01T12:00:00.123Z."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Tail:
    """Where the log ends: what the next record's seq and prev are, and the tree so far."""

    log_bytes: int = 0
    prev: str = ZERO_HASH
    frontier: Frontier = field(default_factory=Frontier)

    @property
    def size(self) -> int:
        return self.frontier.size

    def add(self, line: bytes) -> str:
        leaf = leaf_hash(line)
        self.frontier.append(leaf)
        self.prev = leaf.hex()
        self.log_bytes += len(line) + 1
        return self.prev


class AuditLog:
    """One log directory, open for appending; safe across threads and processes (not across a
    fork without exec, which would share the lock)."""

    def __init__(self, directory: Path, fd: int, key_path: Path, checkpoint_every: int) -> None:
        self.directory = directory
        self.path = directory / LOG_NAME
        self.key_path = key_path
        self.checkpoint_every = checkpoint_every  # 0 or less: only explicit checkpoints
        self._fd = fd
        self._tail = _Tail()
        self._key: Any = None  # the parsed private key, loaded at the first checkpoint
        self._thread_lock = threading.Lock()  # flock is per open file, so it cannot exclude our own threads

    @classmethod
    def open(cls, directory: Path, key_path: Path | None = None, checkpoint_every: int = 1000) -> AuditLog:
        """Open (or create) the log, setting aside a record a crash left half-written.

        Without `key_path` the key is `directory/signing.key`. Either way a missing key is made
        there (0600) now, so an unusable key location stops Freehold before it acts.
        """
        directory = Path(directory)
        log = cls(directory, _open_log(directory), Path(key_path or directory / KEY_NAME), checkpoint_every)
        try:
            with log._locked():
                log._tail = _resume_point(directory, log._fd)
                log._catch_up()
            _ensure_key(log.key_path)
        except BaseException:
            log.close()
            raise
        return log

    @property
    def size(self) -> int:
        """Records in the log as this process last saw it (others may have appended since)."""
        return self._tail.size

    def append(self, record: dict[str, Any]) -> Entry:
        """Write one record and fsync it: when this returns, the record is durable."""
        with self._locked():
            self._catch_up()
            entry = self._write_record(record)
            if self.checkpoint_every > 0 and self._tail.size % self.checkpoint_every == 0:
                self._write_checkpoint()
        return entry

    def checkpoint(self) -> Path:
        """Sign the tree head of the whole log as it is now; returns the checkpoint's path."""
        with self._locked():
            self._catch_up()
            return self._write_checkpoint()

    def close(self) -> None:
        with self._thread_lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the log's exclusive lock; any OS failure inside becomes an AuditError."""
        with self._thread_lock:
            if self._fd < 0:
                raise AuditError(f"audit log {self.path} is closed; Freehold stops rather than act unrecorded")
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
            except OSError as exc:
                raise _unwritable(self.path, exc) from None

    def _catch_up(self) -> None:
        """Read what other processes appended since we last looked; set aside a torn tail."""
        status = os.fstat(self._fd)
        if status.st_nlink == 0:
            raise _unwritable(self.path, OSError(errno.ENOENT, "the file was deleted or replaced"))
        if status.st_size < self._tail.log_bytes:
            shrank = f"it shrank from {self._tail.log_bytes} to {status.st_size} bytes: records were removed"
            raise _unwritable(self.path, OSError(errno.EIO, shrank))
        for line in complete_lines(self._fd, self._tail.log_bytes, status.st_size):
            self._tail.add(line)
        if self._tail.log_bytes < status.st_size:
            self._set_aside_torn_tail(status.st_size)

    def _set_aside_torn_tail(self, end: int) -> None:
        """Move the bytes after the last newline (never committed: append had not returned) to a
        side file, cut them off, and record that we did. Complete lines are never touched."""
        start = self._tail.log_bytes
        torn = os.pread(self._fd, end - start, start)
        side = _write_side_file(self.directory, torn)
        os.ftruncate(self._fd, start)
        os.fsync(self._fd)
        self._write_record({"type": "torn_record_set_aside", "bytes": len(torn),
                            "sha256": hashlib.sha256(torn).hexdigest(), "side_file": side.name})

    def _write_record(self, record: dict[str, Any]) -> Entry:
        seq = self._tail.size
        line = serialize(seq, self._tail.prev, record)
        self._write_line(line)
        return Entry(seq, self._tail.add(line))

    def _write_line(self, line: bytes) -> None:
        """One write on the O_APPEND fd, then fsync; on failure cut off whatever got written."""
        data = line + b"\n"
        try:
            written = os.write(self._fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, f"only {written} of a record's {len(data)} bytes could be written")
            os.fsync(self._fd)
        except OSError:
            try:
                os.ftruncate(self._fd, self._tail.log_bytes)
            except OSError:
                pass  # the next open sets a torn tail aside; this failure is what we report
            raise

    def _write_checkpoint(self) -> Path:
        key = self._signing_key()
        size, root_hex = self._tail.size, self._tail.frontier.root().hex()
        body = {"size": size, "root": root_hex, "log_bytes": self._tail.log_bytes,
                "frontier": self._tail.frontier.to_hex(), "time": utc_now(),
                "public_key": public_key_hex(key), "signature": key.sign(checkpoint_message(size, root_hex)).hex()}
        path = self.directory / CHECKPOINTS / f"{size:012d}.json"
        write_atomically(path, (json.dumps(body, indent=1) + "\n").encode())
        return path

    def _signing_key(self) -> Any:
        if self._key is None:
            self._key = load_private_key(self.key_path)
            if self.key_path != self.directory / KEY_NAME:
                _publish_public_key(self.directory, public_key_hex(self._key))
        return self._key


def serialize(seq: int, prev: str, record: dict[str, Any]) -> bytes:
    """The record's line: seq, prev and time first, then the caller's keys in their order."""
    clash = [key for key in RESERVED if key in record]
    if clash:
        raise ValueError(f"an audit record may not set {', '.join(clash)}: the log sets them")
    full = {"seq": seq, "prev": prev, "time": utc_now(), **record}
    text = json.dumps(full, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    try:
        return text.encode()
    except UnicodeEncodeError:  # a lone surrogate: \u-escape everything so the line is valid UTF-8
        return json.dumps(full, separators=(",", ":"), allow_nan=False).encode()


def _unwritable(path: Path, exc: OSError) -> AuditError:
    reason = exc.strerror or str(exc)
    return AuditError(f"audit log {path} cannot be written: {reason}; Freehold stops rather than act unrecorded")


def _open_log(directory: Path) -> int:
    path = directory / LOG_NAME
    if directory.exists() and not directory.is_dir():
        raise _unwritable(path, OSError(errno.ENOTDIR, f"{directory} is not a directory"))
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        (directory / CHECKPOINTS).mkdir(mode=0o700, exist_ok=True)
        existed = path.exists()
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if not existed:
            fsync_directory(directory)  # the new file's name must survive a crash too
        return fd
    except OSError as exc:
        raise _unwritable(path, exc) from None


# -- resuming from a checkpoint ------------------------------------------------------------------


def _resume_point(directory: Path, fd: int) -> _Tail:
    """The newest checkpoint's view of the log, if the log agrees with it; else the very start."""
    names = sorted(p for p in (directory / CHECKPOINTS).glob("*.json") if p.stem.isdigit())
    if not names:
        return _Tail()
    try:
        data = json.loads(names[-1].read_bytes())
        frontier = Frontier.from_hex(data["size"], data["frontier"])
        tail = _Tail(int(data["log_bytes"]), ZERO_HASH, frontier)
        if frontier.root().hex() != data["root"]:
            return _Tail()
    except (OSError, ValueError, KeyError, TypeError):
        return _Tail()
    return tail if _agrees(fd, tail) else _Tail()


def _agrees(fd: int, tail: _Tail) -> bool:
    """Does the line ending at tail.log_bytes exist and carry seq size-1? Sets tail.prev if so."""
    if tail.size == 0 or tail.log_bytes <= 0:
        return tail.size == 0 and tail.log_bytes == 0
    if os.fstat(fd).st_size < tail.log_bytes or os.pread(fd, 1, tail.log_bytes - 1) != b"\n":
        return False
    line = _line_ending_at(fd, tail.log_bytes - 1)
    try:
        seq = json.loads(line).get("seq")
    except (ValueError, AttributeError):
        return False
    tail.prev = leaf_hash(line).hex()
    return seq == tail.size - 1


def _line_ending_at(fd: int, newline: int) -> bytes:
    """The line whose newline is at offset `newline`, read backwards a block at a time."""
    parts: list[bytes] = []
    end = newline
    while end > 0:
        start = max(0, end - 65536)
        block = os.pread(fd, end - start, start)
        cut = block.rfind(b"\n")
        parts.append(block[cut + 1:])
        if cut >= 0:
            break
        end = start
    return b"".join(reversed(parts))


# -- files and keys ------------------------------------------------------------------------------


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes) -> None:
    """Temp file, fsync, rename, fsync the directory: readers see the old file or the new, whole."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    _write_new_file(temp, data)
    os.replace(temp, path)
    fsync_directory(path.parent)


def _write_side_file(directory: Path, data: bytes) -> Path:
    stamp = utc_now().replace(":", "").replace("-", "")
    for attempt in range(1000):
        path = directory / (f"torn-{stamp}.bin" if attempt == 0 else f"torn-{stamp}-{attempt}.bin")
        try:
            _write_new_file(path, data)
        except FileExistsError:
            continue
        fsync_directory(directory)
        return path
    raise OSError(errno.EEXIST, f"no free name for a torn-{stamp} side file")


def _ensure_key(path: Path) -> None:
    """Make an Ed25519 key at `path` (0600) unless one is there; never replaces one."""
    try:
        if path.exists():
            path.read_bytes()  # an unreadable key should stop us now, not at the first checkpoint
        else:
            _make_key(path)
    except OSError as exc:
        raise AuditError(f"audit signing key {path} cannot be read or made: {exc.strerror or exc}; "
                         "Freehold stops rather than act unrecorded") from None


def _make_key(path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.unlink(missing_ok=True)
    _write_new_file(temp, pem)
    try:
        os.link(temp, path)  # unlike rename, fails if another process made a key meanwhile
    except FileExistsError:
        pass
    finally:
        temp.unlink()
    fsync_directory(path.parent)


# PKCS8 DER of an Ed25519 private key: this fixed prefix, then the 32 key bytes (RFC 8410).
_PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")


def _raw_from_pem(data: bytes) -> bytes | None:
    """The 32 key bytes of an unencrypted Ed25519 PKCS8 PEM, read without `serialization`
    (whose import costs ~12 ms at every session end); None for anything else."""
    import base64
    import binascii

    lines = data.strip().splitlines()
    if len(lines) < 3 or lines[0] != b"-----BEGIN PRIVATE KEY-----" or lines[-1] != b"-----END PRIVATE KEY-----":
        return None
    try:
        der = base64.b64decode(b"".join(lines[1:-1]), validate=True)
    except binascii.Error:
        return None
    return der[len(_PKCS8_ED25519):] if der.startswith(_PKCS8_ED25519) and len(der) == 48 else None


def load_private_key(path: Path) -> Any:
    """An Ed25519 private key from a PEM file (PKCS8) or 32 raw bytes (binary or hex)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AuditError(f"audit signing key {path} cannot be read: {exc.strerror or exc}") from None
    try:
        if len(data.strip()) == 64 and not data.startswith(b"-----"):
            data = bytes.fromhex(data.strip().decode())
        raw = data if len(data) == 32 else _raw_from_pem(data)
        if raw is not None:
            key = Ed25519PrivateKey.from_private_bytes(raw)
        else:
            from cryptography.hazmat.primitives import serialization

            key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise AuditError(f"signing key {path} is not an Ed25519 private key: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise AuditError(f"signing key {path} is not an Ed25519 private key")
    return key


def public_key_hex(private_key: Any) -> str:
    return private_key.public_key().public_bytes_raw().hex()


def _publish_public_key(directory: Path, hex_key: str) -> None:
    """Leave the public half where `verify` finds it when the private key lives elsewhere."""
    path = directory / PUBLIC_KEY_NAME
    try:
        if path.read_text().strip() == hex_key:
            return
    except OSError:
        pass
    write_atomically(path, (hex_key + "\n").encode())


def local_public_key(directory: Path) -> str | None:
    """The hex public key this log's checkpoints should carry: from signing.key, else signing.pub."""
    key_path, public_path = directory / KEY_NAME, directory / PUBLIC_KEY_NAME
    if key_path.exists():
        return public_key_hex(load_private_key(key_path))
    if public_path.exists():
        return public_path.read_text().strip()
    return None
