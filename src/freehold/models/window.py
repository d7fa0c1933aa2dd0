"""How many tokens the model is really served with, and how many a request takes.

`negotiate` asks the server what it serves, at most a few quick requests, each allowed to fail:

    1. GET  {base}/models      vLLM and SGLang: the model's entry has `max_model_len`
    2. GET  {root}/props       llama.cpp's llama-server: `default_generation_settings.n_ctx`
    3. POST {root}/api/show    Ollama: `num_ctx` in `parameters`, else GET {root}/api/ps
                               `context_length` of the loaded model, else Ollama's default

where {root} is the endpoint without its trailing /v1. What the server says wins; a configured
window may only lower it. With no answer: the configured window, then the profile's, then 8192.

Ollama cuts a prompt longer than its `num_ctx` silently, and its OpenAI-compatible
/v1/chat/completions has no way to raise it per request (see `ollama_options`), so what it
serves is read, not assumed from the model's training length.

`TokenCounter` counts with the server's own tokenizer where it has an endpoint for it (vLLM,
llama-server: POST {root}/tokenize) and otherwise estimates from bytes, calibrated against the
usage servers report, always erring high. `fits` and `over_share` are the budget arithmetic.

This module imports no HTTP library: it is handed the model client's httpx.Client, so every
probe goes through the same egress transport as the prompts.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from freehold.errors import FreeholdError
from freehold.models.profiles import Profile

__all__ = ["DEFAULT_WINDOW", "TokenCounter", "Window", "fits", "negotiate", "ollama_options", "over_share"]

DEFAULT_WINDOW = 8192
# Ollama's num_ctx when neither the Modelfile nor the request sets one and OLLAMA_CONTEXT_LENGTH
# is not set: 4096 below 24 GiB of VRAM, more above (docs/context-length.mdx of ollama/ollama;
# 2048 before v0.6). The server does not say which until the model is loaded, so the smallest
# current default is assumed.
OLLAMA_DEFAULT_NUM_CTX = 4096
PROBE_TIMEOUT = 5.0  # seconds; a probe that does not answer quickly is a server that does not say
TOKENIZE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Window:
    tokens: int
    source: str  # where the number came from, for messages: "vLLM /v1/models max_model_len"
    # The kind of server that answered a probe ("vllm", "sglang", "llamacpp", "ollama"), whatever
    # set the number; "" when none did. It tells what else the server has (a /tokenize, names
    # of sampling parameters).
    server: str = ""


class _Response(Protocol):
    status_code: int

    def json(self) -> Any: ...


class Http(Protocol):
    """The part of httpx.Client used here."""

    def get(self, url: str, *, timeout: float) -> _Response: ...
    def post(self, url: str, *, json: Any, timeout: float) -> _Response: ...


@dataclass(frozen=True)
class _Served:
    window: Window
    known: bool = True  # False: Ollama's default, assumed rather than read
    ceiling: int | None = None  # the model's training length, when the server gave it


# -- negotiation -----------------------------------------------------------------------------


def negotiate(http: Http, base_url: str, model: str, profile: Profile, configured: int | None = None) -> Window:
    """The window to fit requests in (see the module docstring for the order)."""
    return _choose(_served(http, base_url, model), configured, profile)


def _served(http: Http, base_url: str, model: str) -> _Served | None:
    """What the server says it serves `model` with, or None when it says nothing."""
    base = base_url.rstrip("/")
    for probe in (_vllm, _llamacpp, _ollama):
        found = probe(http, base, model)
        if found is not None:
            return found
    return None


def _choose(served: _Served | None, configured: int | None, profile: Profile) -> Window:
    config = "config [model] context_window"
    kind = served.window.server if served is not None else ""
    if served is not None and served.known:
        window = served.window
        if configured is None:
            return window
        if configured <= window.tokens:
            return Window(configured, f"{config} (the server serves {window.tokens}: {window.source})", kind)
        return Window(window.tokens, f"{window.source}; {config} {configured} is more than that, so capped", kind)
    if configured is not None:
        ceiling = served.ceiling if served is not None else None
        if ceiling is not None and configured > ceiling:
            capped = f"the model's trained length; {config} {configured} is more than that, so capped"
            return Window(ceiling, capped, kind)
        unchecked = " (unchecked: Ollama does not say what it serves)" if served is not None else ""
        return Window(configured, config + unchecked, kind)
    if served is not None:  # Ollama's default: a guess, but a better one than the family's length
        return served.window
    if profile.context_window is not None:
        return Window(profile.context_window, f"profile {profile.name}")
    return Window(DEFAULT_WINDOW, f"default {DEFAULT_WINDOW} (neither the server, the config nor the profile said)")


def _vllm(http: Http, base: str, model: str) -> _Served | None:
    # The ModelCard of vLLM (vllm/entrypoints/openai/protocol.py) and of SGLang
    # (sglang/srt/entrypoints/openai/protocol.py): id, owned_by, ..., max_model_len.
    listing = _get_json(http, f"{base}/models")
    entries = [e for e in listing.get("data") or [] if isinstance(e, dict)] if isinstance(listing, dict) else []
    entry = next((e for e in entries if e.get("id") == model), entries[0] if len(entries) == 1 else None)
    tokens = _positive(entry.get("max_model_len")) if entry is not None else None
    if entry is None or tokens is None:
        return None
    kind = "sglang" if entry.get("owned_by") == "sglang" else "vllm"
    return _Served(Window(tokens, f"{'SGLang' if kind == 'sglang' else 'vLLM'} /v1/models max_model_len", kind))


def _llamacpp(http: Http, base: str, model: str) -> _Served | None:
    # llama-server's GET /props (tools/server/README.md): default_generation_settings.n_ctx, the
    # context of one slot, which is what one request gets. A top-level n_ctx is read as well.
    props = _get_json(http, f"{_root(base)}/props")
    if not isinstance(props, dict):
        return None
    settings = props.get("default_generation_settings")
    tokens = _positive(settings.get("n_ctx")) if isinstance(settings, dict) else None
    tokens = tokens or _positive(props.get("n_ctx"))
    return _Served(Window(tokens, "llama.cpp /props n_ctx", "llamacpp")) if tokens else None


def _ollama(http: Http, base: str, model: str) -> _Served | None:
    # Ollama's POST /api/show (docs/api.md): `parameters` is the Modelfile's PARAMETER lines as
    # text ("num_ctx  8192"), `model_info` the GGUF's metadata ("llama.context_length": 131072,
    # the training length, not what is served). Ollama caps num_ctx at the training length.
    root = _root(base)
    show = _post_json(http, f"{root}/api/show", {"model": model})
    if not isinstance(show, dict) or not ("model_info" in show or "parameters" in show):
        return None
    trained = _trained_length(show.get("model_info"))
    num_ctx = _num_ctx(show.get("parameters"))
    if num_ctx is not None:
        if trained is not None and trained < num_ctx:
            return _Served(Window(trained, "Ollama /api/show model_info context_length (num_ctx is larger)", "ollama"))
        return _Served(Window(num_ctx, "Ollama /api/show num_ctx", "ollama"))
    loaded = _ollama_loaded(http, root, model)
    if loaded is not None:
        return _Served(Window(loaded, "Ollama /api/ps context_length", "ollama"))
    assumed = min(OLLAMA_DEFAULT_NUM_CTX, trained or OLLAMA_DEFAULT_NUM_CTX)
    source = f"Ollama's default num_ctx, assumed {assumed} (the model sets none and is not loaded yet)"
    return _Served(Window(assumed, source, "ollama"), known=False, ceiling=trained)


def _ollama_loaded(http: Http, root: str, model: str) -> int | None:
    """The context a loaded model runs with: GET /api/ps lists `context_length` (newer Ollama)."""
    running = _get_json(http, f"{root}/api/ps")
    models = running.get("models") if isinstance(running, dict) else None
    for entry in models if isinstance(models, list) else []:
        names = (entry.get("name"), entry.get("model")) if isinstance(entry, dict) else ()
        if any(isinstance(n, str) and model in (n, n.removesuffix(":latest")) for n in names):
            return _positive(entry.get("context_length"))
    return None


def _trained_length(info: Any) -> int | None:
    if not isinstance(info, dict):
        return None
    arch = info.get("general.architecture")
    if isinstance(arch, str) and f"{arch}.context_length" in info:
        return _positive(info[f"{arch}.context_length"])
    return next((_positive(v) for k, v in info.items() if k.endswith(".context_length")), None)


def _num_ctx(parameters: Any) -> int | None:
    found = re.search(r"^\s*num_ctx\s+(\d+)\s*$", parameters, re.MULTILINE) if isinstance(parameters, str) else None
    return _positive(int(found.group(1))) if found else None


def _root(base: str) -> str:
    """The server's root: the endpoint without a trailing /v1."""
    return base.rstrip("/").removesuffix("/v1")


