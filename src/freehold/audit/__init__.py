"""The audit log: what happened, written down before it happens, in a form that shows tampering.

    merkle.py    RFC 6962 leaf/node hashes, the tree head, and Frontier (incremental root in O(log n))
    log.py       AuditLog: hash-chained JSON Lines, fsynced per record, crash recovery, signed checkpoints
    verify.py    verify(directory) -> VerifyResult naming the first bad record; read_records for show/export
    recorder.py  Recorder: the record types a session writes (session_start ... session_end)
    command.py   `freehold audit verify|show|export`
"""
