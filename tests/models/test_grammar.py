"""JSON schema to GBNF and the tool call grammar: models/grammar.py.

What a grammar accepts is asked of llama.cpp's own grammar engine (token by token, on the tiny
GGUF's byte-level vocabulary); those tests skip without llama-cpp-python unless
FREEHOLD_REQUIRE_LLAMA is set (CI sets it). The text checks need nothing.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import math
import os
import re
from typing import Any

import pytest

from freehold.models.grammar import literal, schema_grammar, tool_call_grammar
from freehold.tools import default_tools
from freehold.tools.schema import validate_arguments

TOOLS = default_tools()


def need(module: str) -> Any:
    """`module`, or a skip when it is missing, unless FREEHOLD_REQUIRE_LLAMA (CI) makes that a failure."""
    if os.environ.get("FREEHOLD_REQUIRE_LLAMA"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{module} is not installed (pip install -e '.[local]')")


def call(name: str, arguments: dict[str, Any] | str) -> str:
    args = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
    return f'<tool_call>\n{{"name": "{name}", "arguments": {args}}}\n</tool_call>'


# --- the text -------------------------------------------------------------------------------


def rules_of(grammar: str) -> dict[str, str]:
    return dict(line.split(" ::= ", 1) for line in grammar.splitlines())


@pytest.mark.parametrize("allow_text", [True, False])
@pytest.mark.parametrize("max_string", [None, 40])
def test_every_rule_used_is_defined_once_and_named_as_llama_cpp_allows(allow_text, max_string):
    grammar = tool_call_grammar(TOOLS, allow_text=allow_text, max_string=max_string)
    lines = grammar.splitlines()
    rules = rules_of(grammar)
    assert len(rules) == len(lines) and lines[0].startswith("root ::= ")
    assert all(re.fullmatch(r"[a-zA-Z0-9-]+", name) for name in rules)
    no_literals = re.sub(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\]', " ", grammar)
    used = set(re.findall(r"[a-zA-Z][a-zA-Z0-9-]*", no_literals.replace("::=", " "))) - set(rules)
    assert used == set()
    assert not re.search(r"[\x00-\x09\x0b-\x1f]", grammar)  # only escapes, never the characters


def test_the_same_tools_give_the_same_grammar_and_strings_share_one_rule():
    grammar = tool_call_grammar(TOOLS, max_string=64)
    assert grammar == tool_call_grammar(default_tools(), max_string=64)
    assert grammar.count("char{0,64}") == 1


def test_no_tools_is_an_error():
    with pytest.raises(ValueError):
        tool_call_grammar([])


def test_literals_escape_quotes_backslashes_and_control_characters():
    assert literal('a"b\\c\nd\x01é') == '"a\\"b\\\\c\\nd\\x01é"'


# --- what llama.cpp accepts -----------------------------------------------------------------


class Oracle:
    """Asks llama.cpp's grammar sampler whether a grammar takes a text, token by token."""

    def __init__(self, lib: Any, llm: Any) -> None:
        self.lib, self.llm = lib, llm
        self.vocab = lib.llama_model_get_vocab(llm.model)

    def parses(self, grammar: str) -> bool:
        sampler = self.lib.llama_sampler_init_grammar(self.vocab, grammar.encode(), b"root")
        if sampler:
            self.lib.llama_sampler_free(sampler)
        return bool(sampler)

    def accepts(self, grammar: str, text: str) -> bool:
        """Whether `text` is a whole sentence of `grammar` (the end-of-generation token may follow)."""
        sampler = self.lib.llama_sampler_init_grammar(self.vocab, grammar.encode(), b"root")
        assert sampler, "llama.cpp did not parse the grammar"
        try:
            for token in self.llm.tokenize(text.encode(), add_bos=False, special=False):
                if not self._allowed(sampler, token):
                    return False
                self.lib.llama_sampler_accept(sampler, token)
            return self._allowed(sampler, self.llm.token_eos())
        finally:
            self.lib.llama_sampler_free(sampler)

    def _allowed(self, sampler: Any, token: int) -> bool:
        lib = self.lib
        data = (lib.llama_token_data * 1)(lib.llama_token_data(token, 0.0, 0.0))
        candidates = lib.llama_token_data_array(data, 1, -1, False)
        lib.llama_sampler_apply(sampler, ctypes.byref(candidates))
        return not math.isinf(data[0].logit)


@pytest.fixture(scope="module")
def oracle(tmp_path_factory):
    lib = need("llama_cpp")
    from freehold.models.gguf_tiny import write_tiny_gguf

    path = write_tiny_gguf(tmp_path_factory.mktemp("gguf") / "tiny.gguf")
    llm = lib.Llama(str(path), n_ctx=4096, n_threads=1, verbose=False)
    yield Oracle(lib, llm)
    llm.close()


@pytest.fixture(scope="module")
def forced() -> str:
    return tool_call_grammar(TOOLS, allow_text=False, max_string=40)


@pytest.fixture(scope="module")
def either() -> str:
    return tool_call_grammar(TOOLS, max_string=40)


@pytest.mark.parametrize("allow_text", [True, False])
@pytest.mark.parametrize("max_string", [None, 40, 5000])
def test_llama_cpp_parses_the_grammar_for_our_tools(oracle, allow_text, max_string):
    assert oracle.parses(tool_call_grammar(TOOLS, allow_text=allow_text, max_string=max_string))
    assert not oracle.parses("root ::= undefined-rule")  # the oracle can say no


