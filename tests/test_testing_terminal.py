"""The pseudo-terminal harness the UI tests stand on: it must see what a terminal shows."""

from __future__ import annotations

import os
import sys

import pytest

from freehold.testing_terminal import Terminal

ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}


def python(code: str, tmp_path, rows: int = 10, cols: int = 60) -> Terminal:
    return Terminal([sys.executable, "-c", code], env=ENV, cwd=tmp_path, rows=rows, cols=cols)


def test_colours_are_drawn_not_shown_and_keys_arrive(tmp_path):
    code = "import sys; print('\\x1b[31mred\\x1b[0m ready'); line = input(); print('got', line); sys.exit(3)"
    with python(code, tmp_path) as term:
        term.wait_for("red ready")
        assert "\x1b" not in term.screen_text()
        term.send("hello")
        term.send_key("enter")
        term.wait_for("got hello")
        assert term.wait_exit() == 3


def test_a_resize_reaches_the_program(tmp_path):
    code = ("import os, signal, sys, time\n"
            "signal.signal(signal.SIGWINCH, lambda *a: print('size', *os.get_terminal_size(), flush=True))\n"
            "print('waiting', flush=True)\n"
            "time.sleep(10)\n")
    with python(code, tmp_path) as term:
        term.wait_for("waiting")
        term.resize(12, 70)
        term.wait_for("size 70 12")


def test_a_timeout_shows_the_screen(tmp_path):
    with python("print('something else'); import time; time.sleep(5)", tmp_path) as term:
        with pytest.raises(AssertionError, match="something else"):
            term.wait_for("never", timeout=0.5)
