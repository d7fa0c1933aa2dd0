"""A model run in this process by llama.cpp (llama-cpp-python) from a GGUF file: no server.

Tools are described in the system prompt the Hermes way (Qwen2.5's words), and every reply is
generated under `tool_call_grammar`, so a call is well-formed JSON that fits its tool's schema
however small the model. The reply is read back with the same Hermes parser used for servers.
llama_cpp is imported only when a model is opened: `pip install -e '.[local]'`.
"""

from __future__ import annotations

import codecs
import ctypes
import json
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from freehold.errors import ModelError, UsageError
from freehold.messages import Message, Reply, ToolCall, Usage
from freehold.models.dialects import extract_text_tool_calls, split_reasoning
from freehold.models.grammar import tool_call_grammar
from freehold.tools.base import Tool

__all__ = ["LocalModel", "import_llama_cpp"]

# When the settings name none: llama.cpp's own default is 0.8; at 0 a weak model loops.
DEFAULT_TEMPERATURE = 0.7

TOOLS_INTRO = (
    "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
    "You are provided with function signatures within <tools></tools> XML tags:\n<tools>"
)
TOOLS_OUTRO = (
    "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    '<tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n'
    "</tool_call>"
)
GGUF_MAGIC = b"GGUF"


def import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError:
        raise UsageError("local models need llama-cpp-python: pip install -e '.[local]'") from None
    return llama_cpp