def _positive(value: Any) -> int | None:
    return value if type(value) is int and value > 0 else None


def _get_json(http: Http, url: str) -> Any:
    return _answer(lambda: http.get(url, timeout=PROBE_TIMEOUT))


def _post_json(http: Http, url: str, payload: Any, timeout: float = PROBE_TIMEOUT) -> Any:
    return _answer(lambda: http.post(url, json=payload, timeout=timeout))


def _answer(send: Callable[[], _Response]) -> Any:
    """The JSON of a 200 answer; None for anything else. A probe asks a server that may not have
    the endpoint, so a refused connection, a 404, a timeout or HTML all mean "not said". The
    client's exceptions are not named because this module imports no HTTP library; Freehold's
    own (a policy refusal at the egress point) still propagate."""
    try:
        response = send()
        return response.json() if response.status_code == 200 else None
    except FreeholdError:
        raise
    except Exception:
        return None


def ollama_options(window: Window) -> dict[str, Any]:
    """`{"num_ctx": N}`: the `options` of a request to Ollama's *native* API (POST /api/chat or
    /api/generate), which serves the model with that window.

    Ollama's OpenAI-compatible /v1/chat/completions ignores an `options` field (its
    ChatCompletionRequest in openai/openai.go has none, and unknown JSON keys are dropped); its
    docs (docs/openai.md, "Setting the context size") say the OpenAI API cannot set the context
    size. There the window is set by a Modelfile's `PARAMETER num_ctx N` (`ollama create`), or
    for every model without one by OLLAMA_CONTEXT_LENGTH on the server, and `negotiate` reads
    what results."""
    return {"num_ctx": window.tokens}


