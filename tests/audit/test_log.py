"""The audit log itself: record format, durability, crash recovery, failures, several writers."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from freehold.audit import log as audit_log
from freehold.audit.log import AuditError, AuditLog, Entry, checkpoint_message
from freehold.audit.merkle import leaf_hash, root
from freehold.audit.verify import read_records, verify

ZERO = "0" * 64


def lines(directory: Path) -> list[bytes]:
    return (directory / "log.jsonl").read_bytes().split(b"\n")[:-1]


def python(script: str, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True,
                          timeout=60, **kwargs)


def test_records_put_seq_prev_time_first_and_chain_by_leaf_hash(tmp_path):
    with AuditLog.open(tmp_path / "a") as log:
        entries = [log.append({"type": "note", "session": "s1", "text": f"line {i}\nnext"}) for i in range(3)]
    raw = lines(tmp_path / "a")
    records = [json.loads(line) for line in raw]
    assert entries == [Entry(i, leaf_hash(raw[i]).hex()) for i in range(3)]
    assert [list(r)[:5] for r in records] == [["seq", "prev", "time", "type", "session"]] * 3
    assert [r["prev"] for r in records] == [ZERO, entries[0].leaf, entries[1].leaf]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["time"]) for r in records)
    assert raw[0].startswith(b'{"seq":0,"prev":"' + ZERO.encode() + b'","time":"')  # compact
    assert records[2]["text"] == "line 2\nnext"  # the newline is escaped, the record stays one line


def test_text_that_cannot_be_utf8_still_makes_one_valid_line(tmp_path):
    with AuditLog.open(tmp_path) as log:
        log.append({"type": "note", "text": "é \u2028 \ud800"})
    assert json.loads(lines(tmp_path)[0])["text"] == "é \u2028 \ud800"
    assert verify(tmp_path).ok


@pytest.mark.parametrize("key", ["seq", "prev", "time"])
def test_the_caller_cannot_set_the_chain_fields(tmp_path, key):
    with AuditLog.open(tmp_path) as log, pytest.raises(ValueError, match=key):
        log.append({"type": "x", key: 1})


def test_files_are_private(tmp_path):
    AuditLog.open(tmp_path / "audit").close()
    modes = {name: stat.S_IMODE(os.stat(tmp_path / "audit" / name).st_mode)
             for name in ["", "log.jsonl", "signing.key", "checkpoints"]}
    assert modes == {"": 0o700, "log.jsonl": 0o600, "signing.key": 0o600, "checkpoints": 0o700}


def test_reopening_continues_the_chain(tmp_path):
    for _ in range(3):
        with AuditLog.open(tmp_path) as log:
            log.append({"type": "a"})
            log.append({"type": "b"})
    assert [r["seq"] for r in read_records(tmp_path)] == list(range(6))
    assert verify(tmp_path).ok and verify(tmp_path).size == 6


@pytest.mark.parametrize("damage", ["none", "log_bytes", "frontier", "size", "garbage"])
def test_reopening_from_a_checkpoint_or_despite_a_bad_one_gives_the_same_chain(tmp_path, damage):
    with AuditLog.open(tmp_path, checkpoint_every=4) as log:
        for i in range(10):
            log.append({"type": "t", "i": i})
    newest = tmp_path / "checkpoints" / "000000000008.json"
    data = json.loads(newest.read_text())
    if damage == "garbage":
        newest.write_text("{")
    elif damage != "none":
        data[damage] = {"log_bytes": 17, "frontier": [ZERO], "size": 9}[damage]
        newest.write_text(json.dumps(data))
    with AuditLog.open(tmp_path) as log:
        assert log.size == 10
        entry = log.append({"type": "t", "i": 10})
    raw = lines(tmp_path)
    assert entry == Entry(10, leaf_hash(raw[10]).hex())
    assert json.loads(raw[10])["prev"] == leaf_hash(raw[9]).hex()
    with AuditLog.open(tmp_path) as log:
        made = json.loads(log.checkpoint().read_text())
    assert made["root"] == root([leaf_hash(x) for x in raw]).hex()
    assert verify(tmp_path).ok == (damage == "none")  # and verify names the damaged checkpoint


def test_after_append_returns_another_process_reads_the_record(tmp_path):
    reader = ("import sys, json; print(json.loads(open(sys.argv[1], 'rb').read().split(b'\\n')[-2])['n'])")
    with AuditLog.open(tmp_path) as log:
        for n in range(5):
            log.append({"type": "t", "n": n})
            assert python(reader, tmp_path / "log.jsonl").stdout.strip() == str(n)


def test_append_writes_once_then_fsyncs_before_returning(tmp_path, monkeypatch):
    with AuditLog.open(tmp_path) as log:
        calls: list[str] = []
        real_write, real_fsync = os.write, os.fsync
        monkeypatch.setattr(audit_log.os, "write", lambda fd, data: calls.append("write") or real_write(fd, data))
        monkeypatch.setattr(audit_log.os, "fsync", lambda fd: calls.append("fsync") or real_fsync(fd))
        log.append({"type": "t"})
        assert calls == ["write", "fsync"]


def test_checkpoints_come_every_n_records_and_on_demand(tmp_path):
    with AuditLog.open(tmp_path, checkpoint_every=3) as log:
        for _ in range(7):
            log.append({"type": "t"})
        made = log.checkpoint()
    names = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert names == ["000000000003.json", "000000000006.json", "000000000007.json"] and made.name == names[-1]
    body = json.loads(made.read_text())
    assert set(body) == {"size", "root", "log_bytes", "frontier", "time", "public_key", "signature"}
    assert body["size"] == 7 and body["log_bytes"] == (tmp_path / "log.jsonl").stat().st_size
    assert body["root"] == root([leaf_hash(x) for x in lines(tmp_path)]).hex()
    assert checkpoint_message(7, body["root"]) == b"freehold-audit-checkpoint\n7\n" + body["root"].encode() + b"\n"
    assert verify(tmp_path).checkpoints == 3


def test_a_key_path_elsewhere_is_made_there_and_its_public_half_left_for_verify(tmp_path):
    key = tmp_path / "keys" / "audit.key"
    with AuditLog.open(tmp_path / "audit", key_path=key) as log:
        log.append({"type": "t"})
        log.checkpoint()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and not (tmp_path / "audit" / "signing.key").exists()
    public = (tmp_path / "audit" / "signing.pub").read_text().strip()
    assert json.loads(next((tmp_path / "audit" / "checkpoints").iterdir()).read_text())["public_key"] == public
    assert verify(tmp_path / "audit").ok


def test_a_raw_key_works_too(tmp_path):
    key = tmp_path / "raw.key"
    key.write_bytes(os.urandom(32))
    with AuditLog.open(tmp_path / "audit", key_path=key) as log:
        log.checkpoint()
    assert verify(tmp_path / "audit").ok


def test_a_key_that_is_not_one_stops_the_checkpoint(tmp_path):
    key = tmp_path / "bad.key"
    key.write_text("not a key")
    with AuditLog.open(tmp_path / "audit", key_path=key) as log, pytest.raises(AuditError, match="not an Ed25519"):
        log.checkpoint()


# -- crashes -------------------------------------------------------------------------------------


def test_a_torn_tail_is_set_aside_recorded_and_the_log_verifies(tmp_path):
    with AuditLog.open(tmp_path) as log:
        for i in range(3):
            log.append({"type": "t", "i": i})
    committed = (tmp_path / "log.jsonl").read_bytes()
    torn = b'{"seq":3,"prev":"ab'
    with open(tmp_path / "log.jsonl", "ab") as f:
        f.write(torn)
    assert verify(tmp_path).ok and "unfinished record" in verify(tmp_path).note
    with AuditLog.open(tmp_path) as log:
        assert log.size == 4
        log.append({"type": "after"})
    after = (tmp_path / "log.jsonl").read_bytes()
    assert after.startswith(committed)  # committed records are never touched
    record = json.loads(lines(tmp_path)[3])
    assert record["type"] == "torn_record_set_aside" and record["bytes"] == len(torn)
    assert record["sha256"] == hashlib.sha256(torn).hexdigest()
    assert re.fullmatch(r"torn-\d{8}T\d{6}\.\d{3}Z(-\d+)?\.bin", record["side_file"])
    assert (tmp_path / record["side_file"]).read_bytes() == torn
    assert json.loads(lines(tmp_path)[4])["type"] == "after"
    assert verify(tmp_path).ok and verify(tmp_path).size == 5


def test_a_complete_line_that_is_not_json_counts_as_a_record_and_verify_flags_it(tmp_path):
    with AuditLog.open(tmp_path) as log:
        log.append({"type": "t"})
    with open(tmp_path / "log.jsonl", "ab") as f:
        f.write(b"not json\n")
    with AuditLog.open(tmp_path) as log:
        assert log.append({"type": "t"}).seq == 2
    assert json.loads(lines(tmp_path)[2])["prev"] == leaf_hash(b"not json").hex()
    assert verify(tmp_path).first_bad == "record 1 (line 2): not valid JSON"


# -- failures ------------------------------------------------------------------------------------

FILE_SIZE_LIMIT = """
import os, resource, sys
from pathlib import Path
from freehold.audit.log import AuditError, AuditLog
log = AuditLog.open(Path(sys.argv[1]))
log.append({"type": "first"})
size = os.path.getsize(Path(sys.argv[1]) / "log.jsonl")
for limit in (size, size + 50):  # nothing fits; then part of the record fits
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        log.append({"type": "big", "pad": "x" * 1000})
        print("appended")
    except AuditError as exc:
        print(exc)
