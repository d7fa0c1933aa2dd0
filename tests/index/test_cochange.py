"""Co-change counts from a real, small git history built in each test."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from freehold.index import cochange as cochange_module
from freehold.index.cochange import CoChange, cochange, head

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


def git(root: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)
    done = subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "-c", "init.defaultBranch=main", *args],
                          cwd=root, env=env, capture_output=True, text=True, check=True)
    return done.stdout


def commit(root: Path, *files: str, message: str = "change") -> None:
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(path.read_text() + "x\n" if path.exists() else "x\n")
    git(root, "add", "--", *files)
    git(root, "commit", "-q", "-m", message)


@pytest.fixture
def history(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q")
    commit(root, "a.py", "b.py")
    commit(root, "a.py", "b.py", "c.py")
    commit(root, "a.py", "tests/test_a.py")
    commit(root, "c.py")
    return root


def test_counts_touches_and_pairs(history):
    stats = cochange(history)
    assert stats == CoChange(
        commits=4,
        touches={"a.py": 3, "b.py": 2, "c.py": 2, "tests/test_a.py": 1},
        pairs={("a.py", "b.py"): 2, ("a.py", "c.py"): 1, ("b.py", "c.py"): 1, ("a.py", "tests/test_a.py"): 1},
    )


def test_big_commits_are_skipped(history):
    commit(history, *[f"bulk/f{i}.py" for i in range(5)], "a.py")
    stats = cochange(history, max_files_per_commit=5)
    assert stats.commits == 5 and stats.skipped == 1
    assert stats.touches["a.py"] == 3 and "bulk/f0.py" not in stats.touches
    assert cochange(history, max_files_per_commit=6).touches["bulk/f0.py"] == 1


def test_max_commits_reads_the_newest_first(history):
    stats = cochange(history, max_commits=2)
    assert stats.commits == 2
    assert stats.touches == {"c.py": 1, "a.py": 1, "tests/test_a.py": 1}


def test_only_head_and_its_ancestors_without_merges(history):
    git(history, "checkout", "-q", "-b", "side")
    commit(history, "side.py", "a.py")
    git(history, "checkout", "-q", "main")
    commit(history, "main_only.py")
    assert "side.py" not in cochange(history).touches  # another branch: never read
    git(history, "merge", "-q", "--no-ff", "-m", "merge", "side")
    stats = cochange(history)
    assert stats.commits == 6  # the merge commit itself is not counted
    assert stats.pairs[("a.py", "side.py")] == 1


def test_a_subdirectory_counts_its_own_files_relative_to_itself(history):
    commit(history, "tests/test_b.py", "tests/test_a.py", "b.py")
    stats = cochange(history / "tests")
    assert stats.touches == {"test_a.py": 2, "test_b.py": 1}
    assert stats.pairs == {("test_a.py", "test_b.py"): 1}


def test_deleted_files_stay_in_the_counts(history):
    git(history, "rm", "-q", "c.py")
    git(history, "commit", "-q", "-m", "remove")
    assert cochange(history).touches["c.py"] == 3


def test_file_names_with_odd_characters(history):
    commit(history, "we ird\tname.py", "ünï.py", "a.py")
    stats = cochange(history)
    assert stats.pairs[("we ird\tname.py", "ünï.py")] == 1


def test_not_a_repository_no_commits_or_no_git_is_none(tmp_path, monkeypatch):
    plain = tmp_path / "plain"
    plain.mkdir()
    assert cochange(plain) is None
    assert cochange(tmp_path / "missing") is None
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    assert cochange(empty) is None
    monkeypatch.setattr(cochange_module.shutil, "which", lambda name: None)
    assert cochange(plain) is None


def test_head_names_the_current_commit(history, tmp_path):
    assert head(history) == git(history, "rev-parse", "HEAD").strip()
    assert head(history / "tests") == head(history)
    commit(history, "d.py")
    assert head(history) == git(history, "rev-parse", "HEAD").strip()
    assert head(tmp_path) is None
    empty = tmp_path / "empty"
    empty.mkdir()
    git(empty, "init", "-q")
    assert head(empty) is None


def test_the_environment_cannot_point_git_at_another_repository(history, tmp_path, monkeypatch):
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    commit(other, "elsewhere.py")
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert "elsewhere.py" not in cochange(history).touches


def test_the_repositorys_signature_program_is_not_run(history, tmp_path):
    """log.showSignature makes plain `git log` run gpg.program for each signed commit."""
    marker = tmp_path / "ran"
    script = tmp_path / "gpg.sh"
    script.write_text(f"""#!/bin/sh
cat >/dev/null
touch '{marker}'
echo '[GNUPG:] SIG_CREATED D 1 8 00 1 X' >&2
printf -- '-----BEGIN PGP SIGNATURE-----\\n\\nx\\n-----END PGP SIGNATURE-----\\n'
""")
    script.chmod(0o755)
    git(history, "config", "gpg.program", str(script))
    (history / "a.py").write_text("signed\n")
    git(history, "commit", "-q", "-S", "-am", "signed")
    git(history, "config", "log.showSignature", "true")
    marker.unlink()
    git(history, "log", "-1", "--format=%H")  # the trap is live: plain git runs it
    assert marker.exists()
    marker.unlink()
    assert cochange(history).commits == 5
    assert not marker.exists()


def test_git_runs_with_the_repositorys_programs_turned_off(history, monkeypatch):
    seen = {}
    real_run = cochange_module.process.run

    def spy(argv, **kwargs):
        seen.update(argv=list(argv), env=kwargs["env"], confinement=kwargs["confinement"])
        return real_run(argv, **kwargs)

    monkeypatch.setattr(cochange_module.process, "run", spy)
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", "'core.fsmonitor'='/bin/sh'")
    assert cochange(history, timeout=5).commits == 4
    for setting in ("core.fsmonitor=false", "core.hooksPath=/dev/null", "log.showSignature=false", "protocol.allow=never"):
        assert seen["argv"][seen["argv"].index(setting) - 1] == "-c"
    assert "--all" not in seen["argv"] and "HEAD" in seen["argv"]
    assert seen["env"]["GIT_CONFIG_NOSYSTEM"] == "1" and seen["env"]["GIT_TERMINAL_PROMPT"] == "0"
    assert "GIT_CONFIG_PARAMETERS" not in seen["env"]
    assert seen["confinement"] is None


def test_a_cut_short_log_keeps_whole_commits_only():
    text = "\x01//\0\na.py\0b.py\0\x01//\0\nc.py\0d"
    assert cochange_module._commits(text, complete=True) == [["a.py", "b.py"], ["c.py", "d"]]
    assert cochange_module._commits(text, complete=False) == [["a.py", "b.py"]]
