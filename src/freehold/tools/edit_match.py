"""How Edit finds the text it replaces: an exact match first, then a few strict fallbacks.

Edit replaces `old_string` with `new_string`. The rules below are tried in this order, and
the first rule that finds `old_string` anywhere decides:

0. exact: `old_string` occurs in the file as written. It must occur exactly once (counting
   overlapping occurrences), unless `replace_all` is set; then every occurrence is replaced.
1. line endings: the file uses CRLF and `old_string` uses LF (or the other way round).
   `old_string` is converted to the file's line endings and searched for exactly again.
2. line-number prefixes: every non-empty line of `old_string` starts with the prefix Read
   puts before each line (optional spaces, digits, a tab: `"    12\t"`). The prefixes are
   removed, from `new_string` too when every non-empty line of it has one, and the text is
   searched for again as in rules 0 and 1. Only occurrences that span whole lines count.
3. trailing whitespace: the lines of `old_string` equal consecutive lines of the file once
   trailing whitespace is removed from each line on both sides.
4. indentation: the lines of `old_string` equal consecutive lines of the file once leading
   and trailing whitespace is removed, and the file's indentation differs from
   `old_string`'s by one prefix, the same on every non-blank line (four spaces dropped from
   every line, say, or one tab added to every line). `new_string` is re-indented by that
   same shift. If the shift is uneven, or a line of `new_string` cannot take it, nothing
   changes.

Rules 3 and 4 match whole lines of the file: a match starts at the start of a line and ends
at the end of one (after its line break when `old_string` ends with a line break).

A fallback (rules 1 to 4) applies only when it finds exactly one place; when it finds
several, nothing changes and the error lists their line numbers. `replace_all` works with
rules 0 and 1 only, since those match the text itself. In every case `new_string` is written
with the file's line endings (a CRLF file stays CRLF), and an edit that would leave the file
unchanged is refused. When no rule matches, the error shows the region of the file most
similar to `old_string`, numbered as Read numbers it, so the model can copy the exact text.

The line format Read uses (`numbered_line`, `cut_line`) lives here too, so that Read, Edit's
snippets and these errors all show lines the same way.
"""

from __future__ import annotations

import bisect
import heapq
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from enum import Enum
from typing import Any

__all__ = [
    "MAX_LINE_CHARS",
    "EditResult",
    "LineSpan",
    "MatchError",
    "Region",
    "Replacement",
    "Rule",
    "apply_edit",
    "closest_region",
    "cut_line",
    "numbered_line",
]

MAX_LINE_CHARS = 2000
# A closest-region hint below this similarity would mislead more than help.
_MIN_SIMILARITY = 0.5
# Bounds that keep the closest-region search well under a second on any file.
_MAX_SEARCH_CHARS = 3_000_000
_SHORTLIST = 6
# SequenceMatcher is about quadratic on code (few distinct characters): past this many
# characters a comparison costs tens of milliseconds, so longer snippets compare whole lines.
_MAX_COMPARE_CHARS = 800
_MIN_LINES_FOR_LINE_COMPARE = 5
_MAX_LISTED = 10

_PREFIX = re.compile(r"^\s*\d+\t")
_TOKEN = re.compile(r"\w+|[^\w\s]")


class MatchError(Exception):
    """The edit cannot be made; the message says why and what to send instead."""


class Rule(Enum):
    """Which rule found `old_string`; the value completes "matched ..."."""

    EXACT = "exactly"
    LINE_ENDINGS = "after converting line endings"
    LINE_NUMBER_PREFIXES = "after removing Read's line-number prefixes"
    TRAILING_WHITESPACE = "ignoring trailing whitespace"
    INDENTATION = "ignoring indentation"


# Only these rules compare the text itself, so only they may replace many places at once.
_REPLACE_ALL_RULES = (Rule.EXACT, Rule.LINE_ENDINGS)


