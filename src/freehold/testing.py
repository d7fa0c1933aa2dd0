"""A scripted OpenAI-compatible model server: real HTTP on 127.0.0.1, for tests and benchmarks.

It plays a model through a scenario. Each request to `/v1/chat/completions` takes the next
`Turn` and answers it, streamed or not, the way a given real server would (`dialect`):

    vllm        id+name once, arguments in many pieces by index, usage in a last chunk
    ollama      each call whole in one chunk with no index, finish_reason "stop", usage last
    llamacpp    llama-cpp-python: every chunk repeats id and name beside an argument piece
    hermes      no tool parser: calls as `<tool_call>{json}</tool_call>` text (Qwen2.5)
    qwen3coder  no tool parser: calls as `<function=NAME><parameter=K>` text (Qwen3-Coder)

Reasoning goes out as a `reasoning_content` or `reasoning` field, or inline as `<think>` tags
(`think`), or after a template-opened tag with only the close in the output (`think_close`).
A turn can instead be a fault a real server produces: HTTP 500, HTTP 429, a connection
dropped mid-stream (`drop`), or a stream that ends without finishing (`cut`).
Every request body is kept byte for byte, so tests can check what Freehold sent.

Run one by hand: `python -m freehold.testing SCENARIO.json [--port N]`.
"""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DIALECTS = ("vllm", "ollama", "llamacpp", "hermes", "qwen3coder")
FAULTS = ("http_500", "http_429", "drop", "cut")
DEFAULT_REASONING = {
    "vllm": "reasoning_content",
    "ollama": "reasoning",
    "llamacpp": "reasoning_content",
    "hermes": "think",
    "qwen3coder": "think_close",
}


@dataclass(frozen=True)
class Call:
    name: str
    # A dict is sent as JSON; a str is sent verbatim, to play malformed arguments.
    arguments: dict[str, Any] | str = field(default_factory=dict)

    def arguments_text(self) -> str:
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(self.arguments, ensure_ascii=False)


@dataclass(frozen=True)
class Turn:
    text: str = ""
    calls: tuple[Call, ...] = ()
    reasoning: str = ""
    fault: str | None = None
    # A string the request body must contain (e.g. a tool result the model should have been
    # shown); if it is missing the server answers HTTP 400, which fails the run visibly.
    expect: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        calls = tuple(Call(c["name"], c.get("arguments", {})) for c in data.get("calls", ()))
        return cls(data.get("text", ""), calls, data.get("reasoning", ""), data.get("fault"), data.get("expect"))


@dataclass(frozen=True)
class Recorded:
    path: str
    body: bytes
    received_at: float  # time.time() when the request's headers had arrived

    def json(self) -> dict[str, Any]:
        return json.loads(self.body)


class ScriptedServer:
    def __init__(
        self,
        turns: list[Turn],
        dialect: str = "vllm",
        reasoning_style: str | None = None,
        model: str = "scripted-model",
        chunk_size: int = 7,
        port: int = 0,
    ) -> None:
        if dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {dialect!r}; one of {', '.join(DIALECTS)}")
        self.turns = list(turns)
        self.dialect = dialect
        self.reasoning_style = reasoning_style or DEFAULT_REASONING[dialect]
        self.model = model
        self.chunk_size = chunk_size
        self.requests: list[Recorded] = []
        # More models to list at /v1/models beside `model`, as a server hosting several would.
        self.extra_models: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", port), _handler_for(self))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    @property
    def chat_requests(self) -> list[Recorded]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    def start(self) -> ScriptedServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-model", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_turn(self, body: bytes, path: str) -> Turn | str:
        """The turn this request plays, or the reason the request fails the scenario."""
        with self._lock:
            self.requests.append(Recorded(path, body, time.time()))
            if not self.turns:
                return "scripted server: the scenario has no more turns"
            turn = self.turns.pop(0)
        if turn.expect is not None and turn.expect.encode() not in body:
            return f"scripted server: the request does not contain {turn.expect!r}"
        return turn


# -- encoding a turn as a given server would ------------------------------------------------


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


def _qwen3coder_call(call: Call) -> str:
    if isinstance(call.arguments, str):
        params = call.arguments
    else:
        params = "".join(
            f"<parameter={k}>\n{v if isinstance(v, str) else json.dumps(v)}\n</parameter>\n"
            for k, v in call.arguments.items()
        )
    return f"<tool_call>\n<function={call.name}>\n{params}</function>\n</tool_call>"


def _hermes_call(call: Call) -> str:
    return f'<tool_call>\n{{"name": "{call.name}", "arguments": {call.arguments_text()}}}\n</tool_call>'


def _content(turn: Turn, dialect: str, reasoning_style: str) -> str:
    parts = []
    if turn.reasoning and reasoning_style == "think":
        parts.append(f"<think>\n{turn.reasoning}\n</think>\n\n")
    elif turn.reasoning and reasoning_style == "think_close":
        parts.append(f"{turn.reasoning}\n</think>\n\n")
    parts.append(turn.text)
    if dialect == "hermes":
        parts += ["\n" + _hermes_call(c) for c in turn.calls]
    elif dialect == "qwen3coder":
        parts += ["\n" + _qwen3coder_call(c) for c in turn.calls]
    return "".join(parts)


