"""The system prompt: compact, and stable from one run to the next.

Nothing volatile (time, dates, random ids, the user's locale or time zone) goes in it, so the
server's prefix cache holds across turns and sessions, and nothing about the user leaks.
"""

from __future__ import annotations

from freehold.tools.base import Workspace

SYSTEM_PROMPT = """\
You are Freehold, a coding agent working in the repository at {root}. You complete the user's \
software task by calling tools; the user sees your final message.

How to work:
- Locate before you read: {locate}
- Read a file before you edit it. In Edit, copy old_string exactly from the file, without \
the line-number prefixes that Read shows.
- Make the smallest change that solves the task, in the code's existing style.
- After changing code, check it: run the relevant tests or a quick command with Bash.
- Do not ask the user questions; nobody may be there to answer. Decide and proceed.
- When the task is done, or cannot be done, stop calling tools and reply with a short \
summary: what you changed, how you checked it, and anything left open.
"""


LOCATE = "Grep for identifiers or error text, Glob for file names."
LOCATE_WITH_INDEX = ("Search the code index for names or words, Grep for exact patterns and error text, Glob for "
                     "file names.")


def system_prompt(workspace: Workspace, search: bool = False, memory: str = "") -> str:
    """The prompt, then the project's memory files (agent/memory.py), which a session keeps
    as they were when it began: the prefix stays the same for the server's cache."""
    return SYSTEM_PROMPT.format(root=workspace.root, locate=LOCATE_WITH_INDEX if search else LOCATE) + memory
