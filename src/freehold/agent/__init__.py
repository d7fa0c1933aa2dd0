"""The agent: the loop that turns a prompt into model calls and tool calls, and its sessions."""