class LocalModel:
    """The Model protocol over a GGUF file. One reply at a time; not thread-safe."""

    def __init__(
        self,
        path: str | Path,
        *,
        n_ctx: int | None = None,
        max_context: int | None = None,
        n_threads: int = 1,
        temperature: float | None = None,
        seed: int = 0,
        max_tokens: int | None = None,
        max_string: int | None = None,
        tool_choice: str = "auto",
        grammar: bool = True,
        on_text: Callable[[str], None] | None = None,
        on_request: Callable[[bytes], None] | None = None,
        verbose: bool = False,
    ) -> None:
        """`n_ctx` defaults to the context length the GGUF was trained for, at most
        `max_context`; `max_tokens` (the longest reply) to a quarter of it, at most 4096;
        `temperature` to DEFAULT_TEMPERATURE; `seed` makes a reply repeatable. `max_string`
        bounds strings in tool arguments (None: no bound; see tool_call_grammar). `tool_choice`
        "required" allows no answer but tool calls; `grammar=False` turns the constraint off
        (to measure what it is worth). `on_text` sees each piece of text as it comes."""
        if tool_choice not in ("auto", "required"):
            raise UsageError(f"tool_choice must be auto or required, not {tool_choice!r}")
        self._lib = import_llama_cpp()
        self.path = Path(path)
        logging.getLogger("llama-cpp-python").setLevel(logging.DEBUG if verbose else logging.CRITICAL)
        info = _probe(self._lib, self.path)
        n_ctx = n_ctx or min(info.context_length or 4096, max_context or 1 << 30)
        self._llm = _open(self._lib, self.path, n_ctx, n_threads, verbose)
        self._window = int(self._llm.n_ctx())
        self._name = info.name or self.path.stem
        self.temperature = DEFAULT_TEMPERATURE if temperature is None else temperature
        self.seed, self.max_string, self.on_text = seed, max_string, on_text
        # Sees the exact prompt text, template applied, before each reply (the audit log's record).
        self.on_request = on_request
        self.tool_choice, self.constrained = tool_choice, grammar
        self.max_tokens = max_tokens or min(4096, self._window // 4)
        if self.max_tokens >= self._window:
            self.close()
            raise UsageError(f"max_tokens {self.max_tokens} leaves no room for a prompt "
                             f"in a {self._window}-token context window")
        self._grammars: dict[str, Any] = {}
        self._formatter: Any = None

    @property
    def name(self) -> str:
        return self._name

    @property
    def where(self) -> str:
        """Where the model runs, for the session and the audit log: the file, as a URL."""
        return self.path.resolve().as_uri()

    def ensure_model(self) -> str:
        return self._name

    @property
    def context_window(self) -> int:
        """The context actually allocated, in tokens: prompt and reply together."""
        return self._window

    def count_tokens(self, text: str) -> int:
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def count_request(self, messages: Sequence[Message], tools: Sequence[Tool]) -> int:
        """The exact prompt size of a request, template and tool descriptions included."""
        return len(self.prompt_tokens(messages, tools))

    def close(self) -> None:
        """Free the weights and the context; the model cannot be used after this."""
        self._llm.close()

    # -- one reply -------------------------------------------------------------------------

    def complete(self, messages: Sequence[Message], tools: Sequence[Tool]) -> Reply:
        text, has_bos = self.render(messages, tools)
        if self.on_request is not None:
            self.on_request(text.encode("utf-8"))
        prompt = list(self._llm.tokenize(text.encode("utf-8"), add_bos=not has_bos, special=True))
        room = self.context_window - self.max_tokens
        if len(prompt) > room:
            raise ModelError(
                f"the conversation is {len(prompt)} tokens, more than the {room} that fit in the model's "
                f"context window ({self.context_window} tokens, less {self.max_tokens} kept for the reply)"
            )
        constrained = bool(tools) and self.constrained
        grammar = self.grammar_for(tools, allow_text=self.tool_choice == "auto") if constrained else None
        text, generated, cut = self._generate(prompt, grammar)
        return _reply(text, [tool.name for tool in tools], Usage(len(prompt), generated), cut)

    def render(self, messages: Sequence[Message], tools: Sequence[Tool]) -> tuple[str, bool]:
        """(prompt text, whether it already holds the BOS) through the GGUF's chat template,
        or ChatML when it has none."""
        from llama_cpp import llama_chat_format

        chat = chat_messages(messages, tools)
        formatter = self._chat_formatter()
        if formatter is None:
            return llama_chat_format.format_chatml(chat).prompt, False
        try:
            return formatter(messages=chat).prompt, True
        except Exception as exc:  # the template's own raise_exception, or any Jinja error
            raise ModelError(f"the chat template in {self.path.name} failed: {exc}") from None

    def _chat_formatter(self) -> Any:
        template = self._llm.metadata.get("tokenizer.chat_template")
        if self._formatter is None and template:
            from llama_cpp import llama_chat_format

            eos, bos = self._token_text(self._llm.token_eos()), self._token_text(self._llm.token_bos())
            try:
                self._formatter = llama_chat_format.Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)
            except Exception as exc:  # a template Jinja cannot compile
                raise ModelError(f"the chat template in {self.path.name} does not compile: {exc}") from None
        return self._formatter

    def prompt_tokens(self, messages: Sequence[Message], tools: Sequence[Tool]) -> list[int]:
        text, has_bos = self.render(messages, tools)
        return list(self._llm.tokenize(text.encode("utf-8"), add_bos=not has_bos, special=True))

    def grammar_for(self, tools: Sequence[Tool], *, allow_text: bool = True) -> Any:
        """The LlamaGrammar for these tools, checked by llama.cpp's own parser (once per tool set):
        llama-cpp-python hands an unparsable grammar on as a null sampler, and then crashes."""
        text = tool_call_grammar(tools, allow_text=allow_text, max_string=self.max_string)
        if text not in self._grammars:
            check_grammar(self._lib, self._llm, text)
            self._grammars[text] = self._lib.LlamaGrammar.from_string(text, verbose=False)
        return self._grammars[text]

    def _generate(self, prompt: list[int], grammar: Any) -> tuple[str, int, bool]:
        """(text, tokens generated, whether max_tokens cut it short), streaming to on_text."""
        vocab = self._lib.llama_model_get_vocab(self._llm.model)
        text = _TextStream(self.on_text)
        count = 0
        self._llm.set_seed(self.seed)  # the same conversation gets the same reply
        for token in self._llm.generate(prompt, temp=self.temperature, repeat_penalty=1.0, grammar=grammar):
            if self._lib.llama_vocab_is_eog(vocab, token):
                return text.finish(), count, False
            count += 1
            text.add(self._llm.detokenize([token]))
            if count >= self.max_tokens:
                break
        return text.finish(), count, True

    def _token_text(self, token: int) -> str:
        return "" if token < 0 else self._llm.detokenize([token], special=True).decode("utf-8", "replace")


class _TextStream:
    """Bytes in, text out: a character split across tokens is passed on once it is whole."""

    def __init__(self, on_text: Callable[[str], None] | None) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pieces: list[str] = []
        self._on_text = on_text

    def add(self, data: bytes, final: bool = False) -> None:
        piece = self._decoder.decode(data, final)
        if piece:
            self._pieces.append(piece)
            if self._on_text is not None:
                self._on_text(piece)

    def finish(self) -> str:
        self.add(b"", final=True)
        return "".join(self._pieces)


# ---------------------------------------------------------------------------------------------
# Opening a GGUF


class _GgufInfo(NamedTuple):
    name: str
    context_length: int | None


