"""`freehold audit verify|show|export`: check the log, read one session, hand the log to a SIEM."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from freehold.errors import UsageError


def audit_command(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from freehold.app import audit_directory
    from freehold.policy.org import load_policy

    directory = audit_directory(load_policy())
    if args.action == "verify":
        return verify(directory, args.checkpoint)
    if args.action == "show":
        return show(directory, args.session_id)
    return export(directory, args.session)


def _parser() -> argparse.ArgumentParser:
    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{message} (see freehold audit --help)")

    p = Parser(prog="freehold audit", description="Check and read the audit log.")
    actions = p.add_subparsers(dest="action", required=True)
    v = actions.add_parser("verify", help="check the hash chain, the Merkle root and every signed checkpoint")
    v.add_argument("--checkpoint", type=Path, metavar="FILE", help="also check against this checkpoint")
    s = actions.add_parser("show", help="print one session readably")
    s.add_argument("session_id")
    e = actions.add_parser("export", help="print records for a SIEM")
    e.add_argument("--format", choices=["jsonl"], default="jsonl")
    e.add_argument("--session", metavar="ID", help="only this session's records")
    return p


def verify(directory: Path, checkpoint: Path | None) -> int:
    from freehold.audit.verify import verify as check

    if checkpoint is not None and not checkpoint.is_file():
        raise UsageError(f"no checkpoint file {checkpoint}")
    result = check(directory, checkpoint)
    if result.ok:
        print(f"ok: {result.size} records, root {result.root}")
        return 0
    print(f"audit log {directory / 'log.jsonl'} failed verification: {result.first_bad}", file=sys.stderr)
    return 1


def export(directory: Path, session: str | None) -> int:
    for record in _records(directory):
        if session is None or record.get("session") == session:
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    return 0


def show(directory: Path, session_id: str) -> int:
    records = [r for r in _records(directory) if r.get("session") == session_id]
    if not records:
        raise UsageError(f"no records of session {session_id!r} in {directory / 'log.jsonl'}")
    for line in render(records):
        print(line)
    return 0


def _records(directory: Path) -> Iterable[dict[str, Any]]:
    from freehold.audit.verify import read_records

    if not (directory / "log.jsonl").exists():
        raise UsageError(f"no audit log in {directory}")
    return read_records(directory)


def render(records: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for r in records:
        stamp = str(r.get("time", ""))[11:23]
        lines += [f"{stamp}  {text}" if i == 0 else f"{'':14}{text}" for i, text in enumerate(_describe(r))]
    return lines


def _describe(r: dict[str, Any]) -> list[str]:
    kind = r.get("type")
    if kind == "session_start":
        return [f"session {r['session']} in {r.get('cwd')}: model {r.get('model')} at {r.get('endpoint')}, "
                f"mode {r.get('permission_mode')}, policy {r.get('policy_sha256') or 'none'}"]
    if kind == "user_prompt":
        return ["user: " + _short(r.get("text", ""))]
    if kind == "model_request":
        return [f"-> model request, {len(r.get('body', '')):,} bytes, sha256 {r.get('request_sha256', '')[:16]}"]
    if kind == "model_response":
        calls = ", ".join(f"{c['name']}({_short(c['arguments'], 60)})" for c in r.get("tool_calls", []))
        return [f"<- model: {_short(r.get('text', '')) or '(no text)'}" + (f"; calls {calls}" if calls else "")]
    if kind == "tool_call":
        return [f"tool {r.get('name')}: {r.get('decision')} by {r.get('decided_by')}", *_diff(r)]
    if kind == "tool_result":
        flag = "error, " if r.get("is_error") else ""
        return [f"   result ({flag}{r.get('size')} bytes): {_short(r.get('content', ''))}"]
    if kind in ("file_change", "file_restore"):
        verb = "file" if kind == "file_change" else "restored by the user:"
        return [f"{verb} {r.get('path')}: {_h(r.get('sha256_before'))} -> {_h(r.get('sha256_after'))}"]
    if kind == "compaction":
        return [f"compaction ({r.get('reason')}; by {r.get('by')}): {r.get('removed_messages')} messages, "
                f"{r.get('removed_chars')} characters, sha256 {_h(r.get('removed_sha256'))}",
                "   summary: " + _short(r.get("summary", ""))]
    if kind == "subagent":
        return [f"subagent {r.get('agent')} started: {_short(r.get('description', ''), 80)} "
                f"(its turns: session {r.get('subagent_session')})"]
    if kind == "user_command":
        return [f"user ran: {_short(r.get('command', ''), 120)} (exit {r.get('exit_code')}, {r.get('size')} bytes)"]
    if kind == "session_end":
        return [f"session end: {r.get('subtype')}, {r.get('num_turns')} turns, {r.get('duration_ms')} ms, "
                f"usage {r.get('usage')}"]
    return [f"{kind}: {_short(json.dumps({k: v for k, v in r.items() if k not in ('seq', 'prev', 'time')}))}"]


def _diff(r: dict[str, Any]) -> list[str]:
    args = r.get("input") or {}
    if r.get("name") != "Edit" or not isinstance(args, dict):
        return []
    old, new = str(args.get("old_string", "")), str(args.get("new_string", ""))
    return [f"   - {line}" for line in old.splitlines()] + [f"   + {line}" for line in new.splitlines()]


def _short(text: str, limit: int = 160) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _h(digest: str | None) -> str:
    return digest[:12] if digest else "(none)"
