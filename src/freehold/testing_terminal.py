"""A real terminal for tests and benchmarks: a program in a pseudo-terminal (pexpect), its
output drawn on a virtual screen (pyte) as a terminal emulator would, so a test reads what a
person would see and sends the keys a person would press.

pexpect and pyte are development dependencies, imported when a Terminal is made: Freehold's
start-up never loads them.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

KEYS = {
    "enter": "\r", "esc": "\x1b", "tab": "\t", "backspace": "\x7f", "ctrl-c": "\x03", "ctrl-d": "\x04",
    "ctrl-j": "\n", "alt-enter": "\x1b\r", "up": "\x1b[A", "down": "\x1b[B", "right": "\x1b[C", "left": "\x1b[D",
}
# CSI and OSC sequences, charset selection and the one-character escapes: what a terminal
# interprets rather than shows.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78MDEc]")


class Terminal:
    """`argv` running in a `rows` x `cols` pseudo-terminal, read through a pyte screen.

    Reading is explicit: `read`, `wait_for`, `wait_until` and `wait_exit` pump the program's
    output onto the screen; the screen only changes while one of them runs.
    """

    def __init__(self, argv: Sequence[str], *, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
                 rows: int = 40, cols: int = 110, echo: bool = True) -> None:
        import pexpect
        import pyte

        self._pexpect = pexpect
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self._output = bytearray()  # every byte the program wrote, for what scrolled away
        environment = {k: v for k, v in (os.environ if env is None else env).items() if k not in ("COLUMNS", "LINES")}
        environment["TERM"] = "xterm-256color"
        self.child = pexpect.spawn(argv[0], list(argv[1:]), env=environment, cwd=str(cwd or os.getcwd()),
                                   dimensions=(rows, cols), encoding=None, echo=echo)
        # Answer the queries a terminal answers (the cursor position above all: prompt_toolkit
        # asks for it and waits), as xterm would.
        self.screen.write_process_input = lambda data: self.child.send(data.encode())

    # -- reading ---------------------------------------------------------------------------

    def read(self, timeout: float = 0.05) -> bool:
        """Take what the program writes within `timeout` onto the screen; False once it has
        closed the terminal (it ended)."""
        try:
            data = self.child.read_nonblocking(65536, timeout=timeout)
        except self._pexpect.TIMEOUT:
            return True
        except self._pexpect.EOF:
            return False
        self._output += data
        self._stream.feed(data)
        return True

    def _dump(self) -> str:
        return f"the screen:\n{self.screen_text()}"

    def screen_text(self) -> str:
        """The screen as a person sees it: lines without trailing spaces, no empty lines at the end."""
        lines = [line.rstrip() for line in self.screen.display]
        while lines and not lines[-1]:
            lines.pop()
        return "\n".join(lines)

    @property
    def transcript(self) -> str:
        """Everything written so far as plain text (escape sequences and carriage returns
        removed), including what has scrolled off the screen or been redrawn over."""
        return _ESCAPES.sub("", self._output.decode("utf-8", "replace")).replace("\r", "")

    def wait_until(self, done: Callable[[], bool], timeout: float = 20, what: str = "the condition") -> None:
        """Read until `done()` holds; AssertionError with the screen if it does not within
        `timeout` seconds or the program ends first."""
        end = time.monotonic() + timeout
        while not done():
            if time.monotonic() > end:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}; {self._dump()}")
            if not self.read() and not done():
                raise AssertionError(f"the program ended while waiting for {what}; {self._dump()}")

    def wait_for(self, text: str | re.Pattern[str], timeout: float = 20) -> None:
        """Read until the screen shows `text` (a string, or a compiled pattern searched for)."""
        what = repr(text) if isinstance(text, str) else f"/{text.pattern}/"
        self.wait_until(lambda: self.shows(text), timeout, what)

    def shows(self, text: str | re.Pattern[str]) -> bool:
        """Whether the screen shows `text`, in `screen_text` or in the lines as drawn with their
        trailing spaces (so that a prompt such as "name? " is found too)."""
        views = (self.screen_text(), "\n".join(self.screen.display))
        if isinstance(text, str):
            return any(text in view for view in views)
        return any(text.search(view) is not None for view in views)

    # -- writing ---------------------------------------------------------------------------

    def send(self, text: str) -> None:
        """Type `text`, then read briefly (the program may ask the terminal something back)."""
        self.child.send(text.encode())
        self.read()

    def send_key(self, name: str) -> None:
        """Press a key by name: one of `KEYS`."""
        if name not in KEYS:
            raise ValueError(f"unknown key {name!r}; one of {', '.join(KEYS)}")
        self.send(KEYS[name])

    def resize(self, rows: int, cols: int) -> None:
        """Resize the window, as dragging its corner does: the program gets SIGWINCH."""
        self.screen.resize(rows, cols)
        self.child.setwinsize(rows, cols)
        self.read()

    def capture(self, path: str | Path) -> None:
        Path(path).write_text(self.screen_text() + "\n", encoding="utf-8")

    # -- ending ----------------------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return bool(self.child.isalive())

    @property
    def exitstatus(self) -> int | None:
        """The exit code once the program has ended (128 + N for signal N), else None."""
        if self.child.isalive():
            return None
        if self.child.signalstatus is not None:
            return 128 + int(self.child.signalstatus)
        return int(self.child.exitstatus or 0)

    def wait_exit(self, timeout: float = 20) -> int:
        """Read until the program ends, and return its `exitstatus`."""
        end = time.monotonic() + timeout
        while self.read(0.1):
            self._check_deadline(end, timeout)
        while self.child.isalive():  # it closed the terminal but has not ended yet
            self._check_deadline(end, timeout)
            time.sleep(0.01)
        status = self.exitstatus
        assert status is not None
        return status

    def _check_deadline(self, end: float, timeout: float) -> None:
        if time.monotonic() > end:
            raise AssertionError(f"the program did not exit within {timeout}s; {self._dump()}")

    def close(self) -> None:
        """End the program if it still runs (SIGHUP, SIGINT, then SIGKILL) and free the terminal."""
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
