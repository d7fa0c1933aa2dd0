"""`freehold models pull` and `freehold models list` against a real file server on 127.0.0.1 that
speaks Range and can drop a connection after N bytes, ignore Range, or redirect."""

from __future__ import annotations

import hashlib
import random
import re
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from freehold.cli import main
from freehold.errors import FreeholdError
from freehold.models.command import model_rows
from freehold.models.pull import resolve

MODEL = b"GGUF\x03\x00\x00\x00" + random.Random(6).randbytes(300_000)
SHA = hashlib.sha256(MODEL).hexdigest()


# -- the file server ---------------------------------------------------------------------------


@dataclass
class Files:
    """What the server serves, how it misbehaves, and what it was asked."""

    files: dict[str, bytes]
    drops: list[int] = field(default_factory=list)  # the next responses send this many bytes, then die
    ignore_range: bool = False
    redirects: dict[str, str] = field(default_factory=dict)  # path -> Location
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    connections: int = 0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: Files) -> None:
        self.state = state
        super().__init__(("127.0.0.1", 0), _Handler)

    def verify_request(self, request: object, client_address: object) -> bool:
        self.state.connections += 1
        return True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a dropped connection is the point of some tests


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        state = self.server.state
        state.requests.append((self.path, self.headers.get("Range")))
        if self.path in state.redirects:
            self._head(302, {"Location": state.redirects[self.path], "Content-Length": "0"})
            return
        body = state.files.get(self.path)
        if body is None:
            self._head(404, {"Content-Length": "0"})
            return
        start = self._range_start()
        if start is not None and start >= len(body):
            self._head(416, {"Content-Range": f"bytes */{len(body)}", "Content-Length": "0"})
            return
        if start is None:
            self._head(200, {"Content-Length": str(len(body))})
            start = 0
        else:
            self._head(206, {"Content-Range": f"bytes {start}-{len(body) - 1}/{len(body)}",
                             "Content-Length": str(len(body) - start)})
        self._send(body[start:], state.drops.pop(0) if state.drops else None)

    def _range_start(self) -> int | None:
        found = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        return None if found is None or self.server.state.ignore_range else int(found.group(1))

    def _head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()

    def _send(self, body: bytes, drop_after: int | None) -> None:
        self.wfile.write(body if drop_after is None else body[:drop_after])
        self.wfile.flush()
        if drop_after is not None:  # the connection dies mid-body, Content-Length unmet
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True


