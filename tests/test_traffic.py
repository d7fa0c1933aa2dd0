"""Proof of zero hidden traffic: the real `freehold` under strace connects to the model endpoint
and nowhere else, resolves no names, and a policy refusal opens no connection at all; and a scan of
the source finds no URL but loopback and documentary examples, and no networking module but the two
that are allowed one.

strace sees every connect() and send*() of Freehold and of every process it starts (-f), whatever
library made the call. It cannot see what a local daemon does for a process it talks to over an
AF_UNIX socket (so those are listed), nor anything outside the traced process tree.

Set FREEHOLD_REQUIRE_STRACE=1 (CI does) to fail instead of skipping when strace cannot run.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import run_freehold

import freehold
from freehold.testing import Call, ScriptedServer, Turn

PACKAGE = Path(freehold.__file__).parent
# execve too, to show that the processes Freehold starts were traced as well.
TRACED = "connect,sendto,sendmsg,sendmmsg,execve"
TIMEOUT = 120
FINAL = "Fixed add() in calc.py; the test passes."

# -- strace: run under it, and read what it wrote ---------------------------------------------


@dataclass(frozen=True)
class Syscall:
    pid: int
    name: str
    family: str | None  # AF_INET, AF_INET6, AF_UNIX, AF_NETLINK, ...; None when no address was given
    address: str | None  # an IP address, or an AF_UNIX path ("@name" for the abstract namespace)
    port: int | None
    line: str

    @property
    def is_internet(self) -> bool:
        return self.family in ("AF_INET", "AF_INET6")

    @property
    def refused(self) -> bool:
        """The call failed outright (`= -1 ENOENT`, `ECONNREFUSED`, ...): nothing was reached.
        A non-blocking connect still in progress (EINPROGRESS, EAGAIN) is not refused."""
        failed = _FAILED.search(self.line)
        return failed is not None and failed.group(1) not in ("EINPROGRESS", "EAGAIN", "EALREADY")


_CALL = re.compile(r"^(?:\[pid\s+)?(\d+)\]?\s+(connect|sendto|sendmsg|sendmmsg)\(")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"(?:\.\.\.)?')
_ADDRESS_STRING_AFTER = ("inet_addr(", "AF_INET6, ", "sun_path=", "sun_path=@")
_FAMILY = re.compile(r"sa_family=(AF_\w+)")
_PORT = re.compile(r"sin6?_port=htons\((\d+)\)")
_IPV4 = re.compile(r'inet_addr\("([^"]+)"\)')
_IPV6 = re.compile(r'inet_pton\(AF_INET6, "([^"]+)"')
_FAILED = re.compile(r"\) = -1 (E[A-Z]+)")
_UNIX = re.compile(r'sun_path=(@?)"((?:[^"\\]|\\.)*)"')


def _without_payloads(line: str) -> str:
    """`line` with every quoted buffer emptied, so data we send cannot pass for an address."""

    def keep_addresses(match: re.Match[str]) -> str:
        return match.group(0) if line[: match.start()].endswith(_ADDRESS_STRING_AFTER) else '""'

    return _STRING.sub(keep_addresses, line)


def parse_syscall(raw: str) -> Syscall | None:
    """One strace line, or None for lines that carry no address (`<... resumed>`, signals, exits).

    With -f a call can be split into `... <unfinished ...>` and `<... connect resumed>`; the
    address is an input, printed on the first half, so the second half is skipped."""
    match = _CALL.match(raw)
    if not match:
        return None
    line = _without_payloads(raw)
    family = _FAMILY.search(line)
    address = _IPV4.search(line) or _IPV6.search(line)
    unix = _UNIX.search(line)
    port = _PORT.search(line)
    where = address.group(1) if address else (unix.group(1) + unix.group(2) if unix else None)
    return Syscall(int(match.group(1)), match.group(2), family.group(1) if family else None, where,
                   int(port.group(1)) if port else None, raw.rstrip("\n"))


def parse_trace(text: str) -> list[Syscall]:
    return [call for call in map(parse_syscall, text.splitlines()) if call is not None]


def programs_started(text: str) -> list[str]:
    """The programs exec'd in the traced tree, in order, from the execve lines of a trace."""
    return re.findall(r'^(?:\[pid\s+)?\d+\]?\s+execve\("([^"]+)"', text, re.MULTILINE)


def traced(argv: list[str], trace: Path) -> list[str]:
    return ["strace", "-f", "-qq", "-e", f"trace={TRACED}", "-o", str(trace), "--", *argv]


