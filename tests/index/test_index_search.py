"""search(): definitions by name, then text, ranked; and the Search tool the model calls."""

from __future__ import annotations

from pathlib import Path

import pytest

from freehold.index import Index
from freehold.index.search import render, search

FILES = {
    "shop/cart.py": (
        "class ShoppingCart:\n    def add_item(self, item):\n        self.items.append(item)\n\n"
        "    def total(self):\n        return sum(i.price for i in self.items)\n"
    ),
    "shop/cartography.py": "def cart_to_map(cart):\n    return {'cart': cart}\n",
    "shop/tests/test_cart.py": "from shop.cart import ShoppingCart\n\n\nclass ShoppingCartTest:\n    pass\n",
    "shop/notes.txt": "Remember: the shopping cart total must include tax.\nUnrelated line.\n",
}


@pytest.fixture
def index(tmp_path: Path) -> Index:
    for rel, content in FILES.items():
        (tmp_path / "repo" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "repo" / rel).write_text(content)
    index = Index.open(tmp_path / "repo", tmp_path / "home")
    index.update()
    yield index
    index.close()


def test_an_exact_name_comes_before_partial_and_test_matches(index: Index) -> None:
    hits = search(index, "ShoppingCart").symbols
    assert (hits[0].name, hits[0].path, hits[0].line) == ("ShoppingCart", "shop/cart.py", 1)
    assert [hit.name for hit in hits].index("ShoppingCartTest") > 0


def test_case_insensitive_and_partial_names_are_found(index: Index) -> None:
    names = [hit.name for hit in search(index, "add_ITEM").symbols]
    assert names[0] == "add_item"
    assert {hit.name for hit in search(index, "cart_to").symbols} == {"cart_to_map"}


def test_text_hits_come_with_their_best_lines(index: Index) -> None:
    texts = search(index, "shopping cart tax").texts
    assert texts[0].path == "shop/notes.txt"
    assert texts[0].lines[0] == (1, "Remember: the shopping cart total must include tax.")


def test_any_word_is_enough_when_no_file_has_them_all(index: Index) -> None:
    assert [hit.path for hit in search(index, "tax zebra").texts] == ["shop/notes.txt"]


def test_query_syntax_is_never_an_error(index: Index) -> None:
    for query in ['"', "AND OR NOT", "cart*", "(", "NEAR(a b)", "%_\\", "a:b", ""]:
        render(search(index, query))


def test_the_rendering_lists_definitions_then_text(index: Index) -> None:
    text = render(search(index, "ShoppingCart total"))
    assert text.startswith("Definitions:\n  shop/cart.py:1  class ShoppingCart\n")
    assert "\nText:\n" in text
    assert render(search(index, "zebra")) == "No matches.\n"
