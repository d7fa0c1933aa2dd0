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
A turn can stream slowly (`delay` seconds between events), so a test can interrupt it; a
stream the client closes before its end is counted in `disconnects`.
Every request body is kept byte for byte, so tests can check what Freehold sent.

With a `context_window` the server has a real window, as the servers it plays do:

- it says so where each does: vllm in GET /v1/models (`max_model_len`), llamacpp at GET /props
  (`default_generation_settings.n_ctx`, as llama-server does), ollama at POST /api/show
  (`parameters` "num_ctx N", `model_info` "llama.context_length") and, once a chat request
  has loaded the model, GET /api/ps (`context_length`). hermes and qwen3coder say nothing.
- vllm and llamacpp serve POST /tokenize in their servers' shapes ({"model", "prompt"} ->
  {"count", "max_model_len", "tokens"}; {"content"} -> {"tokens"}).
- it counts with a deterministic tokenizer of its own, one token per 3 bytes of UTF-8 rounded
  up (`count_tokens`), applied to the whole request body: for /tokenize, for the window check
  and for the usage it reports.
- a chat request whose prompt plus `max_tokens` (or, without it, plus one token) exceeds the
  window is refused with HTTP 400 and vLLM's words ("This model's maximum context length is
  ..."), consumes no turn, and is kept in `over_window`, so a test can assert none was sent.
  (llama-server refuses in other words; Ollama cuts the prompt silently instead. An `options`
  {"num_ctx"} in the body is ignored, as Ollama's /v1/chat/completions ignores it.)

Run one by hand: `python -m freehold.testing SCENARIO.json [--port N]`.
"""

from __future__ import annotations

import json
import math
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# What Freehold's compaction asks the model (agent/compact.py's instruction).
SUMMARY_REQUEST = b"summarize this conversation for yourself"
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
    # Seconds between streamed events: a slow model, for tests that interrupt mid-stream.
    delay: float = 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Turn:
        calls = tuple(Call(c["name"], c.get("arguments", {})) for c in data.get("calls", ()))
        return cls(data.get("text", ""), calls, data.get("reasoning", ""), data.get("fault"), data.get("expect"),
                   float(data.get("delay", 0.0)))


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
        context_window: int | None = None,
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
        self.context_window = context_window
        # ollama: the model's training length in /api/show (Ollama's model_info), and whether its
        # Modelfile sets num_ctx; without it the window is said only at /api/ps once loaded.
        self.trained_context = context_window
        self.ollama_num_ctx_set = True
        self.over_window: list[Recorded] = []
        # When set, a request asking for a compaction summary gets this turn, whenever it comes,
        # and the scenario's own turns are left for the rest (where compactions fall is hard to
        # script for a long session).
        self.summary: Turn | None = None
        # Streams the client closed before their end (an interrupted reply).
        self.disconnects = 0
        self._loaded = False
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

    def over_window_error(self, body: bytes, path: str) -> str | None:
        """vLLM's refusal when the request does not fit the window (then it is kept in
        `over_window` as well as in `requests`); None when it fits or there is no window."""
        if self.context_window is None:
            return None
        prompt, asked = count_tokens(body), _max_tokens(body)
        if prompt + (asked if asked is not None else 1) <= self.context_window:
            return None
        with self._lock:
            self.requests.append(Recorded(path, body, time.time()))
            self.over_window.append(Recorded(path, body, time.time()))
        if asked is None:
            return (f"This model's maximum context length is {self.context_window} tokens. However, your request "
                    f"has {prompt} input tokens. Please reduce the length of the input messages.")
        return (f"This model's maximum context length is {self.context_window} tokens. However, you requested "
                f"{prompt + asked} tokens ({prompt} in the messages, {asked} in the completion). Please reduce "
                "the length of the messages or completion.")

    def next_turn(self, body: bytes, path: str) -> Turn | str:
        """The turn this request plays, or the reason the request fails the scenario."""
        with self._lock:
            self._loaded = True
            self.requests.append(Recorded(path, body, time.time()))
            if self.summary is not None and SUMMARY_REQUEST in body:
                return self.summary
            if not self.turns:
                return "scripted server: the scenario has no more turns"
            turn = self.turns.pop(0)
        if turn.expect is not None and turn.expect.encode() not in body:
            return f"scripted server: the request does not contain {turn.expect!r}"
        return turn


# -- the window: a tokenizer, and what each server says about it -----------------------------


def count_tokens(text: str | bytes) -> int:
    """The scripted server's tokenizer: one token per 3 bytes of UTF-8, rounded up."""
    raw = text.encode("utf-8") if isinstance(text, str) else text
    return math.ceil(len(raw) / 3)


def _max_tokens(body: bytes) -> int | None:
    try:
        value = json.loads(body).get("max_tokens")
    except (ValueError, AttributeError):
        return None
    return value if type(value) is int else None


def _model_card(server: ScriptedServer, name: str) -> dict[str, Any]:
    card: dict[str, Any] = {"id": name, "object": "model"}
    if server.dialect == "vllm" and server.context_window is not None:
        card["max_model_len"] = server.context_window
    return card


def _props(server: ScriptedServer) -> dict[str, Any]:
    settings = {"id": 0, "n_ctx": server.context_window, "params": {"temperature": 0.8}}
    return {"default_generation_settings": settings, "total_slots": 1, "model_path": f"/models/{server.model}.gguf"}


