"""The Bash tool and the process runner under it, with real shells and real process groups."""

from __future__ import annotations

import os
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest

from freehold.cancel import Cancel
from freehold.sandbox import process
from freehold.tools.base import ToolError, Workspace
from freehold.tools.shell import BASH, MAX_TIMEOUT, _status


# Generous bounds for things that must end; no test asserts how fast they end.
BOUND = 60


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return Workspace.at(tmp_path)


def process_status(result: process.ProcessResult) -> str:
    return _status(result, BOUND)


def bash(ws: Workspace, command: str, **args: object) -> str:
    return BASH.run(ws, {"command": command, **args})


def gone(pid: int) -> bool:
    """True once `pid` has ended (a zombie waiting for a reaper counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def wait_until_gone(pid: int) -> bool:
    end = time.monotonic() + BOUND
    while time.monotonic() < end:
        if gone(pid):
            return True
        time.sleep(0.05)
    return False


def read_pid(path: Path) -> int:
    end = time.monotonic() + BOUND
    while not path.exists() or not path.read_text().strip():
        assert time.monotonic() < end, "the command never wrote its pid"
        time.sleep(0.05)
    return int(path.read_text())


def test_tool_shape() -> None:
    assert BASH.name == "Bash"
    assert not BASH.read_only
    assert len(BASH.description) < 400
    assert BASH.parameters["required"] == ["command"]
    assert BASH.parameters["additionalProperties"] is False


def test_output_and_exit_code(ws: Workspace) -> None:
    assert bash(ws, "echo hello") == "hello\nExit code: 0"
    assert bash(ws, "echo out; echo err >&2; exit 3") == "out\nerr\nExit code: 3"


def test_no_output(ws: Workspace) -> None:
    assert bash(ws, "true") == "(no output)\nExit code: 0"


def test_runs_in_workspace_root_with_empty_stdin(ws: Workspace) -> None:
    assert bash(ws, "pwd") == f"{ws.root}\nExit code: 0"
    assert bash(ws, "cat; echo done") == "done\nExit code: 0"


def test_death_by_signal_is_reported_as_shells_do(ws: Workspace, tmp_path: Path) -> None:
    # Confined, bubblewrap passes the shell's death on as 128 + N; unconfined, it is a signal.
    assert bash(ws, "kill -9 $$") == "(no output)\nExit code: 137"
    result = process.run(["sh", "-c", "kill -9 $$"], cwd=tmp_path, timeout=BOUND, confinement=None)
    assert process_status(result) == "Exit code: 137 (killed by SIGKILL)"


def test_bad_arguments(ws: Workspace) -> None:
    with pytest.raises(ToolError, match="command is required"):
        bash(ws, "  ")
    with pytest.raises(ToolError, match="positive"):
        bash(ws, "true", timeout=0)
    with pytest.raises(ToolError, match="number of seconds"):
        bash(ws, "true", timeout="soon")


def test_timeout_over_maximum_is_clamped_and_said(ws: Workspace) -> None:
    out = bash(ws, "echo ok", timeout=10_000)
    assert out.startswith("ok\n")
    assert f"used {MAX_TIMEOUT}s" in out
    assert out.endswith("Exit code: 0")


def test_huge_output_keeps_head_and_tail_in_bounded_memory(ws: Workspace) -> None:
    tracemalloc.start()
    try:
        out = bash(ws, "yes | head -c 50000000; echo; echo THE-END")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # the whole output would be 50 MB
    assert out.startswith("y\ny\ny\n")
    assert "characters omitted ...]" in out
    assert out.endswith("y\n\nTHE-END\nExit code: 0")
    assert len(out) < process.OUTPUT_LIMIT + 200


def test_omitted_count_is_exact() -> None:
    result = process.run(["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x"], cwd="/", timeout=BOUND, confinement=None)
    assert result.omitted_chars == 100_000 - process.OUTPUT_LIMIT
    assert len(result.head) + len(result.tail) == process.OUTPUT_LIMIT
    assert f"[... {100_000 - process.OUTPUT_LIMIT} characters omitted ...]" in result.output


def test_multibyte_characters_split_across_reads_survive() -> None:
    code = "import sys; sys.stdout.write('é€' * 100000)"
    result = process.run([sys.executable, "-c", code], cwd="/", timeout=BOUND, output_limit=1_000_000, confinement=None)
    assert result.output == "é€" * 100000


def running_with(marker: str) -> list[int]:
    """Host pids of processes whose command line holds `marker` (pids inside a sandbox differ)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def wait_until_none_with(marker: str) -> bool:
    end = time.monotonic() + BOUND
    while time.monotonic() < end:
        if not [pid for pid in running_with(marker) if not gone(pid)]:
            return True
        time.sleep(0.05)
    return False