@contextmanager
def serving(files: dict[str, bytes] | None = None, **faults: object) -> Iterator[tuple[Files, str]]:
    state = Files({"/m/tiny.gguf": MODEL} if files is None else files, **faults)
    server = _Server(state)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- running the command -----------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private Freehold home and config directory, no policy, fast retries, an empty cwd."""
    for name in ("FREEHOLD_ENDPOINT", "FREEHOLD_MODEL", "FREEHOLD_MODEL_FILE", "FREEHOLD_MAX_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FREEHOLD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("FREEHOLD_POLICY", "")
    monkeypatch.setenv("FREEHOLD_RETRY_BACKOFF", "0")
    monkeypatch.setenv("FREEHOLD_TIMEOUT", "10")
    monkeypatch.chdir(tmp_path)
    return tmp_path / "home"


def freehold(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`freehold models ...` in this process, through the real command line (one line on stderr for an error)."""
    code = main(["models", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line(text: str) -> str:
    assert text.count("\n") == 1 and text.endswith("\n") and "Traceback" not in text, text
    return text


def installed(home: Path) -> list[str]:
    return sorted(p.name for p in (home / "models").iterdir()) if (home / "models").exists() else []


# -- pull --------------------------------------------------------------------------------------


def test_a_full_download_with_its_sha256_is_installed_and_reported_in_one_line(home, capsys):
    with serving() as (state, origin):
        code, out, err = freehold(["pull", f"{origin}/m/tiny.gguf", "--sha256", SHA.upper()], capsys)
    assert (code, err) == (0, "")
    path = home / "models" / "tiny.gguf"
    assert one_line(out) == f"installed: {path} (300.0 KB, sha256 {SHA})\n"
    assert path.read_bytes() == MODEL
    assert installed(home) == ["tiny.gguf"]  # no .part left behind
    assert state.requests == [("/m/tiny.gguf", None)]


def test_a_dropped_connection_is_resumed_with_a_range_request(home, capsys):
    with serving(drops=[70_000]) as (state, origin):
        code, _, err = freehold(["pull", f"{origin}/m/tiny.gguf", "--sha256", SHA], capsys)
    assert (code, err) == (0, ""), err
    assert state.requests == [("/m/tiny.gguf", None), ("/m/tiny.gguf", "bytes=70000-")]
    assert (home / "models" / "tiny.gguf").read_bytes() == MODEL


def test_a_partial_file_left_by_an_earlier_run_is_resumed(home, capsys, monkeypatch):
    monkeypatch.setenv("FREEHOLD_MAX_RETRIES", "0")
    with serving(drops=[50_000, 0]) as (state, origin):  # the second attempt adds nothing: give up
        code, out, err = freehold(["pull", f"{origin}/m/tiny.gguf"], capsys)
        assert code == 4 and out == ""
        assert "failed after 2 attempts" in err
        part = home / "models" / "tiny.gguf.part"
        assert "50000 bytes are kept in" in one_line(err) and str(part) in err
        assert part.stat().st_size == 50_000 and installed(home) == ["tiny.gguf.part"]
        code, out, err = freehold(["pull", f"{origin}/m/tiny.gguf", "--sha256", SHA], capsys)
    assert (code, err) == (0, "")
    assert state.requests[-1] == ("/m/tiny.gguf", "bytes=50000-")
    assert (home / "models" / "tiny.gguf").read_bytes() == MODEL and installed(home) == ["tiny.gguf"]


def test_a_download_that_keeps_getting_somewhere_is_not_given_up(home, capsys, monkeypatch):
    monkeypatch.setenv("FREEHOLD_MAX_RETRIES", "0")  # one attempt that adds nothing would end it
    with serving(drops=[60_000, 60_000, 60_000]) as (state, origin):
        code, _, err = freehold(["pull", f"{origin}/m/tiny.gguf", "--sha256", SHA], capsys)
    assert (code, err) == (0, "")
    assert [r for _, r in state.requests] == [None, "bytes=60000-", "bytes=120000-", "bytes=180000-"]
    assert (home / "models" / "tiny.gguf").read_bytes() == MODEL


def test_a_server_that_ignores_range_is_read_again_from_the_start(home, capsys):
    with serving(drops=[70_000], ignore_range=True) as (state, origin):
        code, _, err = freehold(["pull", f"{origin}/m/tiny.gguf", "--sha256", SHA], capsys)
    assert (code, err) == (0, "")
    assert state.requests == [("/m/tiny.gguf", None), ("/m/tiny.gguf", "bytes=70000-")]
    assert (home / "models" / "tiny.gguf").read_bytes() == MODEL  # not the first 70 kB twice


def test_a_part_that_is_already_whole_is_installed_without_downloading_again(home, capsys):
    (home / "models").mkdir(parents=True)
    (home / "models" / "tiny.gguf.part").write_bytes(MODEL)
    with serving() as (state, origin):
        code, out, err = freehold(["pull", f"{origin}/m/tiny.gguf", "--sha256", SHA], capsys)
    assert (code, err) == (0, "") and out.startswith("installed:")
    assert state.requests == [("/m/tiny.gguf", f"bytes={len(MODEL)}-")]  # answered 416, nothing sent


def test_a_sha256_mismatch_installs_nothing_and_names_both_hashes(home, capsys):
    wrong = "0" * 64
    with serving() as (_, origin):
        code, out, err = freehold(["pull", f"{origin}/m/tiny.gguf", "--sha256", wrong], capsys)
    assert code == 1 and out == ""
    assert f"expected {wrong}, got {SHA}" in one_line(err) and "nothing was installed" in err
    assert installed(home) == []


def test_a_file_that_is_not_gguf_is_refused(home, capsys):
    page = b"<!doctype html><title>Sign in</title>" + b" " * 100_000
    with serving({"/m/tiny.gguf": page}) as (_, origin):
        code, out, err = freehold(["pull", f"{origin}/m/tiny.gguf"], capsys)
    assert code == 1 and out == ""
    assert "is not a GGUF file (it starts with b'<!do'" in one_line(err)
    assert installed(home) == []


def test_a_policy_refusal_exits_3_before_any_connection(home, capsys, monkeypatch, tmp_path):
    policy = tmp_path / "policy.toml"
    policy.write_text('[models]\npull_from = ["https://models.example"]\n')
    monkeypatch.setenv("FREEHOLD_POLICY", str(policy))
    with serving() as (state, origin):
        code, out, err = freehold(["pull", f"{origin}/m/tiny.gguf"], capsys)
    assert code == 3 and out == ""
    assert f"{policy}: [models] pull_from does not include {origin}" in one_line(err)
    assert state.connections == 0 and installed(home) == []


def test_a_redirect_to_another_origin_is_checked_against_the_policy(home, capsys, monkeypatch, tmp_path):
    with serving({}) as (cdn, cdn_origin), serving({}) as (hub, hub_origin):
        cdn.files["/blob"] = MODEL
        hub.redirects["/m/tiny.gguf"] = f"{cdn_origin}/blob"
        policy = tmp_path / "policy.toml"
        policy.write_text(f'[models]\npull_from = ["{hub_origin}"]\n')
        monkeypatch.setenv("FREEHOLD_POLICY", str(policy))
        code, _, err = freehold(["pull", f"{hub_origin}/m/tiny.gguf"], capsys)
        assert code == 3 and f"[models] pull_from does not include {cdn_origin}" in one_line(err)
        assert cdn.connections == 0
        policy.write_text(f'[models]\npull_from = ["{hub_origin}", "{cdn_origin}"]\n')
        code, _, err = freehold(["pull", f"{hub_origin}/m/tiny.gguf", "--sha256", SHA], capsys)
    assert (code, err) == (0, "")
    assert (home / "models" / "tiny.gguf").read_bytes() == MODEL


def test_an_unreachable_server_exits_4_in_one_line(home, capsys, monkeypatch):
    monkeypatch.setenv("FREEHOLD_MAX_RETRIES", "1")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err = freehold(["pull", f"http://127.0.0.1:{port}/m/tiny.gguf"], capsys)
    assert code == 4 and out == ""
    assert f"download from http://127.0.0.1:{port}/m/tiny.gguf failed after 2 attempts" in one_line(err)
    assert installed(home) == []


def test_an_http_error_exits_1_in_one_line(home, capsys):
    with serving() as (_, origin):
        code, _, err = freehold(["pull", f"{origin}/m/absent.gguf"], capsys)
    assert code == 1 and "HTTP 404" in one_line(err)


def test_a_place_that_cannot_be_written_is_one_line(home, capsys, tmp_path):
    (tmp_path / "a-file").write_text("")
    with serving() as (state, origin):
        code, _, err = freehold(["pull", f"{origin}/m/tiny.gguf", "--to", str(tmp_path / "a-file")], capsys)
    assert code == 1 and f"cannot write {tmp_path / 'a-file'}" in one_line(err) and state.connections == 0


def test_progress_goes_to_stderr_only_on_a_terminal(home, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with serving() as (_, origin):
        code, out, err = freehold(["pull", f"{origin}/m/tiny.gguf"], capsys)
    assert code == 0 and one_line(out).startswith("installed:")
    assert "pulling tiny.gguf: 300.0 KB of 300.0 KB (100%)" in err and err.endswith("\r\x1b[K")


def test_a_name_is_looked_up_in_the_user_catalog(home, capsys, tmp_path):
    catalog = tmp_path / "config" / "freehold" / "models.toml"
    catalog.parent.mkdir(parents=True)
    with serving() as (_, origin):
        catalog.write_text(f'[tiny]\nurl = "{origin}/m/tiny.gguf"\nsha256 = "{SHA}"\n')
        code, _, err = freehold(["pull", "tiny", "--to", str(tmp_path / "elsewhere")], capsys)
        assert (code, err) == (0, "")
        assert (tmp_path / "elsewhere" / "tiny.gguf").read_bytes() == MODEL
        catalog.write_text(f'[tiny]\nurl = "{origin}/m/tiny.gguf"\nsha256 = "{"1" * 64}"\n')
        code, _, err = freehold(["pull", "tiny", "--to", str(tmp_path / "again")], capsys)
    assert code == 1 and "expected 1111" in one_line(err)  # the catalog's hash is checked too


def test_an_unknown_name_says_how_to_add_it(home, capsys, tmp_path):
    code, _, err = freehold(["pull", "qwen-coder"], capsys)
    catalog = tmp_path / "config" / "freehold" / "models.toml"
    assert code == 2 and str(catalog) in one_line(err)
    assert '[qwen-coder] with url = "https://' in err and "sha256 =" in err


def test_an_installed_file_is_not_downloaded_again(home, capsys):
    with serving() as (state, origin):
        assert freehold(["pull", f"{origin}/m/tiny.gguf"], capsys)[0] == 0
        code, out, _ = freehold(["pull", f"{origin}/m/tiny.gguf", "--sha256", SHA], capsys)
    assert code == 0 and out.startswith("already installed:") and len(state.requests) == 1


def test_bad_usage_is_one_line_with_exit_2(home, capsys):
    assert freehold(["pull"], capsys)[0] == 2
    code, _, err = freehold(["pull", "http://127.0.0.1:9/x.gguf", "--sha256", "abc"], capsys)
    assert code == 2 and "--sha256 must be 64 hex digits" in one_line(err)


def test_the_installed_name_comes_from_the_url():
    assert resolve("https://models.example/org/m/resolve/main/Q4%20K.gguf?download=1").filename == "Q4 K.gguf"
    assert resolve("https://models.example/weights/model-q8").filename == "model-q8.gguf"
    with pytest.raises(FreeholdError, match="must end in a file name"):
        resolve("https://models.example/")


# -- list --------------------------------------------------------------------------------------


def test_list_shows_the_configured_endpoint_and_the_downloaded_files(home, capsys, tmp_path):
    config = tmp_path / "config" / "freehold" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[model]\nendpoint = "http://127.0.0.1:8000/v1"\nname = "qwen2.5-coder:7b"\n'
                      'context_window = 16384\n')
    (home / "models").mkdir(parents=True)
    (home / "models" / "Qwen2.5-Coder-0.5B-Instruct-Q8_0.gguf").write_bytes(MODEL)
    (home / "models" / "tiny.gguf").write_bytes(MODEL)
    (home / "models" / "big.gguf.part").write_bytes(MODEL[:1000])
    code, out, err = freehold(["list"], capsys)
    assert (code, err) == (0, "")
    header, *rows = [line.split("  ") for line in out.splitlines()]
    cells = [[cell.strip() for cell in line if cell.strip()] for line in (header, *rows)]
    assert cells[0] == ["NAME", "RUNTIME", "WHERE", "SIZE", "CONTEXT", "PROFILE", "NOTE"]
    models = home / "models"
    assert cells[1:] == [
        ["qwen2.5-coder:7b", "server", "http://127.0.0.1:8000/v1", "-", "16384 (config)", "qwen2.5-coder", "in use"],
        ["Qwen2.5-Coder-0.5B-Instruct-Q8_0", "llama.cpp", f"{models}/Qwen2.5-Coder-0.5B-Instruct-Q8_0.gguf", "300.0 KB",
         "32768 (profile)", "qwen2.5-coder"],
        ["tiny", "llama.cpp", f"{models}/tiny.gguf", "300.0 KB", "?", "default"],
        ["big", "llama.cpp", f"{models}/big.gguf.part", "1.0 KB", "?", "default",
         "partial download: run freehold models pull again to resume"],
    ]


def test_the_configured_model_file_is_listed_once_and_marked_in_use(home, tmp_path):
    from freehold.config import Settings

    (home / "models").mkdir(parents=True)
    model_file = home / "models" / "tiny.gguf"
    model_file.write_bytes(MODEL)
    settings = Settings(model_file=str(model_file), runtime="llama.cpp", profile="qwen3")
    rows = model_rows(settings, home / "models")
    assert [(r.name, r.profile, r.note) for r in rows] == [("tiny", "qwen3", "in use")]
    missing = model_rows(Settings(model_file=str(tmp_path / "gone.gguf"), runtime="llama.cpp"), tmp_path / "none")
    assert [(r.name, r.size, r.note) for r in missing] == [("gone", None, "missing")]


def test_list_with_nothing_says_how_to_get_a_model(home, capsys):
    code, out, _ = freehold(["list"], capsys)
    assert code == 0 and "freehold models pull NAME|URL" in one_line(out)


def test_list_probes_the_endpoint_only_when_asked(home, capsys, monkeypatch):
    from freehold.testing import ScriptedServer

    with ScriptedServer([], model="qwen3-8b", context_window=16384) as server:
        monkeypatch.setenv("FREEHOLD_ENDPOINT", server.url)
        code, out, _ = freehold(["list"], capsys)
        assert code == 0 and server.requests == []
        assert "(the one served)" in out
        code, out, _ = freehold(["list", "--probe"], capsys)
    assert code == 0 and server.requests[0].path == "/v1/models"
    row = out.splitlines()[1]
    assert row.startswith("qwen3-8b ") and " 16384 " in row and " qwen3 " in row
    assert "serves: qwen3-8b; window: vLLM /v1/models max_model_len" in row


def test_a_probe_that_cannot_reach_the_endpoint_says_so_in_the_row(home, capsys, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("FREEHOLD_ENDPOINT", f"http://127.0.0.1:{port}/v1")
    code, out, err = freehold(["list", "--probe"], capsys)
    assert code == 0 and err == ""
    assert f"probe: model endpoint http://127.0.0.1:{port}/v1 failed after 1 attempts" in out.splitlines()[1]
