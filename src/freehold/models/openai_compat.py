"""The client for OpenAI-compatible chat completions servers (vLLM, SGLang, Ollama, llama.cpp, LM Studio).

It builds a request body that is byte-for-byte reproducible and append-only across turns (so
the server's prefix cache is reused), streams the answer over httpx, and retries what a
self-hosted server does under load: 429, 5xx, refused connections, streams cut short.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from freehold import __version__
from freehold.cancel import Cancel
from freehold.errors import Interrupted, ModelError, ModelUnreachable, UsageError
from freehold.messages import Message, Reply, Usage
from freehold.models.stream import ReplyBuilder
from freehold.tools.base import Tool

if TYPE_CHECKING:
    import httpx

RETRY_STATUS = {408, 429, 500, 502, 503, 504}
MAX_RETRY_AFTER = 60.0


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    model: str | None
    api_key: str | None = None
    timeout: float = 600.0
    max_retries: int = 4
    retry_backoff: float = 1.0
    stream: bool = True
    temperature: float | None = None
    max_tokens: int | None = None
    # The model profile's sampling defaults, as this server names them (see app.sampling_for).
    sampling: tuple[tuple[str, float | int], ...] = ()


class _Retryable(Exception):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


def request_body(endpoint: Endpoint, messages: Sequence[Message], tools: Sequence[Tool]) -> bytes:
    """The exact bytes sent. Fixed parts first and messages last, so each request's body
    is the previous one's with the new turns appended (after its closing brackets)."""
    body: dict[str, Any] = {"model": endpoint.model, "stream": endpoint.stream}
    if endpoint.stream:
        body["stream_options"] = {"include_usage": True}
    if endpoint.temperature is not None:
        body["temperature"] = endpoint.temperature
    if endpoint.max_tokens is not None:
        body["max_tokens"] = endpoint.max_tokens
    body.update((k, v) for k, v in endpoint.sampling if k not in body)
    if tools:
        body["tools"] = [tool.schema() for tool in tools]
    body["messages"] = [m.to_openai() for m in messages]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


