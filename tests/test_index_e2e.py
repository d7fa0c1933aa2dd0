"""The agent uses the code index: a map seeded by the task in the first request, and a Search tool.

Runs the real `freehold -p` against the scripted server in a small git repository.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import run_freehold

from freehold.testing import Call, ScriptedServer, Turn

ORDERS = (
    "class OrderBook:\n    def match_orders(self, bids, asks):\n        return [(b, a) for b in bids for a in asks]\n\n\n"
    "def spread(bids, asks):\n    return min(asks) - max(bids)\n"
)
REPORTS = "from market.orders import OrderBook, spread\n\n\ndef daily_report(book):\n    return spread([], [])\n"


@pytest.fixture
def market(tmp_path: Path) -> Path:
    root = tmp_path / "market-repo"
    (root / "market").mkdir(parents=True)
    (root / "market/orders.py").write_text(ORDERS)
    (root / "market/reports.py").write_text(REPORTS)
    (root / "market/__init__.py").write_text("")
    (root / ".env").write_text("TOKEN=never-indexed-secret\n")
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    return root


def user_message(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def test_the_first_request_carries_a_map_for_the_task_and_the_search_tool_answers(market: Path, env: dict) -> None:
    turns = [
        Turn("", (Call("Search", {"query": "match_orders"}),), expect="repo-map"),
        Turn("match_orders is in market/orders.py.", expect="market/orders.py:2  method OrderBook.match_orders"),
    ]
    with ScriptedServer(turns) as server:
        run = run_freehold(["-p", "OrderBook.match_orders pairs every bid with every ask; fix it.", "--endpoint",
                            server.url, "--output-format", "json"], market, env)
    assert run.code == 0, run.stderr
    first = server.chat_requests[0].json()
    prompt = user_message(first)
    assert prompt.startswith("<repo-map>\n") and prompt.endswith("fix it.")
    assert prompt.index("market/orders.py:") < prompt.index("market/reports.py:")
    assert "    2│    def match_orders(self, bids, asks):" in prompt
    assert "never-indexed-secret" not in json.dumps(first)
    assert "Search" in [tool["function"]["name"] for tool in first["tools"]]
    assert run.result()["result"] == "match_orders is in market/orders.py."


def test_the_map_is_identical_from_run_to_run_so_the_request_is_reproducible(market: Path, env: dict) -> None:
    prompts = []
    for _ in range(2):
        with ScriptedServer([Turn("done")]) as server:
            run = run_freehold(["-p", "Explain spread()", "--endpoint", server.url], market, env)
        assert run.code == 0, run.stderr
        prompts.append(user_message(server.chat_requests[0].json()))
    assert prompts[0] == prompts[1] and "<repo-map>" in prompts[0]


def repo_map_of(prompt: str) -> str:
    return prompt[prompt.index("\n", prompt.index("code index:")) + 1:prompt.index("</repo-map>")]


def test_the_map_takes_at_most_a_sixteenth_of_a_small_window(market: Path, env: dict) -> None:
    for _ in range(40):  # enough files that a full map would not fit
        (market / f"market/extra_{_}.py").write_text(f"def spread_variant_{_}(bids, asks):\n    return 0\n")
    with ScriptedServer([Turn("done")], context_window=4096) as server:
        run = run_freehold(["-p", "Explain spread()", "--endpoint", server.url], market, env)
    assert run.code == 0, run.stderr
    shown = repo_map_of(user_message(server.chat_requests[0].json()))
    # 4096 tokens, 1024 kept for the answer: (4096 - 1024) / 16 = 192 tokens, about 3.2 characters each.
    assert 0.85 * 192 * 3.2 <= len(shown) <= 192 * 3.2


def test_the_map_and_the_index_can_be_turned_off(market: Path, env: dict) -> None:
    with ScriptedServer([Turn("done")]) as server:
        run = run_freehold(["-p", "Explain spread()", "--endpoint", server.url], market, dict(env, FREEHOLD_MAP_TOKENS="0"))
    assert run.code == 0, run.stderr
    first = server.chat_requests[0].json()
    assert user_message(first) == "Explain spread()"
    assert "Search" in [tool["function"]["name"] for tool in first["tools"]]
    with ScriptedServer([Turn("done")]) as server:
        run = run_freehold(["-p", "Explain spread()", "--endpoint", server.url], market, dict(env, FREEHOLD_INDEX="false"))
    assert run.code == 0, run.stderr
    first = server.chat_requests[0].json()
    assert user_message(first) == "Explain spread()"
    assert "Search" not in [tool["function"]["name"] for tool in first["tools"]]
