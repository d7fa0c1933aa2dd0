"""A real terminal for tests and benchmarks: a program in a pseudo-terminal (pexpect), its
output drawn on a virtual screen (pyte) as a terminal emulator would, so a test reads what a
person would see and sends the keys a person would press.

pexpect and pyte are development dependencies, imported when a Terminal is made.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

KEYS = {
    "enter": "\r", "esc": "\x1b", "tab": "\t", "backspace": "\x7f", "ctrl-c": "\x03", "ctrl-d": "\x04",
    "ctrl-j": "\n", "alt-enter": "\x1b\r", "up": "\x1b[A", "down": "\x1b[B", "right": "\x1b[C", "left": "\x1b[D",
}
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78MDEc]")


class Terminal:
    def __init__(self, argv: Sequence[str], *, env: dict[str, str], cwd: str | Path,
                 rows: int = 40, cols: int = 110) -> None:
        import pexpect
        import pyte

        self._pexpect = pexpect
        self.screen = pyte.Screen(cols, rows)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""  # every byte the program wrote, for what scrolled away
        env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES")}
        env["TERM"] = "xterm-256color"
        self.child = pexpect.spawn(argv[0], list(argv[1:]), env=env, cwd=str(cwd), dimensions=(rows, cols),
                                   encoding=None, echo=False)
        # Answer the queries a terminal answers (the cursor position, above all), as xterm does.
        self.screen.write_process_input = lambda data: self.child.send(data.encode())

    # -- reading ---------------------------------------------------------------------------

    def read(self, timeout: float = 0.05) -> bool:
        """Take what the program has written within `timeout`; False at end of output."""
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except self._pexpect.TIMEOUT:
            return True
        except self._pexpect.EOF:
            return False
        self.raw += data
        self.stream.feed(data)
        return True

    def screen_text(self) -> str:
        lines = [line.rstrip() for line in self.screen.display]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)

    @property
    def transcript(self) -> str:
        """Everything written so far as plain text (escape sequences removed)."""
        return _ANSI.sub("", self.raw.decode("utf-8", "replace")).replace("\r", "")

    def wait_until(self, done: Callable[[], bool], timeout: float = 30, what: str = "the condition") -> None:
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; the screen:\n{self.screen_text()}")
            if not self.read() and not done():
                raise AssertionError(f"the program ended while waiting for {what}; the screen:\n{self.screen_text()}")

    def wait_for(self, text: str | re.Pattern[str], timeout: float = 30) -> None:
        """Until the screen shows `text` (a string, or a compiled pattern)."""
        if isinstance(text, str):
            self.wait_until(lambda: text in self.screen_text(), timeout, repr(text))
        else:
            self.wait_until(lambda: text.search(self.screen_text()) is not None, timeout, text.pattern)

    # -- writing ---------------------------------------------------------------------------

    def send(self, text: str) -> None:
        self.child.send(text.encode())
        self.read(0.05)

    def send_key(self, name: str) -> None:
        self.send(KEYS[name])

    def resize(self, rows: int, cols: int) -> None:
        self.screen.resize(rows, cols)
        self.child.setwinsize(rows, cols)
        self.read(0.1)

    def capture(self, path: Path) -> None:
        path.write_text(self.screen_text() + "\n")

    # -- ending ----------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return bool(self.child.isalive())

    def wait_exit(self, timeout: float = 30) -> int:
        """The exit code, reading the output until the program ends (a signal gives 128 + N)."""
        end = time.monotonic() + timeout
        while self.read(0.1):
            if time.monotonic() > end:
                raise AssertionError(f"the program did not exit within {timeout}s; the screen:\n{self.screen_text()}")
        self.child.wait()
        self.child.close()
        if self.child.signalstatus is not None:
            return 128 + int(self.child.signalstatus)
        return int(self.child.exitstatus or 0)

    def close(self) -> None:
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
