"""The model client against the scripted server over real HTTP: stream assembly per dialect,
retries, errors, and what goes on the wire."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from freehold.errors import ModelError, ModelUnreachable, UsageError
from freehold.messages import Message
from freehold.models.openai_compat import Endpoint, OpenAICompatModel, request_body
from freehold.models.stream import ReplyBuilder
from freehold.testing import DIALECTS, Call, ScriptedServer, Turn
from freehold.tools import default_tools

TOOLS = default_tools()
ASK = [Message("system", "sys"), Message("user", "go")]
CALLS = (
    Call("Read", {"file_path": "a.py", "limit": 20}),
    Call("Edit", {"file_path": "b.py", "old_string": "x = '<tag>'\n", "new_string": "y = {\"k\": 1}\n"}),
)


def complete(server: ScriptedServer, **endpoint) -> object:
    model = OpenAICompatModel(Endpoint(server.url, "m", retry_backoff=0, **endpoint))
    try:
        return model.complete(ASK, TOOLS)
    finally:
        model.close()


@pytest.mark.parametrize("stream", [True, False])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_two_calls_arrive_whole_in_every_dialect(dialect, stream):
    with ScriptedServer([Turn("Reading.", CALLS, reasoning="hmm")], dialect=dialect) as server:
        reply = complete(server, stream=stream)
    assert [c.name for c in reply.tool_calls] == ["Read", "Edit"]
    assert json.loads(reply.tool_calls[0].arguments) in ({"file_path": "a.py", "limit": 20},
                                                         {"file_path": "a.py", "limit": "20"})
    assert json.loads(reply.tool_calls[1].arguments)["new_string"] == "y = {\"k\": 1}\n"
    assert reply.text == "Reading."
    assert reply.reasoning == "hmm"


def test_usage_from_the_final_chunk():
    with ScriptedServer([Turn("hello")], dialect="vllm") as server:
        reply = complete(server)
    assert reply.usage.input_tokens == len(server.chat_requests[0].body) // 4  # the scripted server's count
    assert not reply.usage.estimated


def test_usage_is_estimated_when_the_server_reports_none():
    with ScriptedServer([Turn("hello there", CALLS)], dialect="llamacpp") as server:
        reply = complete(server)
    assert reply.usage.estimated
    assert reply.usage.input_tokens == len(server.chat_requests[0].body) // 4
    assert reply.usage.output_tokens > 0


def test_a_chunk_per_character_still_assembles():
    server = ScriptedServer([Turn("a" * 50, CALLS)], dialect="vllm", chunk_size=1)
    with server:
        reply = complete(server)
    assert reply.text == "a" * 50 and len(reply.tool_calls) == 2


def test_finish_reason_stop_with_calls_still_runs_them():
    builder = ReplyBuilder()
    builder.feed({"choices": [{"delta": {"tool_calls": [{"id": "c1", "function": {"name": "Read", "arguments": "{}"}}]}}]})
    builder.feed({"choices": [{"delta": {}, "finish_reason": "stop"}]})
    assert [c.name for c in builder.build(["Read"]).tool_calls] == ["Read"]


def test_every_call_at_index_zero_with_new_ids_is_several_calls():
    builder = ReplyBuilder()
    for call_id, path in (("c1", "a"), ("c2", "b")):
        builder.feed({"choices": [{"delta": {"tool_calls": [
            {"index": 0, "id": call_id, "function": {"name": "Read", "arguments": ""}}]}}]})
        builder.feed({"choices": [{"delta": {"tool_calls": [
            {"index": 0, "function": {"arguments": json.dumps({"file_path": path})}}]}}]})
    calls = builder.build(["Read"]).tool_calls
    assert [json.loads(c.arguments)["file_path"] for c in calls] == ["a", "b"]


def test_arguments_sent_as_an_object_are_accepted():
    builder = ReplyBuilder()
    builder.feed({"choices": [{"message": {"tool_calls": [{"function": {"name": "Read", "arguments": {"file_path": "x"}}}]}}]})
    assert json.loads(builder.build(["Read"]).tool_calls[0].arguments) == {"file_path": "x"}


@pytest.mark.parametrize("fault", ["http_500", "http_429", "drop", "cut"])
def test_retries_then_succeeds(fault):
    with ScriptedServer([Turn(fault=fault), Turn("ok")]) as server:
        reply = complete(server, max_retries=1)
    assert reply.text == "ok"
    assert server.chat_requests[0].body == server.chat_requests[1].body


def test_gives_up_after_the_bounded_retries():
    with ScriptedServer([Turn(fault="drop")] * 4) as server:
        with pytest.raises(ModelUnreachable, match=r"failed after 3 attempts: .*"):
            complete(server, max_retries=2)
    assert len(server.chat_requests) == 3


def test_a_client_error_is_not_retried():
    with ScriptedServer([]) as server:  # no turns: the server answers 400
        with pytest.raises(ModelError, match="HTTP 400: scripted server: the scenario has no more turns"):
            complete(server, max_retries=3)
    assert len(server.chat_requests) == 1


def test_the_served_model_is_used_when_none_is_named():
    with ScriptedServer([Turn("ok")], model="qwen2.5-coder") as server:
        model = OpenAICompatModel(Endpoint(server.url, None))
        assert model.complete(ASK, TOOLS).text == "ok"
    assert server.chat_requests[0].json()["model"] == "qwen2.5-coder"


def test_api_key_goes_in_the_header_and_proxies_are_ignored(monkeypatch):
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen.update(self.headers)
            self.rfile.read(int(self.headers["Content-Length"]))
            raw = json.dumps({"choices": [{"message": {"content": "ok"}, "finish_reason": "stop"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    # a proxy that does not exist: honouring it would fail the request
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        model = OpenAICompatModel(Endpoint(url, "m", api_key="sk-local", max_retries=0))
        assert model.complete(ASK, TOOLS).text == "ok"
    finally:
        httpd.shutdown()
    assert seen["Authorization"] == "Bearer sk-local"
    assert seen["User-Agent"].startswith("freehold/")


def test_request_body_is_deterministic_and_messages_come_last():
    endpoint = Endpoint("http://127.0.0.1:1/v1", "m")
    one = request_body(endpoint, ASK, TOOLS)
    assert one == request_body(endpoint, ASK, TOOLS)
    longer = request_body(endpoint, [*ASK, Message("assistant", "hi")], TOOLS)
    assert longer.startswith(one[:-2])
    assert list(json.loads(one))[-1] == "messages"


def test_no_model_and_several_served_is_a_usage_error():

    with ScriptedServer([], model="a") as server:
        server.extra_models = ("b",)
        model = OpenAICompatModel(Endpoint(server.url, None))
        with pytest.raises(UsageError, match="serves: a, b"):
            model.served_model()


def test_retry_after_is_honoured_up_to_a_cap_and_backoff_doubles():
    model = OpenAICompatModel(Endpoint("http://127.0.0.1:1/v1", "m", retry_backoff=0.5))
    assert model._delay(1, 2.0) == 2.0 and model._delay(1, 3600.0) == 60.0
    assert [model._delay(n, None) for n in (1, 2, 3)] == [0.5, 1.0, 2.0]


class _SilentServer(ThreadingHTTPServer):
    """Answers 200 with an event stream, sends one piece of text, then says nothing for a minute:
    a server still thinking (or prefilling a long prompt)."""

    daemon_threads = True

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                chunk = {"choices": [{"index": 0, "delta": {"content": "Let me think"}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
                self.server.quiet.wait(10)
                self.server.spoke_again = True
                self.close_connection = True

        super().__init__(("127.0.0.1", 0), Handler)
        self.quiet = threading.Event()
        self.spoke_again = False


def test_an_interrupt_ends_a_silent_stream_at_once_without_retrying():
    from freehold.cancel import Cancel
    from freehold.errors import Interrupted

    server = _SilentServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop, pieces = Cancel(), []
    model = OpenAICompatModel(Endpoint(f"http://127.0.0.1:{server.server_address[1]}/v1", "m", retry_backoff=0),
                              on_delta=lambda text, reasoning: pieces.append(text), cancel=stop)
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    try:
        with pytest.raises(Interrupted):
            model.complete(ASK, TOOLS)
        assert not server.spoke_again  # ended by the interrupt, not by the server going on
    finally:
        timer.cancel()
        server.quiet.set()
        model.close()
        server.shutdown()
    assert pieces == ["Let me think"]
    assert model.requests_sent == 1  # an interrupt is never retried