class OpenAICompatModel:
    def __init__(
        self,
        endpoint: Endpoint,
        transport: httpx.BaseTransport | None = None,
        on_request: Callable[[bytes], None] | None = None,
        on_delta: Callable[[str, bool], None] | None = None,
        cancel: Cancel | None = None,
        on_retry: Callable[[str], None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self._transport = transport
        # Sees every request body, byte for byte, just before it is sent (--dump-requests).
        self._on_request = on_request
        # Sees each piece of text (reasoning: True for the model's thinking) as it streams in.
        self.on_delta = on_delta
        # Raised by the person: the stream's socket is shut at once and no retry follows.
        self.cancel = cancel
        # Told why, before each retry: what streamed of the failed attempt is void.
        self.on_retry = on_retry
        self._client: httpx.Client | None = None
        self.requests_sent = 0

    @property
    def name(self) -> str:
        return self.endpoint.model or "?"

    @property
    def where(self) -> str:
        """Where the model runs, for the session and the audit log."""
        return self.endpoint.base_url

    @property
    def http(self) -> httpx.Client:
        """The client every request to this endpoint goes through (the egress transport's)."""
        return self._http()

    def complete(self, messages: Sequence[Message], tools: Sequence[Tool]) -> Reply:
        self.ensure_model()
        body = request_body(self.endpoint, messages, tools)
        names = [tool.name for tool in tools]
        return self._with_retries(lambda: self._attempt(body, names))

    def ensure_model(self) -> str:
        """The model's name, asking the server for the one it serves when none was configured."""
        if self.endpoint.model is None:
            self.endpoint = replace(self.endpoint, model=self.served_model())
        return self.endpoint.model or ""

    def served_models(self) -> list[str]:
        """Every model the server lists (GET {endpoint}/models), with the usual retries."""
        return self._with_retries(self._list_models)  # type: ignore[no-any-return]

    def served_model(self) -> str:
        """The one model the server serves, for when none was configured."""
        listing = self.served_models()
        if len(listing) == 1:
            return listing[0]
        found = ", ".join(listing) or "none"
        raise UsageError(f"no model named: pass --model or set FREEHOLD_MODEL (the server at {self.endpoint.base_url} serves: {found})")

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    # -- transport ---------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        if self._client is None:
            import httpx  # imported here: start-up time is a feature

            headers = {"User-Agent": f"freehold/{__version__}"}
            if self.endpoint.api_key:
                headers["Authorization"] = f"Bearer {self.endpoint.api_key}"
            timeout = httpx.Timeout(self.endpoint.timeout, connect=min(10.0, self.endpoint.timeout))
            # Every connection goes through the one egress point (policy check, pinned DNS, no
            # proxy unless the policy names one); trust_env=False and no redirects back it up.
            transport = self._transport
            if transport is None:
                from freehold.policy.egress import egress_transport
                from freehold.policy.org import Policy

                transport = egress_transport(Policy())
            self._client = httpx.Client(
                headers=headers, timeout=timeout, transport=transport, trust_env=False, follow_redirects=False
            )
        return self._client

    def _url(self, path: str) -> str:
        return self.endpoint.base_url.rstrip("/") + path

    def _with_retries(self, attempt: Any) -> Any:
        import httpx

        last, last_retry_after = "no attempt made", None
        for n in range(self.endpoint.max_retries + 1):
            if n and self.on_retry is not None:
                self.on_retry(last)
            if n and self._sleep(self._delay(n, last_retry_after)):
                break
            last_retry_after = None
            try:
                return attempt()
            except _Retryable as exc:
                last, last_retry_after = str(exc), exc.retry_after
            except (httpx.TransportError, OSError) as exc:
                last = _describe(exc)
            if self.cancel is not None and self.cancel.is_set:
                break
        if self.cancel is not None:
            self.cancel.check()
        tries = self.endpoint.max_retries + 1
        raise ModelUnreachable(f"model endpoint {self.endpoint.base_url} failed after {tries} attempts: {last}")

    def _sleep(self, seconds: float) -> bool:
        """Wait before a retry; True if the person interrupted meanwhile."""
        if self.cancel is None:
            time.sleep(seconds)
            return False
        return self.cancel.wait(seconds)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER)
        return self.endpoint.retry_backoff * 2 ** (attempt - 1)

    def _list_models(self) -> list[str]:
        response = self._http().get(self._url("/models"))
        self._check_status(response)
        data = _json(response.content, self.endpoint.base_url).get("data") or []
        return [m["id"] for m in data if isinstance(m, dict) and isinstance(m.get("id"), str)]

    def _attempt(self, body: bytes, tool_names: list[str]) -> Reply:
        headers = {"Content-Type": "application/json"}
        if self.endpoint.stream:
            headers["Accept"] = "text/event-stream"
        self.requests_sent += 1
        if self._on_request is not None:
            self._on_request(body)
        with self._http().stream("POST", self._url("/chat/completions"), content=body, headers=headers) as response, \
                _shut_on(self.cancel, response):
            self._check_status(response)
            builder = ReplyBuilder(on_delta=self.on_delta)
            if "text/event-stream" in response.headers.get("content-type", ""):
                _read_events(response, builder, self.endpoint.base_url, self.cancel)
            else:
                builder.feed(_json(response.read(), self.endpoint.base_url))
        reply = builder.build(tool_names)
        if builder.usage is None:  # llama-cpp-python and others report none when streaming
            reply.usage = estimate_usage(body, reply)
        return reply

    def _check_status(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        detail = _error_detail(response)
        if response.status_code in RETRY_STATUS:
            raise _Retryable(f"HTTP {response.status_code} {detail}".strip(), _retry_after(response))
        raise ModelError(f"model endpoint {self.endpoint.base_url} answered HTTP {response.status_code}: {detail}")


def estimate_usage(body: bytes, reply: Reply) -> Usage:
    """About four bytes a token: a stand-in, marked as such, for servers that count nothing."""
    produced = len(reply.text) + len(reply.reasoning) + sum(len(c.name) + len(c.arguments) for c in reply.tool_calls)
    return Usage(len(body) // 4, max(1, produced // 4), estimated=True)


def _shut_on(cancel: Cancel | None, response: httpx.Response) -> Any:
    """While the block runs, a raised `cancel` shuts the response's socket: a read blocked on a
    server that is still thinking ends at once, not at the next token."""
    import contextlib
    import socket

    def shut() -> None:
        stream = response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    return cancel.hook(shut) if cancel is not None else contextlib.nullcontext()


def _read_events(response: httpx.Response, builder: ReplyBuilder, where: str, cancel: Cancel | None = None) -> None:
    done = False
    for line in response.iter_lines():
        if cancel is not None and cancel.is_set:
            raise Interrupted("interrupted by the user")
        if not line.startswith("data:"):
            continue  # comments, event names, keep-alives
        data = line[5:].strip()
        if data == "[DONE]":
            done = True  # read on to the end, so the connection can be kept for the next turn
            continue
        chunk = _json(data.encode(), where)
        if isinstance(chunk.get("error"), (dict, str)):
            raise _Retryable(f"the server reported an error mid-stream: {_message_of(chunk['error'])}")
        builder.feed(chunk)
    if not done and builder.finish_reason is None:
        raise _Retryable("the stream ended before the answer was complete")


def _json(raw: bytes, where: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise ModelError(f"model endpoint {where} sent something that is not JSON: {raw[:120]!r}") from None
    if not isinstance(data, dict):
        raise ModelError(f"model endpoint {where} sent JSON that is not an object: {raw[:120]!r}")
    return data


def _error_detail(response: httpx.Response) -> str:
    try:
        raw = response.read()
        return _message_of(json.loads(raw).get("error") or json.loads(raw))
    except Exception:  # any shape at all: fall back to the first bytes of the body
        return response.content[:200].decode("utf-8", "replace").strip()


def _message_of(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or error.get("detail") or error)[:300]
    return str(error)[:300]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return max(0.0, float(response.headers.get("retry-after", "")))
    except ValueError:
        return None


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text
