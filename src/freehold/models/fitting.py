"""A server's model fitted to the window it really serves: the window and a token counter
asked of the server (window.py), the profile's sampling named as that server names it, and
each request's size counted from remembered parts, so a turn costs only its new messages."""

from __future__ import annotations

import functools
import json
import math
from dataclasses import replace
from typing import Any

from freehold.config import Settings
from freehold.errors import UsageError
from freehold.messages import Message
from freehold.models.budget import BudgetedModel, Limit


def fitted_to_server(model: Any, settings: Settings, fixed: str) -> BudgetedModel:
    """`model` (an OpenAICompatModel) with every request fitted to the server's window; `fixed`
    is what every request carries (system prompt and tools), to warn when it alone is a large
    share of the window."""
    from freehold.models.openai_compat import request_body
    from freehold.models.profiles import profile_for
    from freehold.models.window import TokenCounter, negotiate, over_share

    try:
        profile = profile_for(model.name, override=settings.profile)
    except ValueError as exc:
        raise UsageError(f"config error: [model] profile: {exc}") from None
    window = negotiate(model.http, model.where, model.name, profile, settings.context_window)
    counter = TokenCounter(model.http, model.where, model.name, server=window.server)
    model.endpoint = replace(model.endpoint, sampling=sampling_for(profile, window.server, settings))
    limit = Limit(window.tokens, window.source, settings.max_tokens or min(4096, window.tokens // 4))
    sent = [0]  # the size of the last body counted: the one that goes out

    def count(messages: Any, tools: Any) -> int:
        # The estimate errs high: when even it fits, the server's tokenizer need not be asked.
        # Its size is summed from each message's encoded size, remembered: the conversation only
        # grows, so a turn costs the new messages, not the whole body serialized again.
        sent[0] = body_size(model.endpoint, messages, tools)
        estimate = math.ceil(sent[0] / counter.bytes_per_token())
        if estimate <= limit.prompt:
            return estimate
        return counter.count(request_body(model.endpoint, messages, tools).decode())

    def calibrate(reply: Any) -> None:
        if not reply.usage.estimated:
            counter.calibrate(sent[0], reply.usage.input_tokens)

    # Against a window nobody stated (the default guess) a share means little: no warning then.
    guessed = window.source.startswith("default ")
    _warn_about(window, None if guessed else over_share(counter.estimate(fixed), window))
    return BudgetedModel(model, count, limit, on_reply=calibrate)


def body_size(endpoint: Any, messages: Any, tools: Any) -> int:
    """The byte length of `request_body(endpoint, messages, tools)`, from remembered parts."""
    key = (endpoint, tuple(tool.name for tool in tools))
    if key not in _fixed_sizes:
        from freehold.models.openai_compat import request_body

        _fixed_sizes[key] = len(request_body(endpoint, [], tools))
    return _fixed_sizes[key] + sum(_message_size(m) for m in messages) + max(len(messages) - 1, 0)


_fixed_sizes: dict[tuple[Any, ...], int] = {}


@functools.lru_cache(maxsize=4096)
def _message_size(message: Message) -> int:
    return len(json.dumps(message.to_openai(), ensure_ascii=False, separators=(",", ":")).encode())


# What each kind of server calls a sampling setting; a setting a server may reject is left out.
_SAMPLING_NAMES = {
    "vllm": {"top_k": "top_k", "min_p": "min_p", "repeat_penalty": "repetition_penalty"},
    "sglang": {"top_k": "top_k", "min_p": "min_p", "repeat_penalty": "repetition_penalty"},
    "llamacpp": {"top_k": "top_k", "min_p": "min_p", "repeat_penalty": "repeat_penalty"},
}


def sampling_for(profile: Any, server: str, settings: Settings) -> tuple[tuple[str, float | int], ...]:
    """The profile's sampling defaults as `server` names them: temperature and top_p everywhere
    (the OpenAI API has them), the rest only where the server is known to take them. A
    configured temperature wins (it is sent from the Endpoint)."""
    names = {"temperature": "temperature", "top_p": "top_p", **_SAMPLING_NAMES.get(server, {})}
    return tuple((names[k], v) for k, v in profile.sampling.items()
                 if k in names and not (k == "temperature" and settings.temperature is not None))


def _warn_about(window: Any, share: str | None) -> None:
    import sys

    if share:
        print(f"freehold: warning: {share}", file=sys.stderr)
    if window.source.startswith("Ollama's default"):
        print(f"freehold: warning: the window is {window.tokens} tokens ({window.source}); Ollama cuts longer "
              "prompts silently: set OLLAMA_CONTEXT_LENGTH or num_ctx in a Modelfile, then [model] context_window",
              file=sys.stderr)