@dataclass(frozen=True)
class Replacement:
    """Characters start:end of the original text are replaced by `text`."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class LineSpan:
    """1-based, inclusive line numbers."""

    first: int
    last: int

    def label(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


@dataclass(frozen=True)
class EditResult:
    text: str
    rule: Rule
    replacements: tuple[Replacement, ...]
    # Where each replacement ended up in the new text, for the snippet Edit shows.
    changed: tuple[LineSpan, ...]


@dataclass(frozen=True)
class Region:
    """The part of a file most similar to an `old_string` that was not found."""

    lines: LineSpan
    similarity: float
    text: tuple[str, ...]


def numbered_line(number: int, line: str) -> str:
    """A line as `cat -n` shows it, which is how Read shows it."""
    return f"{number:>6}\t{line}"


def cut_line(line: str, hidden: int = 0) -> str:
    """The line cut to MAX_LINE_CHARS; `hidden` counts characters already dropped after it."""
    extra = max(len(line) - MAX_LINE_CHARS, 0) + hidden
    if extra == 0:
        return line
    return f"{line[:MAX_LINE_CHARS]}… [line truncated, {extra} more chars]"


# ---------------------------------------------------------------------------- the document


@dataclass(frozen=True)
class _Doc:
    """The text split into lines, with the offsets needed to turn line matches into spans."""

    text: str
    lines: tuple[str, ...]  # without their line breaks
    starts: tuple[int, ...]  # offset of each line's first character
    ends: tuple[int, ...]  # offset just past each line's content (before "\r\n" or "\n")
    breaks: tuple[int, ...]  # offset just past each line's line break
    eol: str

    @classmethod
    def of(cls, text: str) -> _Doc:
        pieces = text.split("\n")
        if pieces[-1] == "":
            pieces.pop()  # the text ends with a line break, or is empty
        lines, starts, ends, breaks = [], [], [], []
        pos = 0
        for piece in pieces:
            has_break = pos + len(piece) < len(text)
            content = piece[:-1] if has_break and piece.endswith("\r") else piece
            lines.append(content)
            starts.append(pos)
            ends.append(pos + len(content))
            pos += len(piece) + 1
            breaks.append(min(pos, len(text)))
        crlf = text.count("\r\n")
        eol = "\r\n" if crlf and crlf * 2 >= text.count("\n") else "\n"
        return cls(text, tuple(lines), tuple(starts), tuple(ends), tuple(breaks), eol)

    def line_of(self, offset: int) -> int:
        """The 1-based number of the line that holds `offset`."""
        return max(bisect.bisect_right(self.starts, offset), 1)

    def span_of(self, start: int, end: int) -> LineSpan:
        last = self.line_of(max(end - 1, start))
        return LineSpan(self.line_of(start), last)


def _to_eol(text: str, eol: str) -> str:
    return text.replace("\r\n", "\n").replace("\n", eol)


def _split_lines(text: str) -> tuple[list[str], bool]:
    """The lines of `old_string` or `new_string` and whether it ended with a line break."""
    text = text.replace("\r\n", "\n")
    ends_with_break = text.endswith("\n")
    return (text[:-1] if ends_with_break else text).split("\n"), ends_with_break


# ---------------------------------------------------------------------------- the rules


@dataclass(frozen=True)
class _Hit:
    """A place a rule found; `render` makes the replacement text (and may refuse)."""

    start: int
    end: int
    render: Callable[[], str]


def _fixed(text: str) -> Callable[[], str]:
    return lambda: text


def _occurrences(text: str, needle: str) -> list[int]:
    """Every start of `needle` in `text`, overlapping ones included (they make a match ambiguous)."""
    found, at = [], text.find(needle)
    while at != -1:
        found.append(at)
        at = text.find(needle, at + 1)
    return found


def _exact_hits(doc: _Doc, old: str, new: str) -> list[_Hit]:
    rendered = _fixed(_to_eol(new, doc.eol))
    return [_Hit(at, at + len(old), rendered) for at in _occurrences(doc.text, old)]


def _line_ending_variant(doc: _Doc, old: str) -> str | None:
    variant = _to_eol(old, doc.eol)
    return variant if variant != old else None


def _find_exact(doc: _Doc, old: str, new: str) -> list[_Hit]:
    return _exact_hits(doc, old, new)


def _find_line_endings(doc: _Doc, old: str, new: str) -> list[_Hit]:
    variant = _line_ending_variant(doc, old)
    return _exact_hits(doc, variant, new) if variant else []


def _strip_prefixes(text: str) -> str | None:
    """`text` without Read's line-number prefixes, or None unless every non-empty line has one."""
    lines = text.split("\n")
    if not all(_PREFIX.match(line) for line in lines if line.strip()):
        return None
    return "\n".join(_PREFIX.sub("", line, count=1) for line in lines)


