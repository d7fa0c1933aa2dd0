"""The cancel signal: hooks run once when raised, at once when registered after, never after."""

from __future__ import annotations

import threading

import pytest

from freehold.cancel import Cancel, current
from freehold.errors import Interrupted


def test_hooks_run_when_raised_and_not_after_their_block() -> None:
    stop, calls = Cancel(), []
    with stop.hook(lambda: calls.append("inside")):
        stop.set()
    stop.clear()
    stop.set()
    assert calls == ["inside"]


def test_a_hook_registered_after_the_signal_runs_at_once() -> None:
    stop, calls = Cancel(), []
    stop.set()
    with stop.hook(lambda: calls.append("late")):
        assert calls == ["late"]


def test_a_failing_hook_does_not_stop_the_others() -> None:
    stop, calls = Cancel(), []
    with stop.hook(lambda: 1 / 0), stop.hook(lambda: calls.append("second")):
        stop.set()
    assert calls == ["second"]


def test_check_raises_interrupted_and_current_is_per_thread() -> None:
    stop = Cancel()
    seen: list[object] = []
    with stop.active():
        assert current() is stop
        worker = threading.Thread(target=lambda: seen.append(current()))
        worker.start()
        worker.join()
    assert seen == [None] and current() is None
    stop.check()
    stop.set()
    with pytest.raises(Interrupted):
        stop.check()
