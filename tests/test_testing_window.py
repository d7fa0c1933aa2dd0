"""The scripted server's context window: where each dialect says it, its tokenizer, and the
refusal of a request that does not fit, kept so a test can assert none was ever sent."""

from __future__ import annotations

import json

import httpx
import pytest

from freehold.errors import ModelError
from freehold.messages import Message
from freehold.models.openai_compat import Endpoint, OpenAICompatModel
from freehold.testing import ScriptedServer, Turn, count_tokens, load_scenario


@pytest.fixture
def http():
    with httpx.Client(trust_env=False) as client:
        yield client


def chat(http, server: ScriptedServer, text: str, **extra) -> httpx.Response:
    body = {"model": server.model, "stream": False, **extra, "messages": [{"role": "user", "content": text}]}
    return http.post(f"{server.url}/chat/completions", content=json.dumps(body).encode())


def root(server: ScriptedServer) -> str:
    return server.url.removesuffix("/v1")


def test_the_tokenizer_is_one_token_per_three_bytes_rounded_up():
    assert [count_tokens(t) for t in ("", "a", "abc", "abcd", "é")] == [0, 1, 1, 2, 1]
    assert count_tokens("日本") == 2 and count_tokens(b"x" * 3000) == 1000


def test_a_request_over_the_window_is_refused_kept_and_consumes_no_turn(http):
    with ScriptedServer([Turn("fits")], dialect="vllm", context_window=400) as server:
        refused = chat(http, server, "x" * 1500)
        answered = chat(http, server, "short")
    assert refused.status_code == 400
    message = refused.json()["error"]["message"]
    assert message.startswith("This model's maximum context length is 400 tokens. However, your request has ")
    assert answered.status_code == 200 and answered.json()["choices"][0]["message"]["content"] == "fits"
    assert [json.loads(r.body)["messages"][0]["content"] for r in server.over_window] == ["x" * 1500]
    assert len(server.chat_requests) == 2  # the refused one was sent all the same


def test_max_tokens_counts_against_the_window(http):
    with ScriptedServer([Turn("ok")], dialect="vllm", context_window=400) as server:
        small = chat(http, server, "short", max_tokens=10)
        refused = chat(http, server, "short", max_tokens=400)
    assert small.status_code == 200 and refused.status_code == 400
    prompt = count_tokens(server.over_window[0].body)
    expected = f"However, you requested {prompt + 400} tokens ({prompt} in the messages, 400 in the completion)"
    assert expected in refused.json()["error"]["message"]


def test_freehold_stops_with_the_server_s_words_on_an_over_window_request():
    with ScriptedServer([Turn("never")], dialect="ollama", context_window=300) as server:
        model = OpenAICompatModel(Endpoint(server.url, "m", retry_backoff=0))
        with pytest.raises(ModelError, match=r"HTTP 400: This model's maximum context length is 300 tokens"):
            model.complete([Message("user", "y" * 2000)], [])
        model.close()
    assert len(server.over_window) == 1 and server.turns  # not retried, and the turn is still there


def test_with_a_window_the_usage_is_the_tokenizer_s_count(http):
    with ScriptedServer([Turn("ok")], dialect="vllm", context_window=4096) as server:
        usage = chat(http, server, "count me").json()["usage"]
    assert usage["prompt_tokens"] == count_tokens(server.chat_requests[0].body)


def test_vllm_lists_max_model_len_and_tokenizes_its_shape(http):
    with ScriptedServer([], dialect="vllm", context_window=4096, model="m") as server:
        card = http.get(f"{server.url}/models").json()["data"][0]
        counted = http.post(f"{root(server)}/tokenize", json={"model": "m", "prompt": "hello there"}).json()
        wrong = http.post(f"{root(server)}/tokenize", json={"content": "hello there"})
    assert card["max_model_len"] == 4096
    assert counted["count"] == len(counted["tokens"]) == 4 and counted["max_model_len"] == 4096
    assert wrong.status_code == 400


def test_llamacpp_serves_props_and_tokenizes_its_shape(http):
    with ScriptedServer([], dialect="llamacpp", context_window=2048) as server:
        props = http.get(f"{root(server)}/props").json()
        counted = http.post(f"{root(server)}/tokenize", json={"content": "hello there"}).json()
        card = http.get(f"{server.url}/models").json()["data"][0]
    assert props["default_generation_settings"]["n_ctx"] == 2048
    assert counted == {"tokens": counted["tokens"]} and len(counted["tokens"]) == 4
    assert "max_model_len" not in card


def test_ollama_shows_num_ctx_and_lists_the_model_at_ps_once_loaded(http):
    with ScriptedServer([Turn("hi")], dialect="ollama", context_window=8192, model="qwen3:8b") as server:
        server.trained_context = 40960
        show = http.post(f"{root(server)}/api/show", json={"model": "qwen3:8b"}).json()
        missing = http.post(f"{root(server)}/api/show", json={"model": "llama3:8b"})
        before = http.get(f"{root(server)}/api/ps").json()
        chat(http, server, "hi")
        after = http.get(f"{root(server)}/api/ps").json()
        tokenize = http.post(f"{root(server)}/tokenize", json={"content": "x"})
    assert show["model_info"]["llama.context_length"] == 40960
    assert "num_ctx                        8192" in show["parameters"]
    assert missing.status_code == 404 and missing.json() == {"error": "model 'llama3:8b' not found"}
    assert before == {"models": []}
    assert after["models"][0]["context_length"] == 8192
    assert tokenize.status_code == 404  # Ollama has no tokenizer endpoint


def test_without_a_window_nothing_changes(http):
    with ScriptedServer([Turn("ok")], dialect="llamacpp") as server:
        assert http.get(f"{root(server)}/props").status_code == 404
        assert http.post(f"{root(server)}/tokenize", json={"content": "x"}).status_code == 404
        assert "max_model_len" not in http.get(f"{server.url}/models").json()["data"][0]
        assert chat(http, server, "z" * 100_000).status_code == 200
    assert server.over_window == []


def test_a_scenario_file_can_set_the_window(tmp_path):
    path = tmp_path / "scenario.json"
    path.write_text(json.dumps({"dialect": "llamacpp", "context_window": 1024, "turns": [{"text": "hi"}]}))
    assert load_scenario(str(path)).context_window == 1024