def _spans_whole_lines(doc: _Doc, hit: _Hit) -> bool:
    starts_line = hit.start == 0 or doc.text[hit.start - 1] == "\n"
    rest = doc.text[hit.end : hit.end + 2]
    ends_line = hit.end == len(doc.text) or doc.text[hit.end - 1] == "\n" or rest.startswith(("\n", "\r\n"))
    return starts_line and ends_line


def _find_prefixed(doc: _Doc, old: str, new: str) -> list[_Hit]:
    stripped = _strip_prefixes(old)
    if stripped is None or not stripped.strip():
        return []
    stripped_new = _strip_prefixes(new)
    new = new if stripped_new is None else stripped_new
    for find in (_find_exact, _find_line_endings):
        hits = [hit for hit in find(doc, stripped, new) if _spans_whole_lines(doc, hit)]
        if hits:
            return hits
    return []


def _line_matches(doc: _Doc, old_lines: Sequence[str], key: Callable[[str], str]) -> list[int]:
    """Indexes of the first file line of every run of lines equal to `old_lines` under `key`."""
    wanted = [key(line) for line in old_lines]
    anchor = next((i for i, k in enumerate(wanted) if k), None)
    if anchor is None:
        return []  # only blank lines: they would match almost anywhere
    have = [key(line) for line in doc.lines]
    count = len(wanted)
    found = []
    for index, k in enumerate(have):
        first = index - anchor
        if k == wanted[anchor] and first >= 0 and have[first : first + count] == wanted:
            found.append(first)
    return found


def _line_span(doc: _Doc, first: int, count: int, with_break: bool) -> tuple[int, int]:
    last = first + count - 1
    return doc.starts[first], doc.breaks[last] if with_break else doc.ends[last]


def _line_replacement(doc: _Doc, last: int, new: str, old_had_break: bool) -> str:
    """`new` with the file's line endings; its final line break is dropped where the file has none."""
    if old_had_break and doc.breaks[last] == doc.ends[last]:
        new = new.replace("\r\n", "\n").removesuffix("\n")
    return _to_eol(new, doc.eol)


def _find_trailing(doc: _Doc, old: str, new: str) -> list[_Hit]:
    old_lines, had_break = _split_lines(old)
    hits = []
    for first in _line_matches(doc, old_lines, str.rstrip):
        start, end = _line_span(doc, first, len(old_lines), had_break)
        text = _line_replacement(doc, first + len(old_lines) - 1, new, had_break)
        hits.append(_Hit(start, end, _fixed(text)))
    return hits


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


@dataclass(frozen=True)
class _Shift:
    """The file's indentation is `added + old's indentation without removed`."""

    added: str
    removed: str

    def moves(self, old_indent: str, file_indent: str) -> bool:
        return old_indent.startswith(self.removed) and self.added + old_indent[len(self.removed) :] == file_indent

    def apply(self, line: str) -> str | None:
        """`line` re-indented, None if it is indented less than the shift removes; blank lines stay."""
        if not line.strip():
            return line
        if not line.startswith(self.removed):
            return None
        return self.added + line[len(self.removed) :]


def _indent_shift(file_lines: Sequence[str], old_lines: Sequence[str]) -> _Shift | None:
    """The one prefix shift that turns old's indentation into the file's, if there is one."""
    pairs = [(_indent(f), _indent(o)) for f, o in zip(file_lines, old_lines, strict=True) if f.strip()]
    have, want = pairs[0]
    if have.endswith(want):
        shift = _Shift(added=have[: len(have) - len(want)], removed="")
    elif want.endswith(have):
        shift = _Shift(added="", removed=want[: len(want) - len(have)])
    else:
        return None
    return shift if all(shift.moves(o, f) for f, o in pairs) else None


