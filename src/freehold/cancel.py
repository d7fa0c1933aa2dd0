"""Stopping a run at once: the front end raises a `Cancel`, and whatever is running obeys it.

The model client shuts its stream's socket, a command's process group is stopped, a wait for a
person ends. Commands find the signal through `current()`, set by `active()` in the thread that
runs the agent, so no tool has to carry it in its arguments.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterator

from freehold.errors import Interrupted

_current: contextvars.ContextVar[Cancel | None] = contextvars.ContextVar("freehold_cancel", default=None)


class Cancel:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        """Raise the signal and run every hook registered now (from the caller's thread)."""
        with self._lock:
            self._event.set()
            hooks = list(self._hooks)
        for hook in hooks:
            with contextlib.suppress(Exception):  # a hook that fails must not stop the others
                hook()

    def clear(self) -> None:
        self._event.clear()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once when cancelled; True if cancelled."""
        return self._event.wait(seconds)

    def check(self) -> None:
        if self.is_set:
            raise Interrupted("interrupted by the user")

    @contextlib.contextmanager
    def hook(self, action: Callable[[], None]) -> Iterator[None]:
        """Run `action` if the signal is raised while inside this block (at once if it already was)."""
        with self._lock:
            self._hooks.append(action)
            raised = self._event.is_set()
        if raised:
            action()
        try:
            yield
        finally:
            with self._lock:
                self._hooks.remove(action)

    @contextlib.contextmanager
    def active(self) -> Iterator[Cancel]:
        """Make this the signal `current()` returns in this thread for the block."""
        token = _current.set(self)
        try:
            yield self
        finally:
            _current.reset(token)


def current() -> Cancel | None:
    return _current.get()
