"""The test terminal against real programs: what they print is drawn as a terminal draws it,
keys reach them, a resize reaches them as SIGWINCH, and their exit codes come back.

Every wait is bounded; none asserts how fast anything is.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pytest

from freehold.testing_terminal import Terminal


def python(code: str, rows: int = 24, cols: int = 80, env: dict[str, str] | None = None) -> Terminal:
    return Terminal([sys.executable, "-c", code], env=env, cwd=Path.cwd(), rows=rows, cols=cols)


def test_a_program_reads_a_typed_line_and_its_exit_code_comes_back(tmp_path):
    code = "import sys; name = input('name? '); print(f'hello {name}'); sys.exit(3)"
    with python(code) as term:
        term.wait_for("name? ")
        term.send("Ada")
        term.send_key("enter")
        term.wait_for("hello Ada")
        assert term.wait_exit(timeout=10) == 3
        assert not term.alive and term.exitstatus == 3
        assert term.screen_text() == "name? Ada\nhello Ada"  # the typed line is echoed, as a tty does
        term.capture(tmp_path / "screen.txt")
    assert (tmp_path / "screen.txt").read_text() == "name? Ada\nhello Ada\n"


def test_the_program_sees_a_real_terminal_of_the_given_size_and_no_size_variables():
    code = ("import os, sys; "
            "print(sys.stdout.isatty(), os.environ['TERM'], os.environ.get('COLUMNS'), *os.get_terminal_size())")
    with python(code, rows=12, cols=50, env={**os.environ, "COLUMNS": "5", "LINES": "5"}) as term:
        term.wait_for("True xterm-256color None 50 12")
        assert term.wait_exit(timeout=10) == 0


def test_a_resize_reaches_the_program_and_the_screen():
    code = (
        "import os, signal, sys\n"
        "show = lambda *_: print('size', *os.get_terminal_size(), flush=True)\n"
        "signal.signal(signal.SIGWINCH, show)\n"
        "show()\n"
        "sys.stdin.readline()\n"
    )
    with python(code, rows=24, cols=80) as term:
        term.wait_for("size 80 24")
        term.resize(30, 100)
        term.wait_for("size 100 30")
        assert (term.screen.lines, term.screen.columns) == (30, 100)
        term.send_key("enter")
        assert term.wait_exit(timeout=10) == 0


def test_colours_are_drawn_not_shown_as_escapes():
    script = r"printf '\033[31mred\033[0m and \033[1;32mbold green\033[0m\n'"
    with Terminal(["bash", "--norc", "-c", script], rows=5, cols=40) as term:
        term.wait_for("red and bold green")
        assert term.wait_exit(timeout=10) == 0
        assert term.screen_text() == "red and bold green"
        assert "\x1b" not in term.transcript and "[31m" not in term.transcript
        assert term.screen.buffer[0][0].fg == "red"
        assert term.screen.buffer[0][8].bold and term.screen.buffer[0][8].fg == "green"


def test_what_scrolled_off_the_screen_is_kept_in_the_transcript():
    with python("for i in range(1, 101): print(f'line {i}')", rows=10, cols=40) as term:
        assert term.wait_exit(timeout=10) == 0
        assert "line 1\n" not in term.screen_text() + "\n"
        assert term.screen_text().splitlines()[-1] == "line 100"
        assert "line 1\nline 2\n" in term.transcript


def test_a_wait_that_times_out_shows_the_screen():
    with python("import time; print('ready', flush=True); time.sleep(30)") as term:
        term.wait_for(re.compile(r"rea.y"))
        with pytest.raises(AssertionError, match=r"(?s)timed out after 0.3s waiting for 'never'.*ready"):
            term.wait_for("never", timeout=0.3)


def test_a_wait_ends_when_the_program_ends_first():
    ended = r"(?s)the program ended while waiting for 'never'.*bye"
    with python("print('bye')") as term, pytest.raises(AssertionError, match=ended):
        term.wait_for("never", timeout=10)


def test_ctrl_c_interrupts_the_program_and_the_signal_is_in_the_exit_code():
    with python("import time; print('sleeping', flush=True); time.sleep(30)") as term:
        term.wait_for("sleeping")
        term.send_key("ctrl-c")
        assert term.wait_exit(timeout=10) == 128 + 2  # Python re-raises SIGINT on itself
        assert "KeyboardInterrupt" in term.transcript


def test_close_ends_a_program_that_would_not_end_by_itself():
    term = python("import signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN); time.sleep(60)")
    term.read(0.2)
    started = time.monotonic()
    term.close()
    assert not term.alive
    assert time.monotonic() - started < 30  # a bound on the wait, not a measure of speed


def test_an_unknown_key_is_refused_by_name():
    with python("input()") as term, pytest.raises(ValueError, match="ctrl-c"):
        term.send_key("ctrl-q")
