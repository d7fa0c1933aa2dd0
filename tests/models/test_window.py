"""Context-window negotiation against the scripted server playing vLLM, llama.cpp and Ollama,
with every fallback; token counting by the server's tokenizer and by an estimate that errs high;
and the budget arithmetic."""

from __future__ import annotations

import json
import random
import string

import httpx
import pytest

from freehold.messages import Message
from freehold.models.openai_compat import Endpoint, OpenAICompatModel, request_body
from freehold.models.profiles import profile_for
from freehold.models.window import (
    DEFAULT_WINDOW,
    TokenCounter,
    Window,
    fits,
    negotiate,
    ollama_options,
    over_share,
)
from freehold.policy.egress import egress_transport
from freehold.policy.org import Policy
from freehold.testing import ScriptedServer, Turn, count_tokens
from freehold.tools import default_tools

QWEN = profile_for("qwen2.5-coder:7b")  # a 32768-token family
DEFAULT = profile_for("unknown-model")


@pytest.fixture
def http():
    with httpx.Client(trust_env=False) as client:
        yield client


def window_of(http, server: ScriptedServer, configured: int | None = None, profile=QWEN) -> Window:
    return negotiate(http, server.url, server.model, profile, configured)


def probes(server: ScriptedServer) -> list[str]:
    return [r.path for r in server.requests]


# -- what each server says ---------------------------------------------------------------------


def test_vllm_says_max_model_len_in_one_request(http):
    with ScriptedServer([], dialect="vllm", context_window=16384, model="m") as server:
        assert window_of(http, server) == Window(16384, "vLLM /v1/models max_model_len", "vllm")
    assert probes(server) == ["/v1/models"]


def test_vllm_answers_for_the_model_asked_about(http):
    with ScriptedServer([], dialect="vllm", context_window=16384, model="m") as server:
        server.extra_models = ("other",)
        assert negotiate(http, server.url, "m", QWEN).tokens == 16384
        assert negotiate(http, server.url, "absent", QWEN).source == "profile qwen2.5-coder"  # not another's


def test_llamacpp_says_n_ctx_at_props(http):
    with ScriptedServer([], dialect="llamacpp", context_window=12288) as server:
        assert window_of(http, server) == Window(12288, "llama.cpp /props n_ctx", "llamacpp")
    assert probes(server) == ["/v1/models", "/props"]


def test_ollama_says_the_modelfile_num_ctx_at_api_show(http):
    with ScriptedServer([], dialect="ollama", context_window=8192, model="qwen2.5-coder:7b") as server:
        server.trained_context = 32768  # model_info's training length is not what is served
        assert window_of(http, server) == Window(8192, "Ollama /api/show num_ctx", "ollama")
        assert json.loads(server.requests[-1].body) == {"model": "qwen2.5-coder:7b"}


def test_ollama_caps_num_ctx_at_the_training_length(http):
    with ScriptedServer([], dialect="ollama", context_window=65536) as server:
        server.trained_context = 32768
        assert window_of(http, server).tokens == 32768


def test_ollama_without_num_ctx_is_read_at_api_ps_once_loaded_and_assumed_before(http):
    with ScriptedServer([Turn("hi")], dialect="ollama", context_window=8192) as server:
        server.ollama_num_ctx_set = False
        before = window_of(http, server)
        assert before.tokens == 4096 and before.source.startswith("Ollama's default num_ctx, assumed 4096")
        http.post(f"{server.url}/chat/completions", json={"model": server.model, "messages": []})
        assert window_of(http, server) == Window(8192, "Ollama /api/ps context_length", "ollama")


def test_ollama_s_assumed_default_yields_to_the_config_but_not_past_the_training_length(http):
    with ScriptedServer([], dialect="ollama", context_window=8192) as server:
        server.ollama_num_ctx_set, server.trained_context = False, 16384
        assert window_of(http, server, configured=12000) == Window(
            12000, "config [model] context_window (unchecked: Ollama does not say what it serves)", "ollama")
        assert window_of(http, server, configured=65536).tokens == 16384
        big = profile_for("qwen3-coder:30b")
        assert window_of(http, server, profile=big).tokens == 4096  # not the profile's 262144


def test_probes_go_through_the_egress_transport(http):
    with ScriptedServer([], dialect="ollama", context_window=8192) as server, \
            httpx.Client(transport=egress_transport(Policy()), trust_env=False) as egress:
        assert window_of(egress, server).source == "Ollama /api/show num_ctx"


# -- fallbacks -----------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["hermes", "qwen3coder", "vllm"])
def test_a_server_that_says_nothing_leaves_the_profile_s_window(http, dialect):
    window = 16384 if dialect != "vllm" else None  # hermes and qwen3coder have no probe endpoints
    with ScriptedServer([], dialect=dialect, context_window=window) as server:
        assert window_of(http, server) == Window(32768, "profile qwen2.5-coder")
        fallback = window_of(http, server, profile=DEFAULT)
    assert fallback.tokens == DEFAULT_WINDOW and fallback.source.startswith("default 8192")
    assert probes(server) == ["/v1/models", "/props", "/api/show"] * 2  # at most three quick probes each


def test_an_unreachable_server_is_no_error_but_no_answer(http):
    server = ScriptedServer([], dialect="vllm", context_window=16384)
    url = server.url
    server._httpd.server_close()  # the port is closed: every probe is refused
    assert negotiate(http, url, "m", QWEN) == Window(32768, "profile qwen2.5-coder")
    assert negotiate(http, url, "m", QWEN, configured=20000) == Window(20000, "config [model] context_window")


