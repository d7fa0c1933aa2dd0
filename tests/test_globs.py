"""Path globs: the full matcher, and the fast one the sandbox's workspace walk uses, agree."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freehold.globs import PathPatterns
from freehold.tools.base import BUILTIN_DENY_READ

ROOT = Path("/work/repo")
GLOBS = (*BUILTIN_DENY_READ, "secrets/**", "config/*.yml", "build/", "/work/repo/vendor/**", "**/cache/**/*.bin")


@pytest.mark.parametrize("relative, hit", [
    ("app/.env", True), (".env.example", False), ("a/b/server.pem", True), ("secrets/x/y.txt", True),
    ("src/secrets.py", False), ("config/a.yml", True), ("config/sub/a.yml", False), ("build/out.o", True),
    ("vendor/lib.c", True), ("x/cache/y/z.bin", True), ("x/cache.bin", False), ("home/.ssh/id_rsa.pub", True),
])
def test_globs(relative, hit):
    assert (PathPatterns(GLOBS).match(ROOT / relative, ROOT) is not None) is hit


NAMES = st.sampled_from(["a", "src", ".env", "id_rsa", "k.pem", "secrets", "config", "x.yml", "build", "vendor",
                         "cache", "z.bin", ".env.local", "notes.md"])


@settings(max_examples=400, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=6))
def test_the_walk_matcher_agrees_with_the_full_one(parts):
    """Walking down, an entry is hidden when it or a directory above it matches: exactly what
    the full matcher says of the path."""
    patterns = PathPatterns(GLOBS)
    walked = False
    for depth in range(1, len(parts) + 1):
        relative = "/".join(parts[:depth])
        if patterns.matches_entry(parts[depth - 1], relative, f"work/repo/{relative}"):
            walked = True
            break
    assert walked == (patterns.match(ROOT / "/".join(parts), ROOT) is not None)
