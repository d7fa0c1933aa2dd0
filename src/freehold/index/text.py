"""Words for full-text search: identifiers kept whole and split into their parts.

Code says `separability_matrix` and `parseHTTPResponse`; issues say "separability matrix" and
"parse the HTTP response". Both sides are turned into the same lower-case terms: every identifier
is kept whole and, when it has parts (snake_case, camelCase, digits), each part is added too.
"""

from __future__ import annotations

import re
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# Too common to tell files apart, in English and in code.
STOPWORDS = frozenset("""
a an and are as at be been but by can could did do does for from had has have how i if in into is it
its me my no not of on or our shall should so such than that the their them then there these they this
to was we were what when where which while who why will with would you your yes also just like get got
self cls none true false def return import class pass else elif try except finally raise lambda yield
var let const function new null undefined void int str bool float this super public private static
""".split())
# Words shorter than this carry no signal (and FTS5 would index them all).
MIN_LENGTH = 2
MAX_WORD = 64


@lru_cache(maxsize=200_000)
def terms_of(word: str) -> tuple[str, ...]:
    """The search terms one identifier stands for: itself, lower-cased, then its parts."""
    lowered = word.lower()
    if len(word) > MAX_WORD:
        return ()
    parts = [part.lower() for part in _PARTS.findall(word)]
    out = [lowered] if lowered not in STOPWORDS and len(lowered) >= MIN_LENGTH else []
    if len(parts) > 1:
        out += [part for part in parts if len(part) >= MIN_LENGTH and part not in STOPWORDS and part != lowered]
    return tuple(out)


def words(text: str) -> list[str]:
    """Identifier-like words of `text`, in order, as written."""
    return _WORD.findall(text)


def terms(text: str) -> list[str]:
    """Every search term of `text`, in order (repeats kept: they are term frequencies)."""
    out: list[str] = []
    for word in _WORD.findall(text):
        out += terms_of(word)
    return out


def document(text: str) -> str:
    """`text` as FTS5 should index it: its terms separated by spaces."""
    return " ".join(terms(text))


def path_terms(path: str) -> str:
    """A file's path as terms: `sympy/core/basic.py` -> "sympy core basic py"."""
    return document(path.replace("/", " ").replace(".", " "))