def _strace_problem(tmp: Path) -> str | None:
    """Why strace cannot be used here, or None. Probes what the tests rely on: tracing a process,
    and this parser reading an AF_UNIX connect from this strace's output."""
    if shutil.which("strace") is None:
        return "strace is not installed (apt-get install strace)"
    probe = ("import socket\ntry: socket.socket(socket.AF_UNIX).connect('/nonexistent/freehold-probe')\n"
             "except OSError: pass")
    trace = tmp / "probe.trace"
    try:
        run = subprocess.run(traced([sys.executable, "-c", probe], trace), capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "strace did not finish a trivial trace in 60 s"
    if run.returncode != 0:
        return f"strace cannot trace here (ptrace not permitted?): {run.stderr.strip()[:200]}"
    calls = parse_trace(trace.read_text()) if trace.exists() else []
    if not any(c.family == "AF_UNIX" and c.address == "/nonexistent/freehold-probe" for c in calls):
        return "strace ran but its output could not be parsed"
    return None


@pytest.fixture(scope="module")
def strace(tmp_path_factory) -> None:
    problem = _strace_problem(tmp_path_factory.mktemp("strace-probe"))
    if problem and os.environ.get("FREEHOLD_REQUIRE_STRACE"):
        pytest.fail(problem)
    if problem:
        pytest.skip(problem)


def run_traced(args: list[str], cwd: Path, env: dict[str, str],
               trace: Path) -> tuple[subprocess.CompletedProcess[str], list[Syscall]]:
    argv = traced([sys.executable, "-m", "freehold", *args], trace)
    run = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT,
                         stdin=subprocess.DEVNULL)
    return run, parse_trace(trace.read_text())


def summary(calls: list[Syscall]) -> str:
    return "\n".join(c.line for c in calls) or "(none)"


def not_to(calls: list[Syscall], port: int) -> list[Syscall]:
    """The internet connects and sends that did not go to 127.0.0.1:`port`."""
    return [c for c in calls if c.is_internet and (c.address, c.port) != ("127.0.0.1", port)]


def local_ipc(calls: list[Syscall]) -> list[Syscall]:
    """AF_UNIX connects that reached something. None are expected: a local daemon (nscd,
    systemd-resolved, D-Bus) could do network work on a caller's behalf where strace cannot see
    it. A connect that failed outright reached no daemon (glibc tries nscd's socket on every user
    lookup and gets ENOENT where nscd is not running), so it is not counted."""
    return [c for c in calls if c.family == "AF_UNIX" and not c.refused]


def other_families(calls: list[Syscall]) -> list[Syscall]:
    # AF_NETLINK is the kernel (glibc asks it for interface addresses); AF_UNSPEC only dissolves.
    known = ("AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK", "AF_UNSPEC", None)
    return [c for c in calls if c.family not in known]


# -- a complete session under strace ----------------------------------------------------------


CHECK = f"{sys.executable} -c 'import calc; assert calc.add(2, 3) == 5; print(\"ok5\")'"


def session_turns() -> list[Turn]:
    """Every tool Freehold has, each step checking the last one's result, then the answer."""
    return [
        Turn("", (Call("Glob", {"pattern": "**/*.py"}),)),
        Turn("", (Call("Grep", {"pattern": "def add"}),), expect="calc.py"),
        Turn("", (Call("Read", {"file_path": "calc.py"}),), expect="def add"),
        Turn("", (Call("Edit", {"file_path": "calc.py", "old_string": "return a - b", "new_string": "return a + b"}),),
             expect="return a - b"),
        Turn("", (Call("Bash", {"command": CHECK}),), expect="return a + b"),
        Turn(FINAL, expect="ok5"),
    ]


def test_a_session_talks_only_to_its_endpoint(strace, repo, env, tmp_path):
    trace = tmp_path / "session.trace"
    with ScriptedServer(session_turns()) as server:
        port = urlsplit(server.url).port
        run, calls = run_traced(["-p", "Fix add.", "--endpoint", server.url, "--model", "m",
                                 "--permission-mode", "auto"], repo, env, trace)
    assert run.returncode == 0, run.stderr
    assert run.stdout == FINAL + "\n" and "return a + b" in (repo / "calc.py").read_text()
    started = programs_started(trace.read_text())
    assert any(p.endswith(("/bash", "/sh")) for p in started), f"the Bash child was not traced: {started}"
    connects = [c for c in calls if c.name == "connect" and c.is_internet]
    assert connects, f"the trace shows no connection to the server at all:\n{summary(calls)}"
    assert not not_to(calls, port), f"traffic to somewhere else:\n{summary(not_to(calls, port))}"
    dns = [c for c in calls if c.port == 53]
    assert not dns, f"DNS traffic:\n{summary(dns)}"
    assert not local_ipc(calls), f"AF_UNIX connects (none expected):\n{summary(local_ipc(calls))}"
    assert not other_families(calls), summary(other_families(calls))


