"""The index in a session: built in the background, never blocking, following the agent's edits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import write

from freehold.index import live
from freehold.index.live import LiveIndex
from freehold.tools.base import ToolError, Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    write(tmp_path / "repo", "shop/cart.py", "class Cart:\n    def checkout(self):\n        return True\n")
    return Workspace.at(tmp_path / "repo", home=tmp_path / "userhome")


def test_the_search_tool_answers_once_the_background_build_is_done(workspace: Workspace, tmp_path: Path) -> None:
    index = LiveIndex(workspace, tmp_path / "home").start()
    answer = index.tool().run(workspace, {"query": "checkout"})
    assert "shop/cart.py:2  method Cart.checkout" in answer


def test_search_sees_files_the_agent_wrote_after_the_build(workspace: Workspace, tmp_path: Path) -> None:
    index = LiveIndex(workspace, tmp_path / "home").start()
    assert index.ready(30)
    write(workspace.root, "shop/payment.py", "def refund_order(order):\n    return order\n")
    assert "shop/payment.py:1  function refund_order" in index.search("refund_order")


def test_a_slow_build_neither_blocks_the_map_nor_hangs_search(workspace: Workspace, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    real = live.update_index

    def slow(*args, **kwargs):
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(live, "update_index", slow)
    monkeypatch.setattr(live, "SEARCH_WAIT", 0.05)
    index = LiveIndex(workspace, tmp_path / "home").start()
    assert index.repo_map("checkout", 500, wait=0.05) is None
    with pytest.raises(ToolError, match="still being built"):
        index.search("checkout")
    release.set()
    assert index.ready(30)
    assert "shop/cart.py:" in index.repo_map("checkout", 500, wait=1)


def test_an_index_that_cannot_be_opened_makes_search_say_so(workspace: Workspace, tmp_path: Path) -> None:
    blocked = tmp_path / "home-is-a-file"
    blocked.write_text("")
    index = LiveIndex(workspace, blocked).start()
    assert not index.ready(30)
    with pytest.raises(ToolError, match="code index is unavailable: cannot open the code index"):
        index.search("checkout")
    assert index.repo_map("checkout", 500, wait=1) is None