"""


def test_a_full_disk_stops_with_one_clear_line_and_leaves_the_log_whole(tmp_path):
    run = python(FILE_SIZE_LIMIT, tmp_path)
    out = run.stdout.splitlines()
    assert len(out) == 2 and run.returncode == 0, run.stderr
    assert out[0] == (f"audit log {tmp_path / 'log.jsonl'} cannot be written: File too large; "
                      "Freehold stops rather than act unrecorded")
    assert out[1].startswith(f"audit log {tmp_path / 'log.jsonl'} cannot be written: only 50 of a record's ")
    assert len(lines(tmp_path)) == 1 and (tmp_path / "log.jsonl").read_bytes().endswith(b"\n")
    assert verify(tmp_path).ok


def test_a_log_directory_that_cannot_exist_stops_at_open(tmp_path):
    (tmp_path / "audit").write_text("a file, not a directory")
    with pytest.raises(AuditError) as raised:
        AuditLog.open(tmp_path / "audit")
    assert str(raised.value) == (f"audit log {tmp_path / 'audit' / 'log.jsonl'} cannot be written: "
                                 f"{tmp_path / 'audit'} is not a directory; Freehold stops rather than act unrecorded")


def test_a_log_deleted_under_us_stops_the_next_append(tmp_path):
    with AuditLog.open(tmp_path / "audit") as log:
        log.append({"type": "t"})
        shutil.rmtree(tmp_path / "audit")
        with pytest.raises(AuditError, match="deleted or replaced"):
            log.append({"type": "t"})


def test_a_log_cut_short_under_us_stops_the_next_append(tmp_path):
    with AuditLog.open(tmp_path) as log:
        log.append({"type": "t"})
        log.append({"type": "t"})
        os.truncate(tmp_path / "log.jsonl", len(lines(tmp_path)[0]) + 1)
        with pytest.raises(AuditError, match="records were removed"):
            log.append({"type": "t"})


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only directories")
def test_a_read_only_directory_stops_at_open(tmp_path):
    (tmp_path / "audit").mkdir(mode=0o500)
    with pytest.raises(AuditError, match="cannot be written"):
        AuditLog.open(tmp_path / "audit")


# -- several writers -----------------------------------------------------------------------------

WRITER = """
import sys
import time
from pathlib import Path
from freehold.audit.log import AuditLog
log = AuditLog.open(Path(sys.argv[1]), checkpoint_every=50)
print("ready", flush=True)
sys.stdin.readline()  # start together
for n in range(int(sys.argv[3])):
    log.append({"type": "t", "writer": sys.argv[2], "n": n})
    time.sleep(0.002)  # spread the appends out, so the two writers overlap even on a busy machine