# -- counting --------------------------------------------------------------------------------


class TokenCounter:
    """Tokens in a text (a request body, a system prompt): the server's count where it has a
    tokenizer endpoint, else an estimate that errs high.

    The estimate divides the UTF-8 size by a bytes-per-token ratio, starting at 4 (the figure
    `estimate_usage` uses) and, once `calibrate` has seen real counts, the smallest ratio among
    the last 16 (the most tokens per byte seen: a cached prefix that a server left out of its
    count only raises a ratio, so it is never the one used). On top comes a margin: 35% before
    calibration (so 4 bytes a token becomes 2.96, below what BPE tokenizers give for dense JSON
    and code, about 3), 10% after.

    The server's count of a request body counts its JSON text, which takes more tokens than the
    chat template the server renders from it: that errs high too."""

    UNCALIBRATED_MARGIN = 1.35
    CALIBRATED_MARGIN = 1.10

    def __init__(self, http: Http | None = None, base_url: str | None = None, model: str | None = None,
                 *, server: str = "", bytes_per_token: float = 4.0) -> None:
        """`server` is `Window.server` when known: it spares asking an Ollama for a tokenizer
        it does not have, and tries a vLLM's or a llama-server's shape first."""
        self._http = http
        self._root = _root(base_url) if base_url else None
        self._model = model
        self._initial = bytes_per_token
        self._ratios: deque[float] = deque(maxlen=16)
        # The tokenizer shapes still worth trying; one, once the server has answered in it.
        self._shapes: tuple[str, ...] = () if http is None or not base_url or server == "ollama" else (
            ("llamacpp", "vllm") if server == "llamacpp" else ("vllm", "llamacpp"))
        self._tokenizer = ""  # the shape the server has answered in; "" before that, or never

    @property
    def source(self) -> str:
        if self._tokenizer == "vllm":
            return "vLLM /tokenize"
        if self._tokenizer == "llamacpp":
            return "llama.cpp /tokenize"
        return f"estimate ({self.bytes_per_token():.2f} bytes a token, {'' if self._ratios else 'un'}calibrated)"

    def count(self, text_or_body: str) -> int:
        counted = self._server_count(text_or_body) if self._shapes else None
        return counted if counted is not None else self.estimate(text_or_body)

    def estimate(self, text: str) -> int:
        return math.ceil(len(text.encode("utf-8")) / self.bytes_per_token())

    def bytes_per_token(self) -> float:
        """The ratio the estimate uses, margin included."""
        if self._ratios:
            return min(self._ratios) / self.CALIBRATED_MARGIN
        return self._initial / self.UNCALIBRATED_MARGIN

    def calibrate(self, body_bytes: int, prompt_tokens: int) -> None:
        """Learn from a request of `body_bytes` that the server counted as `prompt_tokens`."""
        if body_bytes > 0 and prompt_tokens > 0:
            self._ratios.append(body_bytes / prompt_tokens)

    def _server_count(self, text: str) -> int | None:
        assert self._http is not None and self._root is not None
        for shape in self._shapes:
            counted = self._ask(shape, text)
            if counted is not None:
                self._shapes, self._tokenizer = (shape,), shape
                return counted
        if not self._tokenizer:
            self._shapes = ()  # asked once in every shape; it has none (Ollama, LM Studio, ...)
        return None

    def _ask(self, shape: str, text: str) -> int | None:
        assert self._http is not None
        url = f"{self._root}/tokenize"
        if shape == "vllm":
            # vLLM: {"model", "prompt"} -> {"count", "max_model_len", "tokens"} (TokenizeResponse).
            answer = _post_json(self._http, url, {"model": self._model, "prompt": text}, TOKENIZE_TIMEOUT)
            return _count(answer.get("count")) if isinstance(answer, dict) else None
        # llama-server: {"content"} -> {"tokens": [...]} (tools/server/README.md, POST /tokenize).
        answer = _post_json(self._http, url, {"content": text}, TOKENIZE_TIMEOUT)
        tokens = answer.get("tokens") if isinstance(answer, dict) else None
        return len(tokens) if isinstance(tokens, list) else None


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


# -- budget arithmetic -----------------------------------------------------------------------


def fits(prompt_tokens: int, window: Window, reserve_output: int) -> bool:
    """Whether a prompt leaves `reserve_output` tokens of the window for the answer."""
    return prompt_tokens + reserve_output <= window.tokens


def over_share(system_and_tools_tokens: int, window: Window, share: float = 0.25) -> str | None:
    """A one-line warning when the system prompt and tool schemas alone take more than `share`
    of the window; None when they do not."""
    if system_and_tools_tokens <= share * window.tokens:
        return None
    percent = round(100 * system_and_tools_tokens / window.tokens)
    return (
        f"the system prompt and tool schemas take {system_and_tools_tokens} of the model's {window.tokens} tokens "
        f"({percent}%; window from {window.source}), leaving little room for the conversation"
    )