@pytest.mark.parametrize("argv", [
    ["-c", "import freehold, freehold.cli, freehold.app"],
    ["-m", "freehold", "--version"],
], ids=["import", "version"])
def test_starting_up_connects_nowhere(strace, argv, env, tmp_path):
    trace = tmp_path / "start.trace"
    run = subprocess.run(traced([sys.executable, *argv], trace), cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
    assert run.returncode == 0, run.stderr
    calls = parse_trace(trace.read_text())
    assert not [c for c in calls if c.name == "connect"], summary(calls)


# -- a policy refusal opens no connection ------------------------------------------------------


def listening() -> socket.socket:
    """A socket nobody accepts on: a connection made to it waits in the backlog, to be counted."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


def connections_made(sock: socket.socket) -> int:
    sock.setblocking(False)
    count = 0
    while True:
        try:
            conn, _ = sock.accept()
        except BlockingIOError:
            return count
        conn.close()
        count += 1


def refused_setup(tmp_path: Path, env: dict[str, str], allowed: socket.socket, other: socket.socket) -> list[str]:
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[models]\nallow = ["http://127.0.0.1:{allowed.getsockname()[1]}"]\n')
    env["FREEHOLD_POLICY"] = str(policy)
    env["FREEHOLD_MAX_RETRIES"] = "0"
    env["FREEHOLD_TIMEOUT"] = "5"  # should the refusal ever regress, fail in seconds, not minutes
    return ["-p", "hi", "--endpoint", f"http://127.0.0.1:{other.getsockname()[1]}/v1", "--model", "m"]


def assert_refused(code: int, stderr: str, tmp_path: Path, other: socket.socket) -> None:
    port = other.getsockname()[1]
    assert code == 3, stderr
    assert stderr.count("\n") == 1, stderr
    assert str(tmp_path / "policy.toml") in stderr and "[models] allow" in stderr
    assert f"http://127.0.0.1:{port}" in stderr
    assert connections_made(other) == 0


def test_a_refused_endpoint_exits_3_before_connecting(repo, env, tmp_path):
    with listening() as allowed, listening() as other:
        run = run_freehold(refused_setup(tmp_path, env, allowed, other), repo, env, timeout=TIMEOUT)
        assert_refused(run.code, run.stderr, tmp_path, other)
        assert run.stdout == ""


def test_a_refused_endpoint_makes_no_connect_at_all(strace, repo, env, tmp_path):
    with listening() as allowed, listening() as other:
        args = refused_setup(tmp_path, env, allowed, other)
        run, calls = run_traced(args, repo, env, tmp_path / "refused.trace")
        assert_refused(run.returncode, run.stderr, tmp_path, other)
    internet = [c for c in calls if c.is_internet]
    assert not internet, f"a refused run still reached out:\n{summary(internet)}"


# -- the source: no hidden addresses, no hidden networking ------------------------------------

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# Names reserved for documentation and tests (RFC 2606, RFC 6761): they can never be real services.
DOCUMENTARY = re.compile(r"(^|\.)(example(\.com|\.org|\.net)?|test|invalid|localhost)$")
URL = re.compile(r"https?://[^\s\"'<>()\[\]{}`,\\]+|https?://\[[0-9a-fA-F:]+\][^\s\"'<>(){}`,\\]*")


def source_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*") if p.is_file() and p.suffix in (".py", ".md", ".toml", ".json", ".txt"))


def host_of(url: str) -> str | None:
    """The host a URL literal names; None for a %-format or $-variable template (`{}` never matches URL)."""
    rest = url.split("//", 1)[1]
    if re.match(r"%[s(]|\$", rest):
        return None
    return urlsplit(url).hostname or rest


def test_every_url_in_the_source_is_loopback_or_an_example():
    found = []
    for path in source_files():
        for url in URL.findall(path.read_text(errors="replace")):
            host = host_of(url)
            if host is not None and host not in LOOPBACK and not DOCUMENTARY.search(host):
                found.append(f"{path.relative_to(PACKAGE)}: {url}")
    assert not found, "URLs that could be a hidden destination:\n" + "\n".join(found)


def test_the_url_scan_catches_a_real_host():
    text = 'f"https://telemetry.vendor.io/v1" http://[::1]:8/ http://llm.example.com http://%s:%d http://HOST:PORT'
    hosts = [host_of(u) for u in URL.findall(text)]
    flagged = [h for h in hosts if h and h not in LOOPBACK and not DOCUMENTARY.search(h)]
    assert flagged == ["telemetry.vendor.io", "host"]


# Standard-library modules that open connections, and packages of which any module does.
NETWORK_MODULES = {"socket", "ssl", "socketserver", "asyncio.streams", "http.client", "http.server", "urllib.request",
                   "ftplib", "smtplib", "poplib", "imaplib", "telnetlib", "xmlrpc.client", "xmlrpc.server"}
NETWORK_PACKAGES = {"httpx", "httpcore", "h11", "h2", "urllib3", "requests", "aiohttp", "websockets", "websocket",
                    "grpc", "paramiko"}
# The only modules that may reach the network, and what each may use.
ALLOWED = {
    "policy/egress.py": {"socket", "ssl", "httpx"},  # the one egress point
    # its client; every connection goes through egress. socket: only to shut an open stream's
    # socket when the person interrupts (it opens nothing).
    "models/openai_compat.py": {"httpx", "socket"},
    "models/pull.py": {"httpx"},  # downloads; every connection through egress_transport(purpose="download")
    "testing.py": {"socket", "http.server", "http.client", "socketserver"},  # the scripted server, tests only
}


def network_imports(path: Path) -> set[str]:
    """Networking modules `path` imports, by `import x`, `from x import y`, `from http import client`
    or importlib/__import__ with a literal name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and _dynamic_import(node):
            names.add(node.args[0].value)
    top = {n.split(".")[0] for n in names}
    return {n for n in names if n in NETWORK_MODULES} | (top & NETWORK_PACKAGES)


def _dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("import_module", "__import__") and bool(node.args) and isinstance(node.args[0], ast.Constant) \
        and isinstance(node.args[0].value, str)


def test_only_the_egress_point_and_the_test_server_import_networking():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        where = path.relative_to(PACKAGE).as_posix()
        extra = network_imports(path) - ALLOWED.get(where, set())
        if extra:
            found.append(f"{where}: {', '.join(sorted(extra))}")
    advice = "networking outside policy/egress.py (go through it, or add to ALLOWED with a reason):\n"
    assert not found, advice + "\n".join(found)


# -- the strace parser, on the shapes strace prints ----------------------------------------------

SAMPLES = """\
4242 connect(3, {sa_family=AF_INET, sin_port=htons(8000), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
4243 connect(5, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>
4243 <... connect resumed>) = -1 ECONNREFUSED (Connection refused)
[pid  4244] connect(4, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
4245 connect(4, {sa_family=AF_UNIX, sun_path=@"/tmp/.X11-unix/X0"}, 20) = 0
4246 sendto(3, "{\\"x\\": \\"{sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr(\\"8.8.8.8\\")}\\"}"..., 200, MSG_NOSIGNAL, NULL, 0) = 200
4247 sendto(7, "\\234K\\1\\0", 29, 0, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.53")}, 16) = 29
4248 +++ exited with 0 +++
"""


def test_the_parser_reads_every_shape():
    calls = parse_trace(SAMPLES)
    assert [(c.pid, c.name, c.family, c.address, c.port) for c in calls] == [
        (4242, "connect", "AF_INET", "127.0.0.1", 8000),
        (4243, "connect", "AF_INET6", "::1", 53),
        (4244, "connect", "AF_UNIX", "/var/run/nscd/socket", None),
        (4245, "connect", "AF_UNIX", "@/tmp/.X11-unix/X0", None),
        (4246, "sendto", None, None, None),  # the payload mentions an address; it is not one
        (4247, "sendto", "AF_INET", "10.0.0.53", 53),
    ]
    assert [c.pid for c in not_to(calls, 8000)] == [4243, 4247]


def test_only_unix_connects_that_reached_something_count_as_local_ipc():
    lines = [
        '30126 connect(3, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file)',
        '30127 connect(4, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 110) = 0',
        '30128 connect(5, {sa_family=AF_UNIX, sun_path="/run/x.sock"}, 110) = -1 ECONNREFUSED (Connection refused)',
        '30129 connect(6, {sa_family=AF_UNIX, sun_path="/run/y.sock"}, 110) = -1 EINPROGRESS (in progress)',
        '30130 connect(7, {sa_family=AF_UNIX, sun_path="/run/z.sock"}, 110 <unfinished ...>',
    ]
    reached = [c.address for c in local_ipc(parse_trace("\n".join(lines)))]
    assert reached == ["/run/dbus/system_bus_socket", "/run/y.sock", "/run/z.sock"]