"""


def test_two_processes_appending_at_once_keep_one_chain(tmp_path):
    AuditLog.open(tmp_path).close()  # the key exists before both start
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), name, "200"], text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE) for name in ("a", "b")]
    for w in writers:
        assert w.stdout.readline() == "ready\n"
    for w in writers:
        w.stdin.write("go\n")
        w.stdin.flush()
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    result = verify(tmp_path)
    assert result.ok, result.first_bad
    records = list(read_records(tmp_path))
    assert len(records) == 400 and result.checkpoints == 8
    for name in ("a", "b"):
        assert [r["n"] for r in records if r["writer"] == name] == list(range(200))
    switches = sum(a["writer"] != b["writer"] for a, b in zip(records, records[1:]))
    assert switches > 1  # they really did interleave


def test_threads_sharing_one_log_keep_one_chain(tmp_path):
    with AuditLog.open(tmp_path) as log:
        def write(name: str) -> None:
            for n in range(100):
                log.append({"type": "t", "writer": name, "n": n})

        threads = [threading.Thread(target=write, args=(name,)) for name in "abc"]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert verify(tmp_path).ok and verify(tmp_path).size == 300


def test_a_pem_key_is_read_by_the_fast_path_as_cryptography_reads_it(tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from freehold.audit.log import _raw_from_pem, load_private_key

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path = tmp_path / "k.pem"
    path.write_bytes(pem)
    assert _raw_from_pem(pem) == key.private_bytes_raw()
    assert load_private_key(path).private_bytes_raw() == key.private_bytes_raw()
    assert _raw_from_pem(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") is None
