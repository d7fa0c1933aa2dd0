"""The code index: what a repository holds, found fast and offline.

    store.py      Index: one SQLite database per repository (files, symbols, imports, FTS5, co-change)
    languages.py  which language a file is written in
    symbols.py    definitions, references and imports, with tree-sitter
    imports.py    raw import strings -> repository files
    cochange.py   which files git history changes together
    text.py       identifiers as search terms (whole and split into words)
    paths.py      tests, docs and code told apart by path
    issue.py      what an issue's text points at
    locate.py     locate(): the files an issue most likely needs changed
    search.py     search(): symbols and text for a query
    repomap.py    repo_map(): the most relevant files and their symbols within a token budget
"""

from freehold.index.locate import Located, locate
from freehold.index.store import Index, IndexUnavailable, UpdateStats

__all__ = ["Index", "IndexUnavailable", "Located", "UpdateStats", "locate"]
