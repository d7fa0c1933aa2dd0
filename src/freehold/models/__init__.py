"""Model clients: the wire formats of the servers Freehold talks to.

    openai_compat.py  request bytes, HTTP over httpx, SSE, bounded retries
    stream.py         ReplyBuilder: one reply from any server's chunks (or a whole response)
    dialects.py       think blocks and tool calls written as text
"""
