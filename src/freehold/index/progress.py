"""A one-line progress bar on stderr, for indexing that takes long enough to wonder about.

It draws only when stderr is a terminal and the work has already taken half a second, and it
erases itself when done, so quick updates and logs to files stay clean.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

_DELAY = 0.5
_EVERY = 0.1
_WIDTH = 24


class Bar:
    def __init__(self, label: str, stream: TextIO | None) -> None:
        self.label = label
        self.stream = stream
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.drawn = False

    @classmethod
    def for_stderr(cls, label: str) -> Bar:
        stream = sys.stderr if sys.stderr is not None and sys.stderr.isatty() else None
        return cls(label, stream)

    def update(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.stream is None or now - self.started < _DELAY or (now - self.drawn_at < _EVERY and done < total):
            return
        filled = _WIDTH * done // max(total, 1)
        self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (_WIDTH - filled)}] {done}/{total} files")
        self.stream.flush()
        self.drawn_at, self.drawn = now, True

    def close(self) -> None:
        if self.stream is not None and self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