def test_timeout_kills_every_process_of_a_confined_command(ws: Workspace) -> None:
    out = bash(ws, "echo started; sleep 1001.25 & (sleep 1001.25 &); wait", timeout=1)
    assert out == "started\nTimed out after 1s; the process group was killed"
    assert wait_until_none_with("1001.25")


def test_background_processes_end_with_a_confined_command(ws: Workspace) -> None:
    # The sandbox has its own PID namespace: when the command ends, everything it started ends.
    out = bash(ws, "setsid sleep 1002.5 > /dev/null 2>&1 & echo started", timeout=BOUND)
    assert out == "started\nExit code: 0"
    assert wait_until_none_with("1002.5")


def test_timeout_kills_the_whole_group_including_grandchildren(tmp_path: Path) -> None:
    result = process.run(["bash", "-c", "echo started; sleep 1000 & echo $! > pid; wait"], cwd=tmp_path,
                         timeout=1, confinement=None)
    assert result.timed_out and result.output == "started\n"
    assert wait_until_gone(read_pid(tmp_path / "pid"))


def test_sigterm_ignored_escalates_to_sigkill(ws: Workspace) -> None:
    # The ignored SIGTERM is inherited by sleep, so only SIGKILL can end it.
    result = process.run(["bash", "-c", "trap '' TERM; sleep 1000 & echo $! > pid; wait"], cwd=ws.root, timeout=1, confinement=None)
    assert result.timed_out
    assert wait_until_gone(read_pid(ws.root / "pid"))


def test_command_that_closes_its_output_still_times_out(ws: Workspace) -> None:
    result = process.run(["bash", "-c", "exec >&- 2>&-; sleep 1000"], cwd=ws.root, timeout=1, confinement=None)
    assert result.timed_out


def test_background_child_holding_the_pipe_does_not_hang(tmp_path: Path) -> None:
    result = process.run(["bash", "-c", "sleep 1000 & echo $! > pid; echo started"], cwd=tmp_path,
                         timeout=BOUND, confinement=None)
    assert result.output == "started\n" and result.stopped_leftovers and not result.timed_out
    assert wait_until_gone(read_pid(tmp_path / "pid"))


def test_background_child_with_its_own_output_is_left_running_unconfined(tmp_path: Path) -> None:
    result = process.run(["bash", "-c", "sleep 1000 > /dev/null 2>&1 & echo $! > pid"], cwd=tmp_path,
                         timeout=BOUND, confinement=None)
    assert result.exit_code == 0 and not result.stopped_leftovers
    pid = read_pid(tmp_path / "pid")
    assert not gone(pid)
    os.kill(pid, 9)


def test_freehold_variables_are_not_passed_to_commands(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FREEHOLD_API_KEY", "sk-very-secret")
    monkeypatch.setenv("FREEHOLD_ANYTHING", "private")
    monkeypatch.setenv("OTHER_SETTING", "visible")
    out = bash(ws, "env")
    assert "sk-very-secret" not in out
    assert "FREEHOLD_" not in out
    assert "OTHER_SETTING=visible" in out


def test_child_env_scrubs_a_given_base() -> None:
    env = process.child_env({"PATH": "/bin", "FREEHOLD_API_KEY": "k", "FREEHOLD_X": "y"})
    assert env == {"PATH": "/bin"}


def test_missing_program_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        process.run([str(tmp_path / "no-such-program")], cwd=tmp_path, timeout=BOUND, confinement=None)


def test_a_cut_output_is_cut_between_lines_not_inside_one() -> None:
    # 100-character lines: a cut at exactly 15,000 characters would fall inside line 149
    script = "i=0; while [ $i -lt 2000 ]; do printf 'TOKEN-%094d\\n' $i; i=$((i+1)); done"
    result = process.run(["sh", "-c", script], cwd="/", timeout=BOUND, confinement=None)
    head, _, rest = result.output.partition("\n[... ")
    count, _, tail = rest.partition(" characters omitted ...]\n")
    assert all(len(line) == 100 for line in head.splitlines() + tail.splitlines())
    assert len(head) + int(count) + len(tail) == 2000 * 101  # every character accounted for


def test_an_interrupt_stops_a_confined_command_and_says_so(ws: Workspace) -> None:
    stop = Cancel()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    with stop.active():
        out = bash(ws, "echo started; sleep 1003.75 & wait", timeout=BOUND)
    timer.cancel()
    assert out == "started\nInterrupted: the user stopped the command; its process group was killed"
    assert wait_until_none_with("1003.75")


def test_an_interrupt_raised_elsewhere_does_not_reach_this_thread(tmp_path: Path) -> None:
    # The signal is per thread: a command run outside `active()` is not stopped by it.
    stop = Cancel()
    stop.set()
    result = process.run(["bash", "-c", "sleep 0.3; echo done"], cwd=tmp_path, timeout=BOUND, confinement=None)
    assert not result.interrupted and result.output == "done\n"
