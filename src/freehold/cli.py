"""The `freehold` command: parse flags, load settings, run a front end, map errors to exit codes.

Exit codes: 0 success; 1 the run failed (max turns, model error); 2 bad usage or config;
3 refused by policy; 4 model endpoint unreachable after retries; 130 interrupted.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from freehold import __version__
from freehold.errors import FreeholdError, UsageError

if TYPE_CHECKING:
    import argparse

EPILOG = """\
commands: freehold policy show | freehold policy check URL
          freehold audit verify [--checkpoint FILE] | audit show SESSION_ID | audit export
          freehold models pull NAME|URL [--sha256 HEX] [--to DIR] | models list [--probe]
          freehold qualify [--endpoint URL] [--model NAME | --model-file PATH.gguf] [--runs N]
          freehold map [--tokens N] [QUERY] | search QUERY | locate [--top K] [--format json] ISSUE|@FILE
          freehold rewind SESSION_ID [STEP]
exit codes: 0 success, 1 run failed, 2 bad usage or config, 3 refused by policy,
            4 model endpoint unreachable, 130 interrupted
environment: FREEHOLD_ENDPOINT, FREEHOLD_MODEL, FREEHOLD_API_KEY, FREEHOLD_HOME, ...
"""


def build_parser() -> argparse.ArgumentParser:
    import argparse  # not at module level: `freehold --version` needs none of this

    from freehold.config import PERMISSION_MODES
    from freehold.ui.headless import FORMATS

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
            raise UsageError(f"{message} (see freehold --help)")

    p = _Parser(prog="freehold", description="A coding agent on models you control.", epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"freehold {__version__}")
    p.add_argument("-p", "--print", dest="prompt", nargs="?", const="", metavar="PROMPT",
                   help="run headless on PROMPT (or on standard input when PROMPT is omitted)")
    p.add_argument("--output-format", choices=FORMATS, default="text")
    p.add_argument("--endpoint", metavar="URL", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model", metavar="NAME", help="model name (default: the one the endpoint serves)")
    p.add_argument("--model-file", metavar="PATH.gguf",
                   help="run this GGUF model in-process with llama.cpp (pip install -e '.[local]')")
    p.add_argument("--max-turns", type=int, metavar="N", help="model turns before giving up (default 50)")
    p.add_argument("--permission-mode", choices=PERMISSION_MODES)
    p.add_argument("--allowedTools", "--allowed-tools", dest="allow_rules", action="append", metavar="RULES",
                   help='allow rules for this run, e.g. "Bash(pytest:*) Edit(src/**)" (repeatable)')
    p.add_argument("--disallowedTools", "--disallowed-tools", dest="deny_rules", action="append", metavar="RULES",
                   help='deny rules for this run, e.g. "Bash(git push:*)" (repeatable)')
    p.add_argument("--dump-requests", metavar="DIR", type=Path,
                   help="write every request body, exactly as sent, to files in DIR")
    group = p.add_mutually_exclusive_group()
    group.add_argument("-c", "--continue", dest="continue_", action="store_true",
                       help="continue the latest session in this directory")
    group.add_argument("-r", "--resume", metavar="SESSION_ID", help="resume a session by id")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv == ["--version"]:  # the fast path: no parser, no imports
        print(f"freehold {__version__}")
        return 0
    output_format = "text"
    try:
        if argv[:1] == ["policy"]:
            from freehold.policy.command import policy_command

            return policy_command(argv[1:])
        if argv[:1] == ["audit"]:
            from freehold.audit.command import audit_command

            return audit_command(argv[1:])
        if argv[:1] == ["models"]:
            from freehold.models.command import models_command

            return models_command(argv[1:])
        if argv[:1] in (["map"], ["search"], ["locate"]):
            from freehold.index import command

            return getattr(command, f"{argv[0]}_command")(argv[1:])
        if argv[:1] == ["rewind"]:
            from freehold.rewind import rewind_command

            return rewind_command(argv[1:])
        if argv[:1] == ["qualify"]:
            from freehold.models.command import qualify_command

            return qualify_command(argv[1:])
        args = build_parser().parse_args(argv)
        output_format = args.output_format
        return run(args)
    except FreeholdError as exc:
        _report(exc, output_format)
        return exc.exit_code
    except KeyboardInterrupt:
        print("freehold: interrupted; the session is saved (resume it with --continue)", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: one line for the user, the traceback on request
        if os.environ.get("FREEHOLD_DEBUG"):
            raise
        print(f"freehold: internal error: {type(exc).__name__}: {exc} (FREEHOLD_DEBUG=1 shows details)",
              file=sys.stderr)
        return 1


def _report(exc: FreeholdError, output_format: str) -> None:
    """An error before the run could start: one line on stderr, and for JSON consumers the
    same result object a failed run ends with, so CI always has one object to read."""
    print(f"freehold: {exc}", file=sys.stderr)
    if output_format != "text":
        import json

        from freehold.messages import Usage
        from freehold.protocol import RunFinished
        from freehold.ui.headless import result_object

        print(json.dumps(result_object(RunFinished("error", True, str(exc), "", 0, 0, Usage()))))


def run(args: argparse.Namespace) -> int:
    from freehold import config
    from freehold.errors import PolicyRefused
    from freehold.policy.org import enforce, load_policy
    from freehold.policy.rules import split_rules

    prompt = _prompt(args)  # None: no -p and a terminal, so the interactive UI
    cwd = Path.cwd()
    policy = load_policy()
    flags = {"endpoint": args.endpoint, "model": args.model, "model_file": args.model_file, "max_turns": args.max_turns,
             "permission_mode": args.permission_mode, "allow_rules": split_rules(args.allow_rules),
             "deny_rules": split_rules(args.deny_rules)}
    try:
        settings = enforce(config.load(cwd, flags), policy)
    except PolicyRefused as exc:
        from freehold.app import record_refusal

        record_refusal(policy, str(exc))
        raise
    if not settings.endpoint and settings.runtime == "server":
        raise UsageError("no model endpoint: pass --endpoint URL (or --model-file PATH.gguf), set FREEHOLD_ENDPOINT, "
                         "or set [model] endpoint in config")
    options = config.RunOptions(args.resume, args.continue_, args.dump_requests)
    if prompt is None:
        from freehold.ui.terminal import TerminalUI

        return TerminalUI(settings, policy, cwd, options).run()
    from freehold.app import run_headless
    from freehold.ui.headless import HeadlessRenderer

    return run_headless(settings, policy, cwd, prompt, HeadlessRenderer(args.output_format), options)


def _prompt(args: argparse.Namespace) -> str | None:
    """The task: -p's value, or standard input when -p has none; None for the interactive UI (no
    -p, and standard input and output are a terminal). Standard input is read only then, so a
    caller that leaves it open never makes `freehold -p "..."` wait."""
    if args.prompt is None:
        if sys.stdin is not None and sys.stdin.isatty() and sys.stdout is not None and sys.stdout.isatty():
            return None
        if sys.stdin is None or sys.stdin.isatty():
            raise UsageError("the interactive UI needs a terminal on standard output; run headless with -p \"PROMPT\"")
        args.prompt = ""
    if args.prompt.strip():
        return args.prompt
    text = sys.stdin.read() if sys.stdin is not None and not sys.stdin.isatty() else ""
    if not text.strip():
        raise UsageError("empty prompt: pass -p \"PROMPT\" or pipe the prompt on standard input")
    return text
