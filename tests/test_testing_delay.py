"""The scripted server's slow streams, and its count of streams a client abandoned."""

from __future__ import annotations

import json
import time

import httpx

from freehold.testing import ScriptedServer, Turn

BODY = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}


def test_a_slow_turn_spreads_its_events_and_an_abandoned_stream_is_counted():
    with ScriptedServer([Turn("abcdefghij" * 4, delay=0.05), Turn("x" * 200, delay=0.05)], chunk_size=4) as server:
        with httpx.Client() as client:
            times = []
            with client.stream("POST", server.url + "/chat/completions", json=BODY) as response:
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        times.append(time.monotonic())
            assert len(times) >= 12 and times[-1] - times[0] >= 0.4
            assert server.disconnects == 0
            with client.stream("POST", server.url + "/chat/completions", json=BODY) as response:
                first = next(line for line in response.iter_lines() if line.startswith("data:"))
                assert json.loads(first[5:])["choices"][0]["delta"]["role"] == "assistant"
        deadline = time.monotonic() + 10
        while server.disconnects == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.disconnects == 1


def test_a_scenario_file_gives_a_turn_its_delay():
    assert Turn.from_dict({"text": "hi", "delay": 0.5}).delay == 0.5
    assert Turn.from_dict({"text": "hi"}).delay == 0.0