def test_a_smaller_configured_window_wins_and_says_what_the_server_serves(http):
    with ScriptedServer([], dialect="vllm", context_window=32768) as server:
        window = window_of(http, server, configured=16384)
    assert window.tokens == 16384 and window.server == "vllm"  # the server's kind, whatever set the number
    assert window.source == "config [model] context_window (the server serves 32768: vLLM /v1/models max_model_len)"


def test_a_larger_configured_window_is_capped_at_what_the_server_serves(http):
    with ScriptedServer([], dialect="llamacpp", context_window=8192) as server:
        window = window_of(http, server, configured=65536)
    assert window.tokens == 8192
    assert window.source == "llama.cpp /props n_ctx; config [model] context_window 65536 is more than that, so capped"


# -- Ollama's options ----------------------------------------------------------------------------


def test_ollama_options_carry_num_ctx_for_the_native_api():
    assert ollama_options(Window(16384, "x")) == {"num_ctx": 16384}


def test_ollama_s_openai_endpoint_ignores_options_num_ctx_as_ollama_does(http):
    options = ollama_options(Window(65536, "x"))  # what the native API would honour
    body = {"model": "m", "options": options, "messages": [{"role": "user", "content": "x" * 3000}]}
    with ScriptedServer([Turn("hi")], dialect="ollama", context_window=512) as server:
        answer = http.post(f"{server.url}/chat/completions", json=body)
    assert answer.status_code == 400 and len(server.over_window) == 1


# -- counting ------------------------------------------------------------------------------------

TEXTS = ["hello world", "def add(a, b):\n    return a + b\n" * 40, '{"k": "\\u00e9t\\u00e9", "n": [1, 2, 3]}' * 30,
         "naïve café — 日本語のテキスト" * 10]


@pytest.mark.parametrize("dialect, source", [("vllm", "vLLM /tokenize"), ("llamacpp", "llama.cpp /tokenize")])
def test_the_server_s_tokenizer_counts_where_there_is_one(http, dialect, source):
    with ScriptedServer([], dialect=dialect, context_window=8192) as server:
        counter = TokenCounter(http, server.url, server.model)
        assert [counter.count(t) for t in TEXTS] == [count_tokens(t) for t in TEXTS]
        assert counter.source == source
    assert sum(p == "/tokenize" for p in probes(server)) == len(TEXTS) + (dialect == "llamacpp")  # one discovery miss


def test_without_a_tokenizer_the_estimate_errs_high_and_the_server_is_asked_once(http):
    with ScriptedServer([], dialect="ollama", context_window=8192) as server:
        counter = TokenCounter(http, server.url, server.model)
        for text in TEXTS:
            assert counter.count(text) >= count_tokens(text)
        assert counter.source.startswith("estimate (2.96 bytes a token, uncalibrated")
    assert sum(p == "/tokenize" for p in probes(server)) == 2  # both shapes tried, once


def test_a_server_known_to_be_ollama_is_not_asked_for_a_tokenizer(http):
    with ScriptedServer([], dialect="ollama", context_window=8192) as server:
        counter = TokenCounter(http, server.url, server.model, server=window_of(http, server).server)
        assert counter.count("hello world") >= count_tokens("hello world")
    assert "/tokenize" not in probes(server)


def test_the_uncalibrated_estimate_errs_high_on_any_text():
    counter, rng = TokenCounter(), random.Random(6)
    alphabet = string.printable + "éü—日本語"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3000)))
        assert counter.estimate(text) >= count_tokens(text)


def test_calibration_from_the_server_s_usage_tracks_its_tokenizer_and_still_errs_high():
    with ScriptedServer([Turn("one")], dialect="vllm", context_window=32768) as server:
        model = OpenAICompatModel(Endpoint(server.url, "m", retry_backoff=0))
        tools, ask = default_tools(), [Message("system", "You are Freehold."), Message("user", "Fix the failing test.")]
        reply = model.complete(ask, tools)
        model.close()
    body = server.chat_requests[0].body
    counter = TokenCounter()
    uncalibrated = counter.estimate(body.decode())
    counter.calibrate(len(body), reply.usage.input_tokens)
    calibrated = counter.estimate(body.decode())
    bigger = request_body(model.endpoint, [*ask, Message("user", "and the docs " * 300)], tools).decode()
    assert count_tokens(body) <= uncalibrated and count_tokens(body) <= calibrated <= 1.15 * count_tokens(body)
    assert count_tokens(bigger) <= counter.estimate(bigger) <= 1.15 * count_tokens(bigger)  # later requests too


def test_a_count_that_left_out_a_cached_prefix_does_not_lower_the_estimate():
    counter = TokenCounter()
    counter.calibrate(30_000, 10_000)  # 3 bytes a token
    counter.calibrate(30_000, 500)  # a server that counted only the new tokens
    counter.calibrate(0, 100)  # nonsense is ignored
    assert counter.bytes_per_token() == pytest.approx(3 / 1.10)


# -- budget arithmetic -----------------------------------------------------------------------------


def test_fits_keeps_room_for_the_answer():
    window = Window(8192, "llama.cpp /props n_ctx")
    assert fits(6192, window, 2000) and not fits(6193, window, 2000)


def test_over_share_warns_in_one_line_when_system_and_tools_take_too_much():
    window = Window(8192, "Ollama /api/show num_ctx")
    assert over_share(2048, window) is None
    warning = over_share(3000, window)
    assert warning is not None and "\n" not in warning
    assert "3000 of the model's 8192 tokens (37%; window from Ollama /api/show num_ctx)" in warning
    assert over_share(3000, window, share=0.5) is None