def _probe(lib: Any, path: Path) -> _GgufInfo:
    """The GGUF's name and trained context length, read without loading its weights; a path
    that is no loadable GGUF ends here, in one line."""
    _check_file(path)
    params = lib.llama_model_default_params()
    params.vocab_only = True
    model = lib.llama_model_load_from_file(str(path).encode(), params)
    if not model:
        raise UsageError(f"model file {path} is a GGUF file llama.cpp cannot load "
                         "(damaged, or an architecture this llama.cpp does not know)")
    try:
        arch = _meta(lib, model, "general.architecture")
        length = _meta(lib, model, f"{arch}.context_length")
        return _GgufInfo(_meta(lib, model, "general.name"), int(length) if length.isdigit() else None)
    finally:
        lib.llama_model_free(model)


def _check_file(path: Path) -> None:
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except FileNotFoundError:
        raise UsageError(f"model file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"model file {path} is a directory; name the .gguf file in it") from None
    except OSError as exc:
        raise UsageError(f"model file {path} cannot be read: {exc.strerror or exc}") from None
    if magic != GGUF_MAGIC:
        raise UsageError(f"model file {path} is not a GGUF file (llama.cpp runs GGUF models only)")


def _meta(lib: Any, model: Any, key: str) -> str:
    """A metadata value as text, "" when the key is missing."""
    size = 256
    while True:
        buf = ctypes.create_string_buffer(size)
        n = lib.llama_model_meta_val_str(model, key.encode(), buf, size)
        if n < size:
            return buf.value.decode("utf-8", "replace") if n >= 0 else ""
        size = n + 1


def _open(lib: Any, path: Path, n_ctx: int, n_threads: int, verbose: bool) -> Any:
    try:
        return lib.Llama(model_path=str(path), n_ctx=n_ctx, n_batch=min(n_ctx, 512), n_threads=n_threads,
                         n_threads_batch=n_threads, verbose=verbose)
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"llama.cpp could not open {path} with a {n_ctx}-token context: {exc}") from None


def check_grammar(lib: Any, llm: Any, text: str) -> None:
    """Raise ModelError unless llama.cpp's grammar parser accepts `text`."""
    vocab = lib.llama_model_get_vocab(llm.model)
    sampler = lib.llama_sampler_init_grammar(vocab, text.encode("utf-8"), b"root")
    if not sampler:
        raise ModelError("llama.cpp rejected the tool call grammar (a bug in Freehold: please report it)")
    lib.llama_sampler_free(sampler)


# ---------------------------------------------------------------------------------------------
# Messages in, reply out


def chat_messages(messages: Sequence[Message], tools: Sequence[Tool]) -> list[dict[str, str]]:
    """The conversation as plain role/content pairs any chat template takes, the Hermes way:
    tools in the system prompt, calls as `<tool_call>` text, results in one user turn of
    `<tool_response>` blocks (as Qwen2.5's template does). Reasoning is never sent back."""
    chat: list[dict[str, str]] = []
    after_result = False
    for message in messages:
        if message.role == "tool":
            block = f"<tool_response>\n{message.content}\n</tool_response>"
            if after_result:
                chat[-1]["content"] += "\n" + block
            else:
                chat.append({"role": "user", "content": block})
        elif message.role == "assistant":
            chat.append({"role": "assistant", "content": _with_calls(message)})
        else:
            chat.append({"role": message.role, "content": message.content})
        after_result = message.role == "tool"
    return _with_tools(chat, tools) if tools else chat


def _with_calls(message: Message) -> str:
    """The reply as the model wrote it: its text, then each call (arguments as JSON text)."""
    calls = [f'{{"name": {json.dumps(c.name, ensure_ascii=False)}, "arguments": {c.arguments or "{}"}}}'
             for c in message.tool_calls]
    blocks = [f"<tool_call>\n{call}\n</tool_call>" for call in calls]
    return "\n".join([message.content, *blocks] if message.content else blocks)


def _with_tools(chat: list[dict[str, str]], tools: Sequence[Tool]) -> list[dict[str, str]]:
    described = "".join("\n" + json.dumps(tool.schema(), ensure_ascii=False) for tool in tools)
    block = TOOLS_INTRO + described + TOOLS_OUTRO
    if chat and chat[0]["role"] == "system":
        return [{"role": "system", "content": chat[0]["content"] + "\n\n" + block}, *chat[1:]]
    return [{"role": "system", "content": block}, *chat]


def _reply(text: str, tool_names: list[str], usage: Usage, cut: bool) -> Reply:
    answer, reasoning = split_reasoning(text)
    answer, found = extract_text_tool_calls(answer, tool_names)
    calls = [ToolCall(f"call_{i}", call.name, call.arguments) for i, call in enumerate(found)]
    finish = "length" if cut else "tool_calls" if calls else "stop"
    return Reply(answer, calls, reasoning, usage, finish)