def _reindent(doc: _Doc, first: int, old_lines: list[str], new: str) -> str:
    region = doc.lines[first : first + len(old_lines)]
    shift = _indent_shift(region, old_lines)
    where = LineSpan(first + 1, first + len(old_lines)).label()
    if shift is None:
        raise MatchError(
            f"old_string matches lines {where} only ignoring indentation, and its indentation differs "
            "unevenly from the file's, so it cannot be re-indented safely; copy the exact text from Read"
        )
    new_lines, new_had_break = _split_lines(new)
    moved = [shift.apply(line) for line in new_lines]
    if any(line is None for line in moved):
        raise MatchError(
            f"old_string matches lines {where} ignoring indentation, but new_string is indented less "
            f"than the {len(shift.removed)} characters to remove; send it with the file's exact indentation"
        )
    return "\n".join(line for line in moved if line is not None) + ("\n" if new_had_break else "")


def _find_indented(doc: _Doc, old: str, new: str) -> list[_Hit]:
    old_lines, had_break = _split_lines(old)
    last_offset = len(old_lines) - 1
    hits = []
    for first in _line_matches(doc, old_lines, str.strip):
        start, end = _line_span(doc, first, len(old_lines), had_break)

        def render(first: int = first) -> str:
            return _line_replacement(doc, first + last_offset, _reindent(doc, first, old_lines, new), had_break)

        hits.append(_Hit(start, end, render))
    return hits


_RULES: tuple[tuple[Rule, Callable[[_Doc, str, str], list[_Hit]]], ...] = (
    (Rule.EXACT, _find_exact),
    (Rule.LINE_ENDINGS, _find_line_endings),
    (Rule.LINE_NUMBER_PREFIXES, _find_prefixed),
    (Rule.TRAILING_WHITESPACE, _find_trailing),
    (Rule.INDENTATION, _find_indented),
)


def _first_rule_that_matches(doc: _Doc, old: str, new: str) -> tuple[Rule, list[_Hit]]:
    for rule, find in _RULES:
        hits = find(doc, old, new)
        if hits:
            return rule, hits
    raise MatchError(_not_found_message(doc, old))


# ---------------------------------------------------------------------------- applying


def apply_edit(text: str, old: str, new: str, replace_all: bool = False) -> EditResult:
    """`text` with `old` replaced by `new` under the rules above; MatchError when it cannot be."""
    if not old:
        raise MatchError("old_string is empty; give the text to replace")
    if old == new:
        raise MatchError("old_string and new_string are identical; there is nothing to change")
    doc = _Doc.of(text)
    rule, hits = _first_rule_that_matches(doc, old, new)
    _check_count(doc, rule, hits, replace_all)
    if replace_all:
        hits = _non_overlapping(hits)
    replacements = tuple(Replacement(hit.start, hit.end, hit.render()) for hit in hits)
    result = _replace(doc, rule, replacements)
    if result.text == text:
        raise MatchError(f"the edit changes nothing: the file already reads that way (matched {rule.value})")
    return result


def _check_count(doc: _Doc, rule: Rule, hits: list[_Hit], replace_all: bool) -> None:
    places = _places(doc, hits)
    if replace_all and rule not in _REPLACE_ALL_RULES:
        raise MatchError(
            f"old_string is not in the file exactly; it matches only {rule.value} (lines {places}), and "
            "replace_all needs an exact match; copy the exact text, or edit each place without replace_all"
        )
    if len(hits) == 1 or replace_all:
        return
    if rule is Rule.EXACT:
        raise MatchError(
            f"old_string occurs {len(hits)} times (lines {places}); add surrounding lines to make it unique, "
            "or set replace_all=true to replace every occurrence"
        )
    raise MatchError(
        f"old_string is not in the file exactly; {rule.value} it matches {len(hits)} places (lines {places}), "
        "so nothing was changed; copy the exact text of the one you mean, with enough surrounding lines to be unique"
    )


def _places(doc: _Doc, hits: list[_Hit]) -> str:
    labels = [doc.span_of(hit.start, hit.end).label() for hit in hits[:_MAX_LISTED]]
    return ", ".join(labels) + (", …" if len(hits) > _MAX_LISTED else "")


def _non_overlapping(hits: list[_Hit]) -> list[_Hit]:
    kept: list[_Hit] = []
    for hit in hits:
        if not kept or hit.start >= kept[-1].end:
            kept.append(hit)
    return kept