def _ollama_show(server: ScriptedServer) -> dict[str, Any]:
    parameters = 'stop                           "<|im_end|>"'
    if server.ollama_num_ctx_set:
        parameters = f"num_ctx                        {server.context_window}\n{parameters}"
    info = {"general.architecture": "llama", "llama.context_length": server.trained_context}
    return {"parameters": parameters, "details": {"format": "gguf", "family": "llama"}, "model_info": info,
            "capabilities": ["completion", "tools"]}


def _tokenized(server: ScriptedServer, request: dict[str, Any]) -> dict[str, Any] | None:
    """A /tokenize answer in the dialect's server's shape; None for a request of the wrong shape."""
    key = "prompt" if server.dialect == "vllm" else "content"
    text = request.get(key)
    if not isinstance(text, str):
        return None
    raw = text.encode("utf-8")
    tokens = [sum(raw[i : i + 3]) for i in range(0, len(raw), 3)]  # an id per 3-byte piece
    if server.dialect == "vllm":
        return {"count": len(tokens), "max_model_len": server.context_window, "tokens": tokens}
    return {"tokens": tokens}


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


def _usage(server: ScriptedServer, request_body: bytes, content: str) -> dict[str, int]:
    # Without a window, the byte count Freehold's own estimate also uses; with one, the tokenizer.
    prompt = count_tokens(request_body) if server.context_window is not None else len(request_body) // 4
    completion = max(1, len(content) // 4)
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
        usage = _usage(server, request_body, content)
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
            "choices": [choice], "usage": _usage(server, request_body, content)}


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
        # Headers and body go out in separate writes; with Nagle on, a kept-alive connection
        # waits out the client's delayed ACK (40 ms) on every answer. Real servers set
        # TCP_NODELAY too (uvicorn, llama-server).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read requests, not logs
            pass

        def do_GET(self) -> None:
            server.requests.append(Recorded(self.path, b"", time.time()))
            windowed, path = server.context_window is not None, self.path.split("?")[0].rstrip("/")
            if path.endswith("/models"):
                names = (server.model, *server.extra_models)
                self._send_json(200, {"object": "list", "data": [_model_card(server, n) for n in names]})
            elif path == "/props" and windowed and server.dialect == "llamacpp":
                self._send_json(200, _props(server))
            elif path == "/api/ps" and windowed and server.dialect == "ollama":
                running = [{"name": server.model, "model": server.model, "context_length": server.context_window}]
                self._send_json(200, {"models": running if server._loaded else []})
            else:
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path = self.path.split("?")[0].rstrip("/")
            if not path.endswith("/chat/completions"):
                self._serve_probe(path, body)
                return
            refused = server.over_window_error(body, self.path)
            if refused is not None:
                self._send_json(400, {"error": {"message": refused, "type": "BadRequestError", "code": 400}})
                return
            turn = server.next_turn(body, self.path)
            if isinstance(turn, str):
                self._send_json(400, {"error": {"message": turn}})
            elif turn.fault:
                self._fault(turn.fault)
            elif json.loads(body).get("stream"):
                self._stream(stream_chunks(server, turn, body), delay=turn.delay)
            else:
                self._send_json(200, whole_response(server, turn, body))

        def _serve_probe(self, path: str, body: bytes) -> None:
            """POST /tokenize (vllm, llamacpp) and /api/show (ollama), with a window; else 404."""
            server.requests.append(Recorded(self.path, body, time.time()))
            try:
                request = json.loads(body or b"{}")
            except ValueError:
                request = None
            windowed = server.context_window is not None and isinstance(request, dict)
            if windowed and path == "/tokenize" and server.dialect in ("vllm", "llamacpp"):
                answer = _tokenized(server, request)
                if answer is None:
                    self._send_json(400, {"error": {"message": "this server tokenizes another request shape"}})
                else:
                    self._send_json(200, answer)
            elif windowed and path == "/api/show" and server.dialect == "ollama":
                if request.get("model") in (server.model, f"{server.model}:latest"):
                    self._send_json(200, _ollama_show(server))
                else:
                    self._send_json(404, {"error": f"model '{request.get('model')}' not found"})
            else:
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})

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

        def _stream(self, chunks: list[dict[str, Any]], drop: bool = False, done: bool = True,
                    delay: float = 0.0) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            events = [f"data: {json.dumps(c)}\n\n" for c in chunks] + (["data: [DONE]\n\n"] if done else [])
            try:
                for i, event in enumerate(events):
                    if delay and i:
                        time.sleep(delay)
                    raw = event.encode()
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(raw), raw))
                    self.wfile.flush()
                if drop:  # the connection dies mid-body: no terminating chunk
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                else:
                    self.wfile.write(b"0\r\n\r\n")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: an interrupt
                with server._lock:
                    server.disconnects += 1
                self.close_connection = True

    return Handler


def load_scenario(path: str) -> ScriptedServer:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    turns = [Turn.from_dict(t) for t in data["turns"]]
    model = data.get("model", "scripted-model")
    return ScriptedServer(turns, data.get("dialect", "vllm"), data.get("reasoning_style"), model,
                          context_window=data.get("context_window"))


def main(argv: list[str]) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m freehold.testing", description="Serve a scripted model.")
    parser.add_argument("scenario")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = load_scenario(args.scenario)
    if args.port:
        server = ScriptedServer(server.turns, server.dialect, server.reasoning_style, server.model, port=args.port,
                                context_window=server.context_window)
    print(server.url, flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
