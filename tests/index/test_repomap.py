"""The repository map: ranked by personalized PageRank and fitted to its token budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from freehold.index import Index
from freehold.index.repomap import estimate_tokens, pagerank, rank_files, repo_map


def _module(number: int) -> str:
    """A module defining a few functions and using the core module's names."""
    body = [f"from app.core import Engine, configure_engine\n\n"]
    for k in range(6):
        body.append(f"def handler_{number}_{k}(request):\n    engine = Engine()\n    configure_engine(engine)\n"
                    f"    return engine.run(request)\n\n\n")
    return "".join(body)


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Index:
    root = tmp_path_factory.mktemp("app")
    (root / "app").mkdir()
    (root / "app/core.py").write_text(
        "class Engine:\n    def run(self, request):\n        return request\n\n\n"
        "def configure_engine(engine):\n    engine.ready = True\n")
    (root / "app/billing.py").write_text(
        "def compute_invoice_total(lines):\n    return sum(line.amount for line in lines)\n\n\n"
        "def apply_discount(total, percent):\n    return total * (1 - percent / 100)\n")
    for n in range(30):
        (root / f"app/handlers_{n}.py").write_text(_module(n))
    index = Index.open(root, tmp_path_factory.mktemp("home"))
    index.update()
    yield index
    index.close()


def test_without_a_query_the_most_used_file_ranks_first(index: Index) -> None:
    entries = rank_files(index)
    assert entries[0].path == "app/core.py"
    assert {name for _, name, _ in entries[0].definitions[:2]} == {"Engine", "configure_engine"}


def test_a_query_personalizes_the_ranking(index: Index) -> None:
    entries = rank_files(index, "the invoice total ignores apply_discount")
    assert entries[0].path == "app/billing.py"
    assert entries[0].definitions[0][1] == "apply_discount"  # named in the query, so first within its file


@pytest.mark.parametrize("budget", [64, 200, 500, 1000, 2000])
def test_the_map_fills_its_budget_to_within_15_percent_and_never_over(index: Index, budget: int) -> None:
    text = repo_map(index, "", budget)
    used = estimate_tokens(text)
    assert 0.85 * budget <= used <= budget, (budget, used)


def test_the_map_shows_definitions_as_they_read_in_the_source(index: Index) -> None:
    text = repo_map(index, "invoice discount", 300)
    assert text.startswith("app/billing.py:\n")
    assert "    5│def apply_discount(total, percent):" in text


def test_a_budget_larger_than_the_repository_shows_all_of_it(index: Index) -> None:
    text = repo_map(index, "", 100_000)
    assert text.count(".py:") == 32
    assert estimate_tokens(text) < 100_000


def test_a_custom_token_counter_is_respected(index: Index) -> None:
    lines = lambda text: text.count("\n")  # noqa: E731 - one "token" a line
    text = repo_map(index, "", 40, count=lines)
    assert 34 <= text.count("\n") <= 40


def test_pagerank_is_a_distribution_that_favours_the_personalized_node() -> None:
    edges = {1: {2: 1.0}, 2: {3: 1.0}, 3: {1: 1.0}, 4: {1: 1.0}}
    plain = pagerank([1, 2, 3, 4], edges, {})
    assert abs(sum(plain.values()) - 1.0) < 1e-9
    personal = pagerank([1, 2, 3, 4], edges, {4: 1.0})
    assert personal[4] > plain[4] and personal[1] > personal[3]


def test_an_empty_repository_has_an_empty_map(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    with Index.open(tmp_path / "repo", tmp_path / "home") as index:
        index.update()
        assert repo_map(index, "anything", 500) == ""


def test_imports_are_edges_of_the_graph(tmp_path: Path) -> None:
    """`main` uses no name `settings` defines, but imports it: the import alone carries rank to it."""
    root = tmp_path / "repo"
    (root / "app").mkdir(parents=True)
    (root / "app/__init__.py").write_text("")
    (root / "app/main.py").write_text("from app import settings\n\n\ndef start():\n    return settings\n")
    (root / "app/settings.py").write_text("DEBUG_LEVEL = 3\n")
    (root / "app/unrelated.py").write_text("COLOUR = 'red'\n")
    with Index.open(root, tmp_path / "home") as index:
        index.update()
        files = {path: fid for fid, path in index.files().items()}
        assert index.import_edges()[files["app/main.py"]] == {files["app/settings.py"], files["app/__init__.py"]}
        ranked = [entry.path for entry in rank_files(index, in_play=["app/main.py"])]
    assert "app/settings.py" in ranked and "app/unrelated.py" not in ranked