def _replace(doc: _Doc, rule: Rule, replacements: tuple[Replacement, ...]) -> EditResult:
    parts, changed, pos, shift = [], [], 0, 0
    for rep in replacements:
        parts += [doc.text[pos : rep.start], rep.text]
        first = doc.line_of(rep.start) + shift
        body = rep.text.removesuffix("\n")
        changed.append(LineSpan(first, first + body.count("\n")))
        shift += rep.text.count("\n") - doc.text.count("\n", rep.start, rep.end)
        pos = rep.end
    parts.append(doc.text[pos:])
    return EditResult("".join(parts), rule, replacements, tuple(changed))


# ---------------------------------------------------------------------------- not found


def closest_region(text: str, old: str) -> Region | None:
    """The run of lines of `text`, as many as `old` has, most similar to `old`.

    Scoring every window with SequenceMatcher would take seconds on a big file, so windows are
    first scored by how many of old's tokens they share (one pass, updated as the window
    slides), and only the best few are compared in full.
    """
    if not text or len(text) > _MAX_SEARCH_CHARS:
        return None
    doc = _Doc.of(text)
    old_lines, _ = _split_lines(_strip_prefixes(old.replace("\r\n", "\n")) or old)
    size = min(len(old_lines), len(doc.lines))
    # Indentation is compared away, as rule 4 does, so the hint points at the content that differs.
    wanted = [line.strip() for line in old_lines]
    best: Region | None = None
    for first in _shortlist(doc.lines, old_lines, size):
        window = doc.lines[first : first + size]
        floor = best.similarity if best else 0.0
        ratio = _similarity(wanted, [line.strip() for line in window], floor)
        if ratio > floor:
            best = Region(LineSpan(first + 1, first + size), ratio, window)
    return best


def _similarity(wanted: list[str], window: list[str], floor: float) -> float:
    """SequenceMatcher's ratio of the two runs of lines, or 0.0 when it cannot beat `floor`."""
    a, b = "\n".join(wanted), "\n".join(window)
    matcher: SequenceMatcher[Any]
    if max(len(a), len(b)) > _MAX_COMPARE_CHARS and len(wanted) >= _MIN_LINES_FOR_LINE_COMPARE:
        matcher = SequenceMatcher(None, wanted, window, autojunk=False)
    else:
        # autojunk would count spaces as junk in longer text, which makes code look dissimilar.
        matcher = SequenceMatcher(None, a[:_MAX_COMPARE_CHARS], b[:_MAX_COMPARE_CHARS], autojunk=False)
    if matcher.real_quick_ratio() <= floor or matcher.quick_ratio() <= floor:
        return 0.0
    return matcher.ratio()


def _shortlist(lines: Sequence[str], old_lines: Sequence[str], size: int) -> list[int]:
    """The starts of the windows that share the most tokens with old's lines."""
    wanted = Counter(token for line in old_lines for token in _TOKEN.findall(line))
    # Tokens old does not have never add to a score; dropping them first halves the work.
    tokens = [[t for t in _TOKEN.findall(line) if t in wanted] for line in lines]
    have: Counter[str] = Counter()
    shared, scores = 0, []
    for index, line_tokens in enumerate(tokens):
        for token in line_tokens:
            have[token] += 1
            shared += have[token] <= wanted[token]
        if index >= size:
            for token in tokens[index - size]:
                shared -= have[token] <= wanted[token]
                have[token] -= 1
        if index >= size - 1:
            scores.append((shared, -(index - size + 1)))
    return [-start for _, start in heapq.nlargest(_SHORTLIST, scores)]


def _not_found_message(doc: _Doc, old: str) -> str:
    tried = "neither exactly nor ignoring line endings, line-number prefixes, trailing whitespace or indentation"
    region = closest_region(doc.text, old)
    if region is None or region.similarity < _MIN_SIMILARITY:
        return f"old_string was not found in the file ({tried}); Read the file again to see its current text"
    shown = "\n".join(numbered_line(region.lines.first + i, cut_line(line)) for i, line in enumerate(region.text))
    return (
        f"old_string was not found in the file ({tried}). The most similar part is lines "
        f"{region.lines.label()} ({region.similarity:.0%} similar):\n{shown}\n"
        "Copy the exact text from there (without the line-number prefixes) and retry"
    )
