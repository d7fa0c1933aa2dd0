"""The agent: the loop that turns a prompt into model calls and tool calls, and its sessions.

    loop.py     Agent.run: ask the model, act on each call, stop on an answer or the turn limit
    session.py  SessionStore / Session: SQLite, one commit per message, append-only migrations
    prompt.py   the compact, stable system prompt
"""
