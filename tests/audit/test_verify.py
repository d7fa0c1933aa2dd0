"""verify: every kind of damage to the log or its checkpoints is found and named, and what cannot be is stated."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from freehold.audit.log import AuditError, AuditLog, checkpoint_message, serialize
from freehold.audit.merkle import leaf_hash, root
from freehold.audit.verify import read_records, verify

RECORDS = 6


def make_log(directory: Path, checkpoint: bool = True) -> list[bytes]:
    """A small log; with `checkpoint`, one signed checkpoint covering all of it. Returns its lines
    with their newlines."""
    with AuditLog.open(directory, checkpoint_every=0) as log:
        for i in range(RECORDS):
            log.append({"type": ["session_start", "tool_call", "tool_result"][i % 3], "session": "s", "n": i})
        if checkpoint:
            log.checkpoint()
    return (directory / "log.jsonl").read_bytes().splitlines(keepends=True)


def write_lines(directory: Path, lines: list[bytes]) -> None:
    (directory / "log.jsonl").write_bytes(b"".join(lines))


def mutations(lines: list[bytes]):
    """(line index, mutated log lines) for three different changes to every byte of every line."""
    for k, line in enumerate(lines):
        for i, byte in enumerate(line):
            for new in {byte ^ 0x01, ord("\n"), ord("x")} - {byte}:
                changed = bytearray(line)
                changed[i] = new
                yield k, [*lines[:k], bytes(changed), *lines[k + 1:]]


def names_record(message: str, k: int) -> bool:
    """Does the message point at record k (directly, through the next record's prev, or by range)?"""
    if f"record {k} (line {k + 1})" in message or f"hash of record {k}" in message:
        return True
    span = re.search(r"a record in (\d+)\.\.(\d+)", message)
    if span and int(span[1]) <= k <= int(span[2]):
        return True
    return k == RECORDS - 1 and f"covers {RECORDS}: records were removed" in message


def test_a_whole_log_verifies(tmp_path):
    lines = make_log(tmp_path)
    result = verify(tmp_path)
    assert result.ok and result.size == RECORDS and result.checkpoints == 1 and result.first_bad == ""
    assert result.root == root([leaf_hash(line.rstrip(b"\n")) for line in lines]).hex()


def test_with_a_checkpoint_every_single_byte_change_is_found_and_named(tmp_path):
    lines = make_log(tmp_path)
    for k, damaged in mutations(lines):
        write_lines(tmp_path, damaged)
        result = verify(tmp_path)
        assert not result.ok, (k, damaged[k])
        assert names_record(result.first_bad, k), (k, damaged[k], result.first_bad)


def test_without_a_checkpoint_the_chain_finds_every_change_but_some_to_the_last_record(tmp_path):
    lines = make_log(tmp_path, checkpoint=False)
    missed = []
    for k, damaged in mutations(lines):
        write_lines(tmp_path, damaged)
        result = verify(tmp_path)
        if k < RECORDS - 1:
            assert not result.ok and names_record(result.first_bad, k), (k, damaged[k], result.first_bad)
        elif result.ok:
            missed.append(damaged[k])
    # No later record's prev vouches for the last one: a change to its content that keeps it
    # valid JSON with the right seq and prev, or to its newline (the record then reads as an
    # unfinished write and drops out), goes unseen without a checkpoint taken after it.
    assert missed
    last = lines[-1]
    for line in missed:
        if line.endswith(b"\n"):
            assert {k: v for k, v in json.loads(line).items() if k in ("seq", "prev")} == \
                   {k: v for k, v in json.loads(last).items() if k in ("seq", "prev")}
        else:
            assert line[:-1] == last[:-1]


def test_a_deleted_record_is_named(tmp_path):
    lines = make_log(tmp_path)
    write_lines(tmp_path, lines[:2] + lines[3:])
    assert verify(tmp_path).first_bad.startswith("record 2 (line 3): seq is 3, expected 2")


def test_a_reordered_pair_is_named(tmp_path):
    lines = make_log(tmp_path)
    write_lines(tmp_path, [lines[0], lines[2], lines[1], *lines[3:]])
    assert verify(tmp_path).first_bad.startswith("record 1 (line 2): seq is 2, expected 1")


def test_records_cut_off_the_end_are_found_only_against_a_checkpoint(tmp_path):
    lines = make_log(tmp_path)
    write_lines(tmp_path, lines[:4])
    assert verify(tmp_path).first_bad == \
        "the log has 4 records but checkpoint 000000000006.json covers 6: records were removed"
    shutil.rmtree(tmp_path / "checkpoints")
    assert verify(tmp_path).ok  # the chain alone cannot know records are missing at the end


def test_a_checkpoint_kept_elsewhere_catches_what_was_removed_with_the_local_ones(tmp_path):
    make_log(tmp_path / "audit")
    kept = tmp_path / "kept.json"
    shutil.copy(next((tmp_path / "audit" / "checkpoints").iterdir()), kept)
    lines = (tmp_path / "audit" / "log.jsonl").read_bytes().splitlines(keepends=True)
    write_lines(tmp_path / "audit", lines[:3])
    shutil.rmtree(tmp_path / "audit" / "checkpoints")
    assert verify(tmp_path / "audit").ok
    result = verify(tmp_path / "audit", kept)
    assert not result.ok
    assert result.first_bad == f"the log has 3 records but checkpoint {kept} covers 6: records were removed"


def test_a_log_rewritten_with_the_key_is_caught_by_a_checkpoint_kept_elsewhere(tmp_path):
    make_log(tmp_path / "audit")
    kept = tmp_path / "kept.json"
    shutil.copy(next((tmp_path / "audit" / "checkpoints").iterdir()), kept)
    rewrite_from(tmp_path / "audit", 2)  # change record 2 and recompute every prev after it
    shutil.rmtree(tmp_path / "audit" / "checkpoints")
    with AuditLog.open(tmp_path / "audit") as log:
        log.checkpoint()  # re-signed with the same key: locally, all looks well
    assert verify(tmp_path / "audit").ok
    bad = verify(tmp_path / "audit", kept).first_bad
    assert bad.startswith(f"checkpoint {kept} covers 6 records but they no longer hash to its signed root")
    assert names_record(bad, 2) and "a record in 0..3 (lines 1..4) was changed" in bad


def rewrite_from(directory: Path, k: int) -> None:
    records = [json.loads(line) for line in (directory / "log.jsonl").read_bytes().splitlines()]
    records[k]["n"] = 99
    out = (directory / "log.jsonl").read_bytes().splitlines()[:k]
    prev = leaf_hash(out[-1]).hex() if out else "0" * 64
    for record in records[k:]:
        body = {key: v for key, v in record.items() if key not in ("seq", "prev", "time")}
        line = serialize(record["seq"], prev, body)
        out.append(line)
        prev = leaf_hash(line).hex()
    (directory / "log.jsonl").write_bytes(b"".join(line + b"\n" for line in out))


def test_a_checkpoint_with_a_bad_signature_is_named(tmp_path):
    make_log(tmp_path)
    path = next((tmp_path / "checkpoints").iterdir())
    body = json.loads(path.read_text())
    body["signature"] = ("0" if body["signature"][0] != "0" else "1") + body["signature"][1:]
    path.write_text(json.dumps(body))
    assert verify(tmp_path).first_bad == \
        f"checkpoint {path.name}: the signature does not match its size and root (or its key)"


def test_a_checkpoint_whose_root_was_changed_fails_its_signature(tmp_path):
    make_log(tmp_path)
    path = next((tmp_path / "checkpoints").iterdir())
    body = json.loads(path.read_text())
    body["root"] = "0" * 64
    path.write_text(json.dumps(body))
    assert "signature does not match" in verify(tmp_path).first_bad


def test_a_checkpoint_signed_by_another_key_is_named(tmp_path):
    make_log(tmp_path, checkpoint=False)
    with AuditLog.open(tmp_path) as log:
        honest = json.loads(log.checkpoint().read_text())
    shutil.rmtree(tmp_path / "checkpoints")
    other = Ed25519PrivateKey.generate()
    forged = honest | {"public_key": other.public_key().public_bytes_raw().hex(),
                       "signature": other.sign(checkpoint_message(honest["size"], honest["root"])).hex()}
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "000000000006.json").write_text(json.dumps(forged))
    bad = verify(tmp_path).first_bad
    assert bad.startswith("checkpoint 000000000006.json is signed by another key (")
    assert "not this log's signing key" in bad