@pytest.mark.parametrize("text", [
    call("Read", {"file_path": "calc.py"}),
    call("Read", {"file_path": "calc.py", "offset": 10, "limit": 20}),
    call("Read", '{"file_path":"calc.py","limit":-3}'),
    call("Edit", {"file_path": "a.py", "old_string": "x = 1\n", "new_string": "x = \"2\"\t\\", "replace_all": True}),
    call("Write", {"file_path": "é/漢.txt", "content": "\u0000 and \u00e9 escaped"}),
    call("Bash", {"command": "pytest -q", "timeout": 30.5}),
    call("Grep", {"pattern": "def add", "output_mode": "content", "-i": False}),
    call("Glob", {"pattern": "**/*.py"}),
    call("Read", {"file_path": "a"}) + "\n" + call("Glob", {"pattern": "*"}),
])
def test_well_formed_calls_are_accepted(oracle, forced, either, text):
    assert oracle.accepts(forced, text)
    assert oracle.accepts(either, text)


@pytest.mark.parametrize("text", [
    call("Delete", {"file_path": "a"}),                              # no such tool
    call("Read", {}),                                                # a required key missing
    call("Read", {"file_path": "a", "encoding": "utf-8"}),           # an unknown key
    call("Read", {"offset": 1, "file_path": "a"}),                   # out of order (stricter than the schema)
    call("Read", '{"file_path": "line\nbreak"}'),                    # a raw newline in a string
    call("Read", '{"file_path": "bell\x07"}'),                       # a raw control character
    call("Read", '{"file_path": "\\ud800"}'),                        # a lone surrogate escape
    call("Read", '{"file_path": "\\x41"}'),                          # not a JSON escape
    call("Read", {"file_path": "a" * 41}),                           # longer than max_string
    call("Read", '{"file_path": "a", "offset": 01}'),                # a leading zero
    call("Read", '{"file_path": "a", "offset": 1.5}'),               # a fraction for an integer
    call("Bash", '{"command": "x", "timeout": 1e999}'),              # an exponent (this one is inf)
    call("Grep", {"pattern": "x", "output_mode": "lines"}),          # outside the enum
    call("Read", {"file_path": "a"}) + "\nand then some words",      # text after the calls
    call("Read", {"file_path": "a"})[:-1],                           # cut short
    "",
])
def test_malformed_calls_are_refused(oracle, forced, either, text):
    assert not oracle.accepts(forced, text)
    assert not oracle.accepts(either, text)


def test_text_is_an_answer_only_where_allowed(oracle, forced, either):
    for text in ("The add function subtracts.", "<b>bold</b>", "a <tool_ca b", "x\n<tool_call"):
        assert oracle.accepts(either, text), text
        assert not oracle.accepts(forced, text), text


def test_text_may_precede_calls_but_never_holds_an_unchecked_one(oracle, either):
    assert oracle.accepts(either, "I'll read it.\n" + call("Read", {"file_path": "calc.py"}))
    assert not oracle.accepts(either, "I'll read it. <tool_call> is how I call tools.")
    assert not oracle.accepts(either, "<tool_call>\nnot json\n</tool_call>")


def test_the_number_of_calls_is_bounded(oracle):
    one = tool_call_grammar(TOOLS, allow_text=False, max_calls=1)
    single = call("Glob", {"pattern": "*"})
    assert oracle.accepts(one, single)
    assert not oracle.accepts(one, single + "\n" + single)
    with pytest.raises(ValueError):
        tool_call_grammar(TOOLS, max_calls=0)


def test_near_misses_of_the_call_tag_are_text(oracle, either):
    for text in ("<<tool_call", "a <tool_calx> b", "<tool_call", "</tool_call>", "<tool_<tool_cal"):
        assert oracle.accepts(either, text), text


def test_arrays_objects_and_any_value_follow_the_schema(oracle):
    schema = {"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
        "meta": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},
        "anything": {},
        "maybe": {"type": ["integer", "null"]},
    }}
    grammar = schema_grammar(schema, max_string=20)
    assert oracle.parses(grammar)
    for good in ('{}', '{"tags": []}', '{"tags": ["a", "b"]}', '{"meta": {"n": 3}}', '{"maybe": null}',
                 '{"anything": {"x": [1, {"y": true}, "z"]}, "maybe": 2}', '{"meta":{"n":0},"anything":null}'):
        assert oracle.accepts(grammar, good), good
    for bad in ('{"tags": ["a", "b", "c"]}', '{"meta": {}}', '{"tags": [1]}', '{"maybe": "2"}', "[]"):
        assert not oracle.accepts(grammar, bad), bad


def test_twenty_constrained_generations_are_valid_calls(oracle, forced):
    """The tiny random model, forced to call a tool: every call parses, names a tool, fits its schema."""
    llm, lib = oracle.llm, oracle.lib
    grammar = lib.LlamaGrammar.from_string(forced, verbose=False)
    prompt = llm.tokenize(b"<|im_start|>user\nRead calc.py<|im_end|>\n<|im_start|>assistant\n", special=True)
    by_name = {tool.name: tool for tool in TOOLS}
    for seed in range(20):
        llm.set_seed(seed)
        text = generate(llm, lib, prompt, grammar)
        for block in re.findall(r"<tool_call>\n(.*?)\n</tool_call>", text, re.DOTALL):
            data = json.loads(block)
            validate_arguments(data["arguments"], by_name[data["name"]].parameters)
        assert text.startswith("<tool_call>") and text.endswith("</tool_call>"), (seed, text)


def generate(llm: Any, lib: Any, prompt: list[int], grammar: Any, limit: int = 2000) -> str:
    vocab = lib.llama_model_get_vocab(llm.model)
    out: list[int] = []
    for token in llm.generate(prompt, temp=0.8, grammar=grammar):
        if lib.llama_vocab_is_eog(vocab, token) or len(out) == limit:
            break
        out.append(token)
    return llm.detokenize(out).decode("utf-8", "replace")
