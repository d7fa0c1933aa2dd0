"""The code index as a session uses it: built in the background, asked for a map, searched by a tool.

A session starts `LiveIndex.start()` and goes on at once; the first prompt never waits for a big
repository to be indexed. The map for the first prompt is made only if the index is ready within
`wait` seconds (a warm index is: an incremental update takes milliseconds), and the Search tool
waits a little longer before answering that the index is still being built. Before each search
the index is brought up to date, so files the agent changed are found as they are now.

Each thread opens its own SQLite connection; updates are serialized by a lock.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from freehold.index.store import Index, IndexUnavailable
from freehold.tools.base import Tool, ToolError, Workspace

SEARCH_WAIT = 10.0

SEARCH_DESCRIPTION = (
    "Search the code index: definitions whose names match (classes, functions, methods), then files whose "
    "text matches the words, best first, with their best lines. Use it to find where something is defined "
    "or discussed; use Grep for exact regular expressions."
)
SEARCH_PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"query": {"type": "string", "description": "identifiers or words, e.g. \"QuerySet.filter\""}},
    "required": ["query"],
    "additionalProperties": False,
}


def update_index(workspace: Workspace, home: Path, progress: Callable[[int, int], None] | None = None,
                 history: bool = True) -> Index:
    """The workspace's index, brought up to date with what the model may read (and with `history`,
    its co-change counts: git runs in the sandbox)."""
    from freehold.tools.search import workspace_files

    index = Index.open(workspace.root, home)
    try:
        index.update(list_files=lambda root: workspace_files(workspace), progress=progress,
                     confinement=workspace.command_confinement(network=False), history=history)
    except BaseException:
        index.close()
        raise
    return index


class LiveIndex:
    def __init__(self, workspace: Workspace, home: Path) -> None:
        self.workspace = workspace
        self.home = home
        self.done = threading.Event()
        self.error: str | None = None
        self.progress = (0, 0)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._paths: tuple[float, list[str]] = (0.0, [])

    def start(self) -> LiveIndex:
        self._thread = threading.Thread(target=self._build, name="freehold-index", daemon=True)
        self._thread.start()
        return self

    def _build(self) -> None:
        """Files first, then (the index already in use) the history's co-change counts."""
        try:
            with self._lock:
                index = update_index(self.workspace, self.home, progress=self._note, history=False)
        except (IndexUnavailable, OSError) as exc:
            self.error = str(exc)
        except Exception as exc:  # a bug in indexing must not end the session: the tool says so
            self.error = f"indexing failed: {type(exc).__name__}: {exc}"
        finally:
            self.done.set()
        if self.error is None:
            self._count_history(index)

    def _count_history(self, index: Index) -> None:
        try:
            with self._lock, index:
                index.refresh_history(self.workspace.command_confinement(network=False))
        except Exception:  # noqa: BLE001 - co-change is optional evidence; search works without it
            pass

    def _note(self, done: int, total: int) -> None:
        self.progress = (done, total)

    def ready(self, wait: float) -> bool:
        return self.done.wait(wait) and self.error is None

    def paths(self, max_age: float = 5.0) -> list[str]:
        """The indexed files' paths (for completing `@path`), at most `max_age` seconds old;
        none until the first build is done."""
        import time

        taken, paths = self._paths
        if not self.done.is_set() or self.error is not None or time.monotonic() - taken < max_age:
            return paths
        with Index.open(self.workspace.root, self.home) as index:
            paths = sorted(index.files().values())
        self._paths = (time.monotonic(), paths)
        return paths

    def fresh(self) -> Index:
        """An up-to-date index for this thread (the caller closes it)."""
        with self._lock:
            return update_index(self.workspace, self.home, history=False)

    def repo_map(self, task: str, tokens: int, wait: float) -> str | None:
        """The map for `task`, or None when the index is not ready within `wait` seconds."""
        if tokens <= 0 or not self.ready(wait):
            return None
        from freehold.index.repomap import repo_map

        # The build has just finished (the map is made at a task's start): no second update.
        with Index.open(self.workspace.root, self.home) as index:
            return repo_map(index, task, tokens) or None

    def search(self, query: str) -> str:
        if not self.done.wait(SEARCH_WAIT):
            done, total = self.progress
            raise ToolError(f"the code index is still being built ({done}/{total} files); use Grep meanwhile")
        if self.error is not None:
            raise ToolError(f"the code index is unavailable: {self.error}; use Grep instead")
        from freehold.index.search import render, search

        with self.fresh() as index:
            return render(search(index, query))

    def tool(self) -> Tool:
        def run(workspace: Workspace, args: dict[str, Any]) -> str:
            query = args.get("query")
            if not isinstance(query, str) or not query.strip():
                raise ToolError("query must be a non-empty string")
            return self.search(query)

        return search_tool(run)


def search_tool(run: Callable[[Workspace, dict[str, Any]], str]) -> Tool:
    return Tool("Search", SEARCH_DESCRIPTION, SEARCH_PARAMETERS, run, read_only=True)


def map_block(repo_map: str | None) -> str:
    """The repository map as it goes before the first prompt of a task ("" without one)."""
    if not repo_map:
        return ""
    return (f"<repo-map>\nFiles most relevant to this task, with key definitions (line│source), from the "
            f"code index:\n{repo_map}</repo-map>\n\n")