def test_a_checkpoint_of_the_empty_log_verifies(tmp_path):
    with AuditLog.open(tmp_path) as log:
        log.checkpoint()
    assert verify(tmp_path).ok and verify(tmp_path).checkpoints == 1


def test_no_log_is_not_a_verified_log(tmp_path):
    result = verify(tmp_path / "nothing")
    assert not result.ok and result.first_bad == f"there is no audit log at {tmp_path / 'nothing' / 'log.jsonl'}"


def test_a_checkpoint_that_is_not_one_is_named(tmp_path):
    make_log(tmp_path)
    (tmp_path / "checkpoints" / "000000000003.json").write_text('{"size": 3}')
    assert verify(tmp_path).first_bad == "checkpoint 000000000003.json is not a valid checkpoint: it has no 'root'"


def test_read_records_gives_committed_records_and_refuses_a_line_that_is_not_one(tmp_path):
    make_log(tmp_path)
    with open(tmp_path / "log.jsonl", "ab") as f:
        f.write(b'{"seq":6,')  # unfinished: not a record yet
    assert [r["n"] for r in read_records(tmp_path)] == list(range(RECORDS))
    with open(tmp_path / "log.jsonl", "ab") as f:
        f.write(b"\n")
    with pytest.raises(AuditError, match="line 7 of .* is not a record"):
        list(read_records(tmp_path))


def test_without_a_local_key_checkpoints_are_only_self_consistent_and_verify_says_so(tmp_path):
    make_log(tmp_path)
    (tmp_path / "signing.key").unlink()
    result = verify(tmp_path)
    assert result.ok and "checked only against the keys they carry" in result.note