def _native_calls(turn: Turn, dialect: str, size: int) -> list[list[dict[str, Any]]]:
    """The tool-call deltas, one list per chunk."""
    if dialect == "ollama":
        whole = [
            {"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": c.arguments_text()}}
            for i, c in enumerate(turn.calls)
        ]
        return [whole] if whole else []
    chunks: list[list[dict[str, Any]]] = []
    for i, call in enumerate(turn.calls):
        call_id = f"chatcmpl-tool-{i}" if dialect == "vllm" else f"call__{i}"
        head = {"index": i, "id": call_id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        if dialect == "vllm":
            chunks.append([head])
        for piece in _pieces(call.arguments_text(), size):
            if dialect == "vllm":
                chunks.append([{"index": i, "function": {"arguments": piece}}])
            else:  # llamacpp repeats the id and name every time
                chunks.append([{**head, "function": {"name": call.name, "arguments": piece}}])
    return chunks


def _finish_reason(turn: Turn, dialect: str) -> str:
    return "tool_calls" if turn.calls and dialect in ("vllm", "llamacpp") else "stop"


def _usage(request_body: bytes, content: str) -> dict[str, int]:
    prompt, completion = len(request_body) // 4, max(1, len(content) // 4)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def stream_chunks(server: ScriptedServer, turn: Turn, request_body: bytes) -> list[dict[str, Any]]:
    dialect, style = server.dialect, server.reasoning_style

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return {"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "model": server.model, "choices": [choice]}

    content = _content(turn, dialect, style)
    out = [chunk({"role": "assistant", "content": ""})]
    if turn.reasoning and style in ("reasoning_content", "reasoning"):
        out += [chunk({style: p}) for p in _pieces(turn.reasoning, server.chunk_size)]
    out += [chunk({"content": p}) for p in _pieces(content, server.chunk_size)]
    if dialect not in ("hermes", "qwen3coder"):
        out += [chunk({"tool_calls": calls}) for calls in _native_calls(turn, dialect, server.chunk_size)]
    out.append(chunk({}, _finish_reason(turn, dialect)))
    if dialect in ("vllm", "ollama"):
        usage = _usage(request_body, content)
        out.append({"id": "chatcmpl-scripted", "object": "chat.completion.chunk", "choices": [], "usage": usage})
    return out


def whole_response(server: ScriptedServer, turn: Turn, request_body: bytes) -> dict[str, Any]:
    dialect, style = server.dialect, server.reasoning_style
    content = _content(turn, dialect, style)
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if turn.reasoning and style in ("reasoning_content", "reasoning"):
        message[style] = turn.reasoning
    if turn.calls and dialect not in ("hermes", "qwen3coder"):
        message["tool_calls"] = [
            {"id": f"call_{i}", "type": "function", "function": {"name": c.name, "arguments": c.arguments_text()}}
            for i, c in enumerate(turn.calls)
        ]
    choice = {"index": 0, "message": message, "finish_reason": _finish_reason(turn, dialect)}
    return {"id": "chatcmpl-scripted", "object": "chat.completion", "model": server.model,
            "choices": [choice], "usage": _usage(request_body, content)}


# -- HTTP ---------------------------------------------------------------------------------


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that exits with a kept-alive connection open resets it: that is normal.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read requests, not logs
            pass

        def do_GET(self) -> None:
            server.requests.append(Recorded(self.path, b"", time.time()))
            if self.path.rstrip("/").endswith("/models"):
                names = (server.model, *server.extra_models)
                self._send_json(200, {"object": "list", "data": [{"id": n, "object": "model"} for n in names]})
            else:
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                return
            turn = server.next_turn(body, self.path)
            if isinstance(turn, str):
                self._send_json(400, {"error": {"message": turn}})
            elif turn.fault:
                self._fault(turn.fault)
            elif json.loads(body).get("stream"):
                self._stream(stream_chunks(server, turn, body))
            else:
                self._send_json(200, whole_response(server, turn, body))

        def _fault(self, fault: str) -> None:
            if fault == "http_500":
                self._send_json(500, {"error": {"message": "scripted internal error"}})
            elif fault == "http_429":
                self._send_json(429, {"error": {"message": "scripted overload"}}, {"Retry-After": "0"})
            elif fault in ("drop", "cut"):
                partial = stream_chunks(server, Turn(text="I will start by reading the file and then"), b"")[:4]
                self._stream(partial, drop=fault == "drop", done=False)
            else:
                raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")

        def _send_json(self, status: int, data: dict[str, Any], headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(raw)

        def _stream(self, chunks: list[dict[str, Any]], drop: bool = False, done: bool = True) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            events = [f"data: {json.dumps(c)}\n\n" for c in chunks] + (["data: [DONE]\n\n"] if done else [])
            for event in events:
                raw = event.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
                self.wfile.flush()
            if drop:  # the connection dies mid-body: no terminating chunk
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            self.wfile.write(b"0\r\n\r\n")

    return Handler


def load_scenario(path: str) -> ScriptedServer:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    turns = [Turn.from_dict(t) for t in data["turns"]]
    return ScriptedServer(turns, data.get("dialect", "vllm"), data.get("reasoning_style"), data.get("model", "scripted-model"))


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m freehold.testing", description="Serve a scripted model.")
    parser.add_argument("scenario")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = load_scenario(args.scenario)
    if args.port:
        server = ScriptedServer(server.turns, server.dialect, server.reasoning_style, server.model, port=args.port)
    print(server.url, flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
