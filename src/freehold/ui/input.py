"""The prompt: multi-line editing, history across sessions, completion of /commands and
@paths, and large pastes folded into a placeholder until the prompt is sent.

Enter sends; Alt-Enter, Ctrl-J or a line ending in a backslash starts a new line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.formatted_text import HTML
from prompt_toolkit.history import FileHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.keys import Keys

PROMPT = "› "
# A paste longer than this stays out of the editor, as `[Pasted text #1 +240 lines]`.
PASTE_LINES = 12
PASTE_CHARS = 1500
_PLACEHOLDER = re.compile(r"\[Pasted text #(\d+) \+\d+ lines\]")


class Pastes:
    """Large pastes, kept whole while the editor shows a placeholder for each."""

    def __init__(self) -> None:
        self.texts: dict[int, str] = {}

    def fold(self, text: str) -> str:
        """What to insert for a paste: itself if small, else a placeholder."""
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = text.count("\n") + 1
        if lines <= PASTE_LINES and len(text) <= PASTE_CHARS:
            return text
        number = len(self.texts) + 1
        self.texts[number] = text
        return f"[Pasted text #{number} +{lines} lines]"

    def expand(self, prompt: str) -> str:
        return _PLACEHOLDER.sub(lambda m: self.texts.get(int(m.group(1)), m.group(0)), prompt)


class PromptCompleter(Completer):
    """`/` at the start completes commands; `@` anywhere completes paths in the workspace."""

    def __init__(self, commands: Callable[[], dict[str, str]], files: Callable[[], list[str]]) -> None:
        self.commands = commands
        self.files = files

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        before = document.text_before_cursor
        if before.startswith("/") and " " not in before:
            for name, description in sorted(self.commands().items()):
                if name.startswith(before[1:]):
                    yield Completion(name, -len(before) + 1, display=f"/{name}", display_meta=description)
            return
        match = re.search(r"@([^\s@]*)$", before)
        if match is None:
            return
        typed = match.group(1)
        found = 0
        for path in self.files():
            if _path_matches(path, typed):
                yield Completion(path, -len(typed), display=path)
                found += 1
                if found >= 50:
                    return


def _path_matches(path: str, typed: str) -> bool:
    if not typed:
        return "/" not in path
    return path.startswith(typed) or typed.lower() in path.lower()


def bindings(pastes: Pastes) -> KeyBindings:
    keys = KeyBindings()

    @keys.add(Keys.Enter)
    def _send(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.complete_state is not None and buffer.complete_state.current_completion is not None:
            buffer.apply_completion(buffer.complete_state.current_completion)
        elif buffer.document.text_before_cursor.endswith("\\"):
            buffer.delete_before_cursor()
            buffer.insert_text("\n")
        else:
            buffer.validate_and_handle()

    @keys.add(Keys.Escape, Keys.Enter)
    @keys.add(Keys.ControlJ)
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    @keys.add(Keys.BracketedPaste)
    def _paste(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text(pastes.fold(event.data))

    return keys


def prompt_session(history: Path, completer: Completer, pastes: Pastes,
                   toolbar: Callable[[], HTML | str]) -> PromptSession[str]:
    """The session every prompt is read with. History is one file, private to the user (it
    holds what they typed), shared by every Freehold session on this machine."""
    history.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not history.exists():
        os.close(os.open(history, os.O_CREAT | os.O_WRONLY, 0o600))
    return PromptSession(history=FileHistory(str(history)), completer=completer, complete_while_typing=True,
                         key_bindings=bindings(pastes), multiline=True, bottom_toolbar=toolbar,
                         prompt_continuation="  ", enable_history_search=False, mouse_support=False)
