"""`freehold models pull | list` and `freehold qualify`: fetch, see and measure the models Freehold runs on.

    freehold models pull NAME|URL [--sha256 HEX] [--to DIR]
    freehold models list [--probe]
    freehold qualify [--endpoint URL] [--model NAME] [--runs N] [--format table|json]

Exit codes, as for a run: 0 done (qualify: whatever the scores); 1 the download was not what was
asked for (wrong hash, not GGUF, an HTTP error) or every qualify request failed; 2 bad usage or
config; 3 refused by policy; 4 the server could not be reached.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from freehold.config import Settings, data_home, load, user_config_path
from freehold.errors import FreeholdError, ModelError, UsageError

if TYPE_CHECKING:
    from freehold.models.openai_compat import Endpoint
    from freehold.models.qualify import Case
    from freehold.policy.org import Policy


def models_command(argv: list[str]) -> int:
    args = _models_parser().parse_args(argv)
    if args.action == "pull":
        return pull_command(args.source, args.sha256, args.to)
    return list_command(args.probe)


def qualify_command(argv: list[str]) -> int:
    args = _qualify_parser().parse_args(argv)
    if args.runs < 1:
        raise UsageError(f"--runs must be at least 1, got {args.runs}")
    if args.model_file:
        return qualify_local(args.model_file, args.runs, args.format, grammar=not args.no_grammar)
    return qualify(args.endpoint, args.model, args.runs, args.format)


def qualify_local(path: Path, runs: int, output: str, *, grammar: bool) -> int:
    """The battery on a GGUF run in-process, with the tool grammar or (--no-grammar) without."""
    from freehold.models.llamacpp import LocalModel
    from freehold.models.qualify import Report, render_table, run_battery, to_json

    settings = load(Path.cwd(), {})
    model = LocalModel(path, max_context=settings.context_window, temperature=settings.temperature,
                       max_tokens=settings.max_tokens, n_threads=settings.threads or 1, grammar=grammar,
                       tool_choice=settings.tool_choice)
    try:
        report = Report(f"{model.name} ({'grammar' if grammar else 'no grammar'})", model.where, runs,
                        run_battery(model, runs))
    finally:
        model.close()
    print(render_table(report) if output == "table" else json.dumps(to_json(report), ensure_ascii=False, indent=2))
    return 0


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    class Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:  # one line, not argparse's usage block
            raise UsageError(f"{message} (see {prog} --help)")

    return Parser(prog=prog, description=description)


def _models_parser() -> argparse.ArgumentParser:
    from freehold.models.pull import catalog_path

    p = _parser("freehold models", "Download and list the models Freehold can run on.")
    actions = p.add_subparsers(dest="action", required=True, metavar="pull|list")
    pull = actions.add_parser("pull", help="download a GGUF file (resumable, verified, installed atomically)")
    pull.add_argument("source", metavar="NAME|URL",
                      help=f"an http(s) URL, or a name from {catalog_path()}")
    pull.add_argument("--sha256", metavar="HEX", help="the file's expected SHA-256; a mismatch installs nothing")
    pull.add_argument("--to", type=Path, metavar="DIR", help=f"where to install (default: {data_home() / 'models'})")
    show = actions.add_parser("list", help="the configured model and the downloaded GGUF files")
    show.add_argument("--probe", action="store_true", help="also ask the configured endpoint what it serves")
    return p


def _qualify_parser() -> argparse.ArgumentParser:
    p = _parser("freehold qualify", "Score a model's tool calls on a fixed battery of prompts.")
    p.add_argument("--endpoint", metavar="URL", help="OpenAI-compatible base URL (default: the configured one)")
    p.add_argument("--model", metavar="NAME", help="model name (default: the configured one, or the one served)")
    p.add_argument("--model-file", type=Path, metavar="PATH.gguf", help="qualify a GGUF run in-process instead")
    p.add_argument("--no-grammar", action="store_true", help="with --model-file: without the tool-call grammar")
    p.add_argument("--runs", type=int, default=1, metavar="N", help="times to run each case (default 1)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    return p


# -- pull --------------------------------------------------------------------------------------


def pull_command(source_text: str, sha256: str | None, to: Path | None) -> int:
    from freehold.models.pull import Retry, pull, resolve
    from freehold.policy.org import load_policy

    policy = load_policy()
    settings = load(Path.cwd(), {})
    source = resolve(source_text, sha256)
    retry = Retry(settings.max_retries + 1, settings.retry_backoff, settings.timeout)
    progress = _ProgressLine(source.filename) if sys.stderr.isatty() else None
    try:
        pulled = pull(source, to if to is not None else data_home() / "models", policy, retry, progress)
    finally:
        if progress is not None:
            progress.clear()
    verb = "installed" if pulled.downloaded else "already installed"
    print(f"{verb}: {pulled.path} ({_size(pulled.size)}, sha256 {pulled.sha256})")
    return 0


class _ProgressLine:
    """One line on a terminal's stderr, redrawn at most ten times a second."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and done != total:
            return
        self._last, self._drawn = now, True
        of = f" of {_size(total)} ({100 * done // total}%)" if total else ""
        sys.stderr.write(f"\r\x1b[Kpulling {self.name}: {_size(done)}{of}")
        sys.stderr.flush()

    def clear(self) -> None:
        if self._drawn:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _size(count: int) -> str:
    """A byte count in decimal units, as disks and model hubs count them."""
    size, unit = float(count), "bytes"
    for bigger in ("KB", "MB", "GB", "TB"):
        if size < 1000:
            break
        size, unit = size / 1000, bigger
    return f"{count} bytes" if unit == "bytes" else f"{size:.1f} {unit}"


