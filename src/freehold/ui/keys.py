"""Keys pressed while the agent works: Esc interrupts, the rest is kept as type-ahead.

While a run is in progress the terminal is in cbreak mode (no echo, no line buffering, but
Ctrl-C still raises SIGINT), and the UI polls this watcher between events.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
import termios
import tty
from collections.abc import Iterator

ESC = "\x1b"
# How long a lone Esc waits for the rest of an escape sequence (an arrow key sends "\x1b[A").
_SEQUENCE_WAIT = 0.03


class KeyWatcher:
    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.typed = ""  # printable type-ahead, offered as the next prompt's text
        self._saved: list | None = None

    @contextlib.contextmanager
    def watching(self) -> Iterator[KeyWatcher]:
        """Cbreak mode for the block; the terminal is restored however it ends."""
        try:
            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)
        except termios.error:  # not a terminal: nothing to watch
            self._saved = None
        try:
            yield self
        finally:
            self.pause()

    def pause(self) -> None:
        if self._saved is not None:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def resume(self) -> None:
        if self._saved is not None:
            tty.setcbreak(self.fd, termios.TCSANOW)

    def poll(self, timeout: float = 0.0, keep: bool = True) -> str | None:
        """"esc" if Esc was pressed, "enter", a single printable key, or None. With `keep`,
        printable keys also go to `typed`."""
        if self._saved is None or not self._ready(timeout):
            return None
        data = os.read(self.fd, 1024).decode("utf-8", "replace")
        if data == ESC and self._ready(_SEQUENCE_WAIT):
            data += os.read(self.fd, 1024).decode("utf-8", "replace")
        if data == ESC:
            return "esc"
        if data.startswith(ESC):  # arrows, function keys: ignored
            return None
        if data in ("\r", "\n"):
            return "enter"
        if len(data) == 1 and data.isprintable():
            self.typed += data if keep else ""
            return data
        if data in ("\x7f", "\b"):
            self.typed = self.typed[:-1]
            return None
        if keep:
            self.typed += "".join(c for c in data if c.isprintable() or c == "\n")
        return None

    def drain(self) -> None:
        """Move whatever was typed ahead into `typed` (an Esc in it is dropped)."""
        while self._saved is not None and self._ready(0):
            self.poll()

    def take_typed(self) -> str:
        typed, self.typed = self.typed, ""
        return typed

    def _ready(self, timeout: float) -> bool:
        try:
            return bool(select.select([self.fd], [], [], timeout)[0])
        except (OSError, ValueError):
            return False
