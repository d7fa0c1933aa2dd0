"""Models: the wire formats of the servers Freehold talks to, and a model run in-process.

    openai_compat.py  request bytes, HTTP over httpx, SSE, bounded retries
    stream.py         ReplyBuilder: one reply from any server's chunks (or a whole response)
    dialects.py       think blocks and tool calls written as text
    profiles.py       model profiles (profiles/*.toml): dialect, reasoning, sampling, known window
    window.py         the context window the server really serves; token counting
    budget.py         every request fitted to the context window, or a clear stop
    llamacpp.py       LocalModel: a GGUF run in-process by llama.cpp, replies held to the tool grammar
    grammar.py        JSON schema to GBNF; the Hermes tool-call grammar
    gguf_tiny.py      a tiny random-weight GGUF for tests and benchmarks
    pull.py           resumable, verified GGUF downloads through the egress point
    qualify.py        the tool-call battery and its scores
    command.py        `freehold models pull / list`, `freehold qualify`
"""