# -- list --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    runtime: str  # "server" or "llama.cpp"
    where: str  # the endpoint URL or the file's path
    size: int | None = None
    context: str = "?"
    profile: str = "-"
    note: str = ""


def list_command(probe: bool) -> int:
    settings = load(Path.cwd(), {})
    rows = model_rows(settings, data_home() / "models")
    if probe and settings.endpoint:
        from freehold.policy.org import load_policy

        rows = [_probed(row, settings, load_policy()) if row.runtime == "server" else row for row in rows]
    if not rows:
        print(f"no models: set [model] endpoint or path in {user_config_path()}, or run freehold models pull NAME|URL")
        return 0
    print(render_rows(rows))
    return 0


def model_rows(settings: Settings, directory: Path) -> list[Row]:
    """What config names (the endpoint, the model file) and the GGUF files in `directory`,
    from config and the file system alone: no network."""
    rows: list[Row] = []
    if settings.endpoint:
        profile, window = _profile(settings.model, settings.profile, settings.context_window)
        note = "in use" if settings.runtime == "server" else "configured, not in use"
        rows.append(Row(settings.model or "(the one served)", "server", settings.endpoint, None, window, profile, note))
    seen = set()
    if settings.model_file:
        path = Path(settings.model_file).expanduser()
        seen.add(path.resolve())
        note = "in use" if settings.runtime == "llama.cpp" else "configured, not in use"
        rows.append(_file_row(path, settings, note if path.is_file() else "missing"))
    for path in sorted(directory.glob("*.gguf")):
        if path.resolve() not in seen:
            rows.append(_file_row(path, None, ""))
    for path in sorted(directory.glob("*.gguf.part")):
        rows.append(_file_row(path, None, "partial download: run freehold models pull again to resume"))
    return rows


def _file_row(path: Path, settings: Settings | None, note: str) -> Row:
    """A GGUF file; `settings` when config names it (its profile and window apply)."""
    name = path.name.removesuffix(".part")
    override, window = (settings.profile, settings.context_window) if settings else (None, None)
    profile, context = _profile(name, override, window)
    size = path.stat().st_size if path.is_file() else None
    return Row(name.removesuffix(".gguf"), "llama.cpp", str(path), size, context, profile, note)


def _profile(model: str | None, override: str | None, configured: int | None) -> tuple[str, str]:
    """The profile Freehold would use (when the profiles module is there to say), and the
    context window as far as config and that profile tell it."""
    window = f"{configured} (config)" if configured else "?"
    profiles = _optional("freehold.models.profiles")
    if profiles is None or (model is None and override is None):  # no model name: the server's, see --probe
        return "-", window
    try:
        profile = profiles.profile_for(model or "", override=override)
    except ValueError:
        return f"unknown {override!r}", window
    if not configured and profile.context_window:
        window = f"{profile.context_window} (profile)"
    return profile.name, window


