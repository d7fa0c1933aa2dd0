"""`freehold locate | map | search` as a user runs them: output formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import run_freehold


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "billing").mkdir(parents=True)
    (root / "billing/invoice.py").write_text(
        "class Invoice:\n    def total_with_tax(self, rate):\n        return self.amount * (1 + rate)\n")
    (root / "billing/report.py").write_text("from billing.invoice import Invoice\n\n\ndef monthly(invoices):\n"
                                            "    return [i.total_with_tax(0.2) for i in invoices]\n")
    (root / "billing/test_invoice.py").write_text("from billing.invoice import Invoice\n\n\ndef test_total_with_tax():\n"
                                                  "    assert Invoice().total_with_tax(0) == 0\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


ISSUE = "Invoice.total_with_tax() applies the rate twice for credit notes"


def test_locate_prints_json_ranked_best_first(project: Path, env: dict) -> None:
    run = run_freehold(["locate", "--format", "json", "--top", "2", ISSUE], project, env)
    assert run.code == 0, run.stderr
    found = json.loads(run.stdout)
    assert [hit["path"] for hit in found][0] == "billing/invoice.py" and len(found) <= 2
    assert all(isinstance(hit["score"], float) for hit in found)


def test_locate_reads_the_issue_from_a_file_or_stdin_and_another_repo(project: Path, env: dict, tmp_path: Path) -> None:
    issue = tmp_path / "issue.txt"
    issue.write_text(ISSUE)
    by_file = run_freehold(["locate", "--repo", str(project), f"@{issue}"], tmp_path, env)
    by_stdin = run_freehold(["locate", "--repo", str(project), "-"], tmp_path, env, stdin=ISSUE)
    assert by_file.code == by_stdin.code == 0, by_file.stderr + by_stdin.stderr
    assert by_file.stdout == by_stdin.stdout and by_file.stdout.split()[1] == "billing/invoice.py"


def test_map_and_search_answer_from_the_index(project: Path, env: dict) -> None:
    shown = run_freehold(["map", "--tokens", "200", "tax", "rate"], project, env)
    assert shown.code == 0, shown.stderr
    assert shown.stdout.startswith("billing/invoice.py:\n") and "def total_with_tax(self, rate):" in shown.stdout
    found = run_freehold(["search", "--format", "json", "total_with_tax"], project, env)
    assert found.code == 0, found.stderr
    symbols = json.loads(found.stdout)["symbols"]
    assert (symbols[0]["path"], symbols[0]["line"], symbols[0]["parent"]) == ("billing/invoice.py", 2, "Invoice")


@pytest.mark.parametrize("args, message", [
    (["locate", "--repo", "/nonexistent/repo", "x"], "no such directory"),
    (["locate", "@/nonexistent/issue.txt"], "cannot read /nonexistent/issue.txt"),
    (["locate", "--top", "0", "x"], "--top must be at least 1"),
    (["map", "--tokens", "3"], "--tokens must be at least 16"),
    (["search"], "the following arguments are required"),
])
def test_bad_usage_is_one_line_and_exit_2(project: Path, env: dict, args: list[str], message: str) -> None:
    run = run_freehold(args, project, env)
    assert run.code == 2 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_an_index_that_cannot_be_written_is_one_line_and_exit_1(project: Path, env: dict, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked-home"
    blocked.write_text("a file where the data directory should be")
    run = run_freehold(["locate", "x"], project, dict(env, FREEHOLD_HOME=str(blocked)))
    assert run.code == 1 and "cannot open the code index" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1 and "Traceback" not in run.stderr


def test_the_progress_bar_draws_only_after_half_a_second_and_erases_itself() -> None:
    import io

    from freehold.index.progress import Bar

    stream = io.StringIO()
    bar = Bar("indexing", stream)
    bar.update(1, 10)
    assert stream.getvalue() == ""  # quick work leaves no trace
    bar.started -= 1.0
    bar.update(5, 10)
    assert stream.getvalue().endswith("indexing [############............] 5/10 files")
    bar.close()
    assert stream.getvalue().endswith("\r\033[K")
    assert Bar.for_stderr("x").stream is None  # under pytest stderr is not a terminal


def test_a_file_in_play_pulls_itself_and_what_it_uses_up_the_map(project: Path, env: dict) -> None:
    plain = run_freehold(["map", "--tokens", "40"], project, env)
    focused = run_freehold(["map", "--tokens", "40", "--file", "billing/report.py"], project, env)
    assert plain.code == focused.code == 0, plain.stderr + focused.stderr
    assert focused.stdout.startswith("billing/report.py:\n")
    assert plain.stdout != focused.stdout
