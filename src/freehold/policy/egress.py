"""The one way out: every connection Freehold itself makes goes through `egress_transport`.

For each request, before any socket is opened, the transport

- checks the request's origin against the org policy and raises `PolicyRefused` naming the
  rule when it is not allowed: `[models] allow` for prompts (purpose "model"), `[models]
  pull_from` for weights `freehold models pull` downloads (purpose "download");
- refuses a second origin: the first request binds the transport to its origin, so even a
  client that followed redirects (ours does not) could not be sent elsewhere, with or
  without a policy. Use one transport per endpoint;
- resolves the host name once, on first use, and connects to that address ever after (no
  DNS rebinding between the check and later connections). The URL keeps its name for the
  Host header, and for https the TLS SNI and the certificate check use the name too
  (httpcore's `sni_hostname` extension). Literal IPs are not resolved.

Proxy variables (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY) are never read: httpx reads
them only in a Client built without a transport. A proxy is used only when the policy names
one (`[network] proxy`); then every connection goes to the proxy, which resolves the
endpoint's name itself, and Freehold resolves nothing but the proxy's own name (per new
connection, by the system resolver: the org named that host). Certificate locations
(SSL_CERT_FILE, SSL_CERT_DIR) are honoured, so an internal CA works.

httpx is imported inside functions: importing this module costs only the standard library.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from freehold.errors import PolicyRefused
from freehold.policy.org import Policy, origin_of

if TYPE_CHECKING:
    import ssl

    import httpx

# socket.getaddrinfo's shape: (host, port, family, type, proto, flags) -> [(family, type, proto, name, sockaddr)]
Resolver = Callable[..., list[tuple[Any, ...]]]

__all__ = ["Purpose", "Resolver", "admit", "egress_transport"]


Purpose = Literal["model", "download"]


def egress_transport(policy: Policy, *, verify: bool | ssl.SSLContext = True,
                     resolver: Resolver = socket.getaddrinfo, purpose: Purpose = "model") -> httpx.BaseTransport:
    """A transport for one endpoint that enforces `policy` on every request (see the module doc).

    `verify` applies to https origins; http origins never load the CA bundle (no TLS happens).
    """
    return _transport_class()(_Gate(policy, resolver, purpose), verify)


def admit(policy: Policy, url: str, purpose: Purpose = "model") -> str:
    """The origin of `url` if the policy lets Freehold send to it; else PolicyRefused, one line."""
    allowed, rule = policy.endpoint_rule(url) if purpose == "model" else policy.pull_rule(url)
    if not allowed:
        raise PolicyRefused(f"refused by policy: {rule}")
    return origin_of(url)


class _Gate:
    """The decisions, free of httpx: which origin is allowed, and which address it is pinned to."""

    def __init__(self, policy: Policy, resolver: Resolver, purpose: Purpose = "model") -> None:
        self.policy = policy
        self._resolver = resolver
        self._purpose = purpose
        self._origin: str | None = None
        self._address: str | None = None
        self._lock = threading.Lock()

    def admit(self, url: str) -> str:
        origin = admit(self.policy, url, self._purpose)
        with self._lock:
            self._origin = self._origin or origin
        if origin != self._origin:
            raise PolicyRefused(f"refused: this connection is bound to {self._origin}; "
                                f"Freehold sends nothing to a second origin ({origin})")
        return origin

    def address(self, host: str, port: int) -> str:
        """The address to connect to for `host`: resolved on first use, the same ever after."""
        with self._lock:
            if self._address is None:
                self._address = host if _is_ip(host) else _first_address(self._resolver, host, port)
            return self._address


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _first_address(resolver: Resolver, host: str, port: int) -> str:
    infos = resolver(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise socket.gaierror(f"no address for {host}")
    return str(infos[0][4][0])


@functools.cache
def _transport_class() -> type[httpx.BaseTransport]:
    import httpx  # here, not at module level: start-up time is a feature

    class EgressTransport(httpx.BaseTransport):
        def __init__(self, gate: _Gate, verify: bool | ssl.SSLContext) -> None:
            self._gate = gate
            self._verify = verify
            self._inner: httpx.HTTPTransport | None = None
            self._proxy = gate.policy.network_proxy

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            self._gate.admit(str(request.url))  # before anything that could open a socket
            inner = self._inner_for(request.url.scheme)
            if self._proxy is None:
                request = self._pinned(request)
            return inner.handle_request(request)

        def close(self) -> None:
            if self._inner is not None:
                self._inner.close()

        def _inner_for(self, scheme: str) -> httpx.HTTPTransport:
            if self._inner is None:
                # The transport is bound to one origin, so an http one never meets TLS to a target:
                # skip loading the CA bundle (15 ms of start-up).
                verify = self._verify if scheme == "https" else False
                self._inner = httpx.HTTPTransport(verify=verify, proxy=self._proxy)
            return self._inner

        def _pinned(self, request: httpx.Request) -> httpx.Request:
            url = request.url
            try:
                address = self._gate.address(url.host, url.port or (443 if url.scheme == "https" else 80))
            except OSError as exc:
                raise httpx.ConnectError(f"cannot resolve {url.host}: {exc}", request=request) from None
            if address == url.host:
                return request
            # The headers (Host included) are the original request's; TLS names the original host.
            extensions = {**request.extensions, "sni_hostname": url.host}
            return httpx.Request(request.method, url.copy_with(host=address), headers=request.headers,
                                 stream=request.stream, extensions=extensions)

    return EgressTransport
