"""The egress transport against real servers on 127.0.0.1: policy before sockets, one pinned
address, no redirects, no proxy variables, and the policy's proxy when it names one."""

from __future__ import annotations

import contextlib
import http.client
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from freehold.errors import PolicyRefused
from freehold.messages import Message
from freehold.models.openai_compat import Endpoint, OpenAICompatModel
from freehold.policy.egress import egress_transport
from freehold.policy.org import Policy, load_policy
from freehold.testing import ScriptedServer, Turn

# -- small real servers -------------------------------------------------------------------


@contextlib.contextmanager
def raw_listener(host: str = "127.0.0.1") -> Iterator[socket.socket]:
    """A listening socket nobody accepts on: every connection made to it waits in the backlog."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.bind((host, 0))
        sock.listen(64)
        yield sock


def connections_made(sock: socket.socket) -> int:
    """How many connections reached `sock` (the kernel completes the handshake without accept())."""
    sock.setblocking(False)
    count = 0
    with contextlib.suppress(BlockingIOError):
        while True:
            conn, _ = sock.accept()
            conn.close()
            count += 1
    return count


class Recorder(ThreadingHTTPServer):
    """HTTP/1.0, so each request is a new connection; keeps (method, path, Host, SNI) of each."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", redirect_to: str | None = None) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        super().__init__((host, 0), _RecordingHandler)
        self.seen: list[tuple[str, str, str | None]] = []
        self.redirect_to = redirect_to
        self.sni: list[str | None] = []

    @property
    def port(self) -> int:
        return self.server_address[1]

    def __enter__(self) -> Recorder:
        threading.Thread(target=self.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


class _RecordingHandler(BaseHTTPRequestHandler):
    server: Recorder

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append((self.command, self.path, self.headers.get("Host")))
        if self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = json.dumps({"object": "list", "data": [{"id": "m"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ForwardProxy(ThreadingHTTPServer):
    """A tiny forward proxy: absolute-form GET/POST, its own name table, a count of what it carried."""

    daemon_threads = True

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.names = names
        self.carried: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    __enter__ = Recorder.__enter__
    __exit__ = Recorder.__exit__


class _ProxyHandler(BaseHTTPRequestHandler):
    server: ForwardProxy

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._forward()

    def do_POST(self) -> None:
        self._forward()

    def _forward(self) -> None:
        self.server.carried.append(f"{self.command} {self.path}")
        target = httpx.URL(self.path)  # absolute-form: the proxy, not the client, resolves the name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        conn = http.client.HTTPConnection(self.server.names.get(target.host, target.host), target.port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        conn.request(self.command, target.raw_path.decode(), body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()


# -- helpers --------------------------------------------------------------------------------


def policy_file(tmp_path: Path, *allow: str, proxy: str | None = None) -> Policy:
    lines = ["[models]", "allow = [" + ", ".join(f'"{a}"' for a in allow) + "]"]
    if proxy:
        lines += ["[network]", f'proxy = "{proxy}"']
    path = tmp_path / "policy.toml"
    path.write_text("\n".join(lines) + "\n")
    return load_policy({"FREEHOLD_POLICY": str(path)})


def counting_resolver(answers: list[str]):
    """Answers `answers[i]` to the i-th call (the last one from then on); `.calls` counts them."""

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        address = answers[min(resolve.calls, len(answers) - 1)]
        resolve.calls += 1
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sockaddr = (address, port, 0, 0) if family == socket.AF_INET6 else (address, port)
        return [(family, socket.SOCK_STREAM, 6, "", sockaddr)]

    resolve.calls = 0
    return resolve


def refusing_resolver(host: str, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    raise AssertionError(f"nothing should be resolved, but {host} was")


def client(transport: httpx.BaseTransport, **kwargs: Any) -> httpx.Client:
    return httpx.Client(transport=transport, timeout=10, **kwargs)


# -- the policy, before any socket ------------------------------------------------------------


def test_refused_origin_raises_before_any_connection(tmp_path):
    with raw_listener() as allowed, raw_listener() as other:
        policy = policy_file(tmp_path, f"http://127.0.0.1:{allowed.getsockname()[1]}")
        refused = f"http://127.0.0.1:{other.getsockname()[1]}"
        with client(egress_transport(policy)) as http, pytest.raises(PolicyRefused) as caught:
            http.get(refused + "/v1/models")
        assert connections_made(other) == 0 and connections_made(allowed) == 0
    message = str(caught.value)
    assert "\n" not in message
    assert message == f"refused by policy: {tmp_path / 'policy.toml'}: [models] allow does not include {refused}"


def test_allowed_origin_and_no_policy_reach_the_server(tmp_path):
    with ScriptedServer([]) as server:
        origin = server.url.removesuffix("/v1")
        for policy in (policy_file(tmp_path, origin), Policy()):
            with client(egress_transport(policy, resolver=refusing_resolver)) as http:
                assert http.get(server.url + "/models").json()["data"][0]["id"] == "scripted-model"


def test_the_model_client_is_refused_without_retrying(tmp_path):
    with raw_listener() as other:
        url = f"http://127.0.0.1:{other.getsockname()[1]}/v1"
        policy = policy_file(tmp_path, "http://127.0.0.1:1")
        endpoint = Endpoint(url, "m", max_retries=3, retry_backoff=0)
        model = OpenAICompatModel(endpoint, transport=egress_transport(policy))
        with pytest.raises(PolicyRefused):
            model.complete([Message("user", "hi")], [])
        assert model.requests_sent == 1 and connections_made(other) == 0


def test_the_model_client_completes_through_it(tmp_path):
    with ScriptedServer([Turn("hello")]) as server:
        policy = policy_file(tmp_path, server.url.removesuffix("/v1"))
        model = OpenAICompatModel(Endpoint(server.url, "m"), transport=egress_transport(policy))
        assert model.complete([Message("user", "hi")], []).text == "hello"
        model.close()


# -- one address, resolved once ---------------------------------------------------------------


def test_a_name_is_resolved_once_and_pinned(tmp_path):
    with Recorder() as server:
        # After the first answer the name "rebinds" to 127.0.0.2, where nothing listens.
        resolve = counting_resolver(["127.0.0.1", "127.0.0.2"])
        origin = f"http://llm.test:{server.port}"
        with client(egress_transport(policy_file(tmp_path, origin), resolver=resolve)) as http:
            for _ in range(3):  # HTTP/1.0: three requests, three connections
                assert http.get(origin + "/v1/models").status_code == 200
    assert resolve.calls == 1
    assert server.seen == [("GET", "/v1/models", f"llm.test:{server.port}")] * 3


def test_the_policy_compares_names_not_addresses(tmp_path):
    with Recorder() as server:
        policy = policy_file(tmp_path, f"http://127.0.0.1:{server.port}")
        resolve = counting_resolver(["127.0.0.1"])
        with client(egress_transport(policy, resolver=resolve)) as http, pytest.raises(PolicyRefused):
            http.get(f"http://llm.test:{server.port}/v1/models")
    assert resolve.calls == 0 and server.seen == []


def test_an_unresolvable_name_is_a_connect_error():
    def fail(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror(-2, "Name or service not known")

    with client(egress_transport(Policy(), resolver=fail)) as http, pytest.raises(httpx.ConnectError, match="llm.test"):
        http.get("http://llm.test:9/v1/models")


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
def test_a_name_pinned_to_an_ipv6_address():
    with Recorder("::1") as server:
        resolve = counting_resolver(["::1"])
        with client(egress_transport(Policy(), resolver=resolve)) as http:
            assert http.get(f"http://llm6.test:{server.port}/x").status_code == 200
            assert http.get(f"http://llm6.test:{server.port}/y").status_code == 200
    assert resolve.calls == 1
    assert [path for _, path, _ in server.seen] == ["/x", "/y"]
    assert {host for _, _, host in server.seen} == {f"llm6.test:{server.port}"}


# -- TLS: SNI and the certificate check use the name, the connection the pinned address --------


@pytest.fixture
def tls_server(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=llm.test",
                    "-addext", "subjectAltName=DNS:llm.test", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    server = Recorder()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: server.sni.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    with server:
        yield server, ssl.create_default_context(cafile=str(cert))


def test_https_checks_the_certificate_against_the_name(tls_server):
    server, trust = tls_server
    resolve = counting_resolver(["127.0.0.1"])
    with client(egress_transport(Policy(), verify=trust, resolver=resolve)) as http:
        assert http.get(f"https://llm.test:{server.port}/v1/models").status_code == 200
    assert server.sni == ["llm.test"]
    assert server.seen == [("GET", "/v1/models", f"llm.test:{server.port}")]


def test_https_refuses_a_certificate_for_another_name(tls_server):
    server, trust = tls_server
    resolve = counting_resolver(["127.0.0.1"])
    with client(egress_transport(Policy(), verify=trust, resolver=resolve)) as http:
        with pytest.raises(httpx.ConnectError, match="certificate verify failed"):
            http.get(f"https://other.test:{server.port}/v1/models")
    assert server.sni == ["other.test"] and server.seen == []


# -- redirects -----------------------------------------------------------------------------------


def test_a_redirect_to_another_origin_is_not_followed(tmp_path):
    with raw_listener() as elsewhere:
        target = f"http://127.0.0.1:{elsewhere.getsockname()[1]}/steal"
        with Recorder(redirect_to=target) as server:
            url = f"http://127.0.0.1:{server.port}/v1/models"
            # As the model client is configured: the 302 comes back as the answer.
            with client(egress_transport(Policy()), follow_redirects=False) as http:
                assert http.get(url).status_code == 302
            # Even a client that follows redirects cannot take the transport to a second origin,
            # with no policy at all ...
            with client(egress_transport(Policy()), follow_redirects=True) as http, \
                    pytest.raises(PolicyRefused, match="bound to"):
                http.get(url)
            # ... and with one, the allow-list refuses it first.
            policy = policy_file(tmp_path, f"http://127.0.0.1:{server.port}")
            with client(egress_transport(policy), follow_redirects=True) as http, \
                    pytest.raises(PolicyRefused, match="allow does not include"):
                http.get(url)
        assert connections_made(elsewhere) == 0


# -- proxies ---------------------------------------------------------------------------------------

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def test_proxy_variables_are_ignored(monkeypatch):
    with raw_listener() as dead_proxy, Recorder() as server:
        for name in PROXY_VARIABLES:
            monkeypatch.setenv(name, f"http://127.0.0.1:{dead_proxy.getsockname()[1]}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        # trust_env=True (httpx's default) on purpose: the transport still goes direct.
        with client(egress_transport(Policy()), trust_env=True) as http:
            assert http.get(f"http://127.0.0.1:{server.port}/v1/models").status_code == 200
        assert connections_made(dead_proxy) == 0
    assert len(server.seen) == 1


def test_the_policy_proxy_carries_every_request(tmp_path):
    with Recorder() as server, ForwardProxy({"llm.test": "127.0.0.1"}) as proxy:
        origin = f"http://llm.test:{server.port}"
        policy = policy_file(tmp_path, origin, proxy=proxy.url)
        with client(egress_transport(policy, resolver=refusing_resolver)) as http:
            assert http.get(origin + "/v1/models").json()["data"][0]["id"] == "m"
            assert http.get(origin + "/v1/models").status_code == 200
    assert proxy.carried == [f"GET {origin}/v1/models"] * 2
    assert server.seen == [("GET", "/v1/models", f"llm.test:{server.port}")] * 2


def test_the_model_client_posts_through_the_policy_proxy(tmp_path):
    with ScriptedServer([Turn("via proxy")], dialect="vllm") as server, ForwardProxy({}) as proxy:
        policy = policy_file(tmp_path, server.url.removesuffix("/v1"), proxy=proxy.url)
        model = OpenAICompatModel(Endpoint(server.url, "m", stream=False), transport=egress_transport(policy))
        assert model.complete([Message("user", "hi")], []).text == "via proxy"
        model.close()
    assert proxy.carried == [f"POST {server.url}/chat/completions"]


def test_importing_egress_loads_no_httpx():
    code = "import sys, freehold.policy.egress; print('httpx' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
