"""What an issue's text points at: paths, traceback frames, dotted names and identifiers.

Issues name code in a few recognisable ways: a path (`django/db/models/query.py`), a traceback
frame (`File ".../site-packages/django/db/models/query.py", line 12, in get`), a dotted name
(`from astropy.modeling.separable import separability_matrix`, `sympy.core.Basic`), and plain
identifiers, in code (`separability_matrix(cm)`) or in prose ("the separability matrix"). Text
inside code blocks and backticks counts for more than prose, and identifiers that look like code
(snake_case, CamelCase, a call) for more than English words.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from freehold.index import text

_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_TICKS = re.compile(r"`([^`\n]{1,200})`")
_PROMPT_LINE = re.compile(r"^(?:>>>|\.\.\.|\$|In \[\d+\]:|    |\t).*$", re.M)
_FRAME = re.compile(r'File "([^"]+)", line (\d+)(?:, in ([\w<>.]+))?')
_PYTEST_FRAME = re.compile(r"^([\w./\\-]+\.py):(\d+):(?: in (\w+))?", re.M)
_PATH = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.(?:py|pyi|pyx|js|jsx|ts|tsx|go|rs|java|c|h|cc|cpp|hpp|"
                   r"cs|rb|php|kt|swift|scala|sh|cfg|toml|ini|json|yaml|yml|txt|rst|md))(?![\w/])")
_DOTTED = re.compile(r"\b[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\b")
_NAME = re.compile(r"\b[A-Za-z_]\w*\b")
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_CODE_LIKE = re.compile(r"_|[a-z][A-Z]|^[A-Z][a-z]+[A-Z]")


@dataclass
class IssueRefs:
    """What one issue mentions, with weights."""

    terms: Counter[str] = field(default_factory=Counter)  # full-text search terms
    code_terms: Counter[str] = field(default_factory=Counter)  # those in code: blocks, backticks, tracebacks
    title_terms: Counter[str] = field(default_factory=Counter)  # those of the first line, the title
    names: Counter[str] = field(default_factory=Counter)  # identifiers -> weight
    qualified: set[tuple[str, str]] = field(default_factory=set)  # (Owner, member) from `Owner.member`
    paths: list[str] = field(default_factory=list)  # path-like strings, in order
    frames: list[tuple[str, str]] = field(default_factory=list)  # (path, function), outermost first


def read_issue(body: str) -> IssueRefs:
    refs = IssueRefs(terms=Counter(text.terms(body)))
    code = _code_parts(body)
    refs.code_terms = Counter(text.terms(code))
    refs.title_terms = Counter(text.terms(body.strip().split("\n", 1)[0]))
    _add_frames(refs, body)
    _add_paths(refs, body)
    for dotted in _DOTTED.findall(body):
        if not _PATH.fullmatch(dotted):
            _add_qualified(refs, dotted)
    _add_names(refs, code, in_code=True)
    _add_names(refs, _without(body, code), in_code=False)
    return refs


def _code_parts(body: str) -> str:
    parts = _FENCE.findall(body) + _TICKS.findall(_FENCE.sub(" ", body)) + _PROMPT_LINE.findall(body)
    return "\n".join(parts)


def _without(body: str, code: str) -> str:
    prose = _FENCE.sub(" ", body)
    prose = _TICKS.sub(" ", prose)
    return _PROMPT_LINE.sub(" ", prose)


def _add_frames(refs: IssueRefs, body: str) -> None:
    for match in _FRAME.finditer(body):
        refs.frames.append((_clean_path(match.group(1)), match.group(3) or ""))
    for match in _PYTEST_FRAME.finditer(body):
        refs.frames.append((_clean_path(match.group(1)), match.group(3) or ""))


def _add_paths(refs: IssueRefs, body: str) -> None:
    for path in _PATH.findall(body.replace("\\", "/")):
        cleaned = _clean_path(path)
        if "/" in cleaned or cleaned.count(".") == 1:
            refs.paths.append(cleaned)


def _clean_path(path: str) -> str:
    path = path.replace("\\", "/")
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return path.lstrip("./")


def _add_qualified(refs: IssueRefs, dotted: str) -> None:
    parts = dotted.split(".")
    for owner, member in zip(parts, parts[1:]):
        if owner[:1].isupper() and not member[:1].isupper():
            refs.qualified.add((owner, member))


def _add_names(refs: IssueRefs, chunk: str, *, in_code: bool) -> None:
    calls = set(_CALL.findall(chunk))
    counts = Counter(_NAME.findall(chunk))
    for name, count in counts.items():
        if len(name) < 3 or name.lower() in text.STOPWORDS:
            continue
        weight = 1.0 if in_code else 0.4
        if _CODE_LIKE.search(name) or name in calls:
            weight *= 2.0
        elif not in_code:
            weight *= 0.5  # an English word
        refs.names[name] += weight * (1.0 + math.log(count))
