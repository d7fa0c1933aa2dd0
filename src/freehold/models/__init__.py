"""Talking to model servers: the OpenAI-compatible client, model dialects and profiles."""