def _probed(row: Row, settings: Settings, policy: Policy) -> Row:
    """`row` with what the endpoint says: the models it serves and the window it serves them
    with; or why it could not be asked (unreachable, refused by policy)."""
    from dataclasses import replace

    from freehold.models.openai_compat import OpenAICompatModel
    from freehold.policy.egress import egress_transport

    endpoint = replace(_endpoint(settings), max_retries=0, timeout=min(settings.timeout, 10.0))
    model = OpenAICompatModel(endpoint, transport=egress_transport(policy))
    try:
        served = model.served_models()
        row = replace(row, note=f"{row.note}; serves: {', '.join(served) or 'nothing'}")
        name = model.ensure_model()
        return _with_window(replace(row, name=name), name, settings, model.http)
    except FreeholdError as exc:
        return replace(row, note=f"{row.note}; probe: {exc}")
    finally:
        model.close()


def _with_window(row: Row, name: str, settings: Settings, http: object) -> Row:
    from dataclasses import replace

    profiles, windows = _optional("freehold.models.profiles"), _optional("freehold.models.window")
    if profiles is None or windows is None:
        return row
    try:
        profile = profiles.profile_for(name, override=settings.profile)
    except ValueError:
        return row
    window = windows.negotiate(http, settings.endpoint or "", name, profile, settings.context_window)
    return replace(row, context=str(window.tokens), profile=profile.name, note=f"{row.note}; window: {window.source}")


def _optional(name: str) -> Any:
    """A module written alongside this one (profiles, window), or None while it is not there."""
    import importlib

    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        return None


def render_rows(rows: list[Row]) -> str:
    table = [("NAME", "RUNTIME", "WHERE", "SIZE", "CONTEXT", "PROFILE", "NOTE")]
    table += [(r.name, r.runtime, r.where, _size(r.size) if r.size is not None else "-", r.context, r.profile, r.note)
              for r in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(table[0]) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(line, widths)), line[-1]]).rstrip()
                     for line in table)


# -- qualify -----------------------------------------------------------------------------------


def qualify(endpoint: str | None, model_name: str | None, runs: int, output: str) -> int:
    from freehold.models.openai_compat import OpenAICompatModel
    from freehold.models.qualify import Report, render_table, run_battery, to_json
    from freehold.policy.egress import admit, egress_transport
    from freehold.policy.org import load_policy

    policy = load_policy()
    settings = load(Path.cwd(), {"endpoint": endpoint, "model": model_name})
    if not settings.endpoint:
        raise UsageError("no endpoint to qualify: pass --endpoint URL, set FREEHOLD_ENDPOINT, "
                         "or set [model] endpoint in config")
    admit(policy, settings.endpoint, "model")  # refused: exit 3 before any connection
    model = OpenAICompatModel(_endpoint(settings), transport=egress_transport(policy))
    progress = _qualify_progress(runs) if sys.stderr.isatty() else None
    try:
        name = model.ensure_model()
        results = run_battery(model, runs, on_turn=progress)
    finally:
        model.close()
        if progress is not None:
            sys.stderr.write("\r\x1b[K")
    report = Report(name, settings.endpoint, runs, results)
    if report.errors and len(report.errors) == len(report.total.turns):
        raise ModelError(f"every qualify request failed; the first: {report.errors[0]}")
    print(render_table(report) if output == "table" else json.dumps(to_json(report), ensure_ascii=False, indent=2))
    return 0


def _qualify_progress(runs: int) -> Callable[[Case, int], None]:
    def show(case: Case, run: int) -> None:
        sys.stderr.write(f"\r\x1b[Kqualify: {case.name}, run {run + 1} of {runs}")
        sys.stderr.flush()

    return show


def _endpoint(settings: Settings) -> Endpoint:
    from freehold.models.openai_compat import Endpoint

    assert settings.endpoint is not None
    return Endpoint(settings.endpoint, settings.model, settings.api_key, settings.timeout, settings.max_retries,
                    settings.retry_backoff, settings.stream, settings.temperature, settings.max_tokens)
