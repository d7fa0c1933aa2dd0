"""The Edit matcher: each rule, each refusal, and the closest-region hint."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from freehold.tools.edit_match import (
    LineSpan,
    MatchError,
    Rule,
    apply_edit,
    closest_region,
    cut_line,
    numbered_line,
)

CODE = "def f(x):\n    if x:\n        a = 1\n        b = 2\n    return a\n"


def refused(text: str, old: str, new: str, replace_all: bool = False) -> str:
    with pytest.raises(MatchError) as caught:
        apply_edit(text, old, new, replace_all)
    return str(caught.value)


# ---------------------------------------------------------------------------- exact


def test_exact_unique_match_is_replaced() -> None:
    result = apply_edit(CODE, "a = 1", "a = 10")
    assert result.rule is Rule.EXACT
    assert result.text == CODE.replace("a = 1", "a = 10")
    assert result.changed == (LineSpan(3, 3),)


def test_exact_match_that_occurs_twice_is_refused_with_its_lines() -> None:
    message = refused("x = 1\ny = 2\nx = 1\n", "x = 1", "x = 3")
    assert "occurs 2 times (lines 1, 3)" in message
    assert "replace_all" in message


def test_overlapping_occurrences_count_as_ambiguous() -> None:
    message = refused("x\nx\nx\n", "x\nx", "y")
    assert "occurs 2 times (lines 1-2, 2-3)" in message


def test_replace_all_replaces_every_occurrence_without_overlap() -> None:
    result = apply_edit("x = 1\ny = 2\nx = 1\n", "x = 1", "x = 3", replace_all=True)
    assert result.text == "x = 3\ny = 2\nx = 3\n"
    assert result.changed == (LineSpan(1, 1), LineSpan(3, 3))
    assert apply_edit("aaa", "aa", "b", replace_all=True).text == "ba"


def test_changed_lines_account_for_earlier_replacements() -> None:
    result = apply_edit("k\nz\nk\n", "k\n", "one\ntwo\n", replace_all=True)
    assert result.text == "one\ntwo\nz\none\ntwo\n"
    assert result.changed == (LineSpan(1, 2), LineSpan(4, 5))


def test_identical_and_empty_old_string_are_refused() -> None:
    assert "identical" in refused(CODE, "a = 1", "a = 1")
    assert "empty" in refused(CODE, "", "x")


def test_an_edit_that_changes_nothing_is_refused() -> None:
    # The file already lacks the trailing spaces the model wants to remove.
    assert "changes nothing" in refused("a = 1\nb = 2\n", "a = 1  \nb = 2\n", "a = 1\nb = 2\n")


# ---------------------------------------------------------------------------- 1. line endings


def test_lf_old_string_matches_crlf_file_and_result_stays_crlf() -> None:
    text = "one\r\ntwo\r\nthree\r\n"
    result = apply_edit(text, "one\ntwo\n", "uno\ndos\n")
    assert result.rule is Rule.LINE_ENDINGS
    assert result.text == "uno\r\ndos\r\nthree\r\n"


def test_exact_match_in_crlf_file_writes_new_lines_as_crlf() -> None:
    result = apply_edit("one\r\ntwo\r\n", "two", "2\n2b")
    assert result.rule is Rule.EXACT
    assert result.text == "one\r\n2\r\n2b\r\n"


def test_crlf_old_string_matches_lf_file() -> None:
    result = apply_edit("one\ntwo\n", "one\r\ntwo", "1\r\n2")
    assert result.rule is Rule.LINE_ENDINGS
    assert result.text == "1\n2\n"


def test_line_endings_rule_refuses_two_places_but_allows_replace_all() -> None:
    text = "a\r\nb\r\na\r\nb\r\n"
    assert "after converting line endings it matches 2 places (lines 1-2, 3-4)" in refused(text, "a\nb", "c")
    assert apply_edit(text, "a\nb", "c", replace_all=True).text == "c\r\nc\r\n"


# ---------------------------------------------------------------------------- 2. Read prefixes


def test_read_prefixes_are_stripped_from_old_and_new() -> None:
    old = "     3\t        a = 1\n     4\t        b = 2\n"
    new = "     3\t        a = 5\n     4\t        b = 6\n"
    result = apply_edit(CODE, old, new)
    assert result.rule is Rule.LINE_NUMBER_PREFIXES
    assert result.text == CODE.replace("a = 1", "a = 5").replace("b = 2", "b = 6")


def test_new_string_without_prefixes_is_used_as_is() -> None:
    result = apply_edit(CODE, "     3\t        a = 1", "        a = 7")
    assert result.text == CODE.replace("a = 1", "a = 7")


def test_prefix_rule_counts_only_whole_lines() -> None:
    # "apple" is only part of a line of this tab-separated file: no place to edit.
    text = "1\tapple\n2\tbanana\n"
    assert "not found" in refused(text, "7\tapple", "7\tpear")
    # ...but a whole line is.
    assert apply_edit("apple\n2\tbanana\n", "9\tapple", "pear").text == "pear\n2\tbanana\n"


def test_prefix_rule_refuses_two_places() -> None:
    text = "x = 1\ny = 2\nx = 1\n"
    assert "after removing Read's line-number prefixes it matches 2 places (lines 1, 3)" in refused(
        text, "     1\tx = 1", "x = 2"
    )


# ---------------------------------------------------------------------------- 3. trailing whitespace


def test_trailing_whitespace_in_the_file_is_ignored() -> None:
    text = "a = 1   \nb = 2\t\nc = 3\n"
    result = apply_edit(text, "a = 1\nb = 2\n", "a = 1\nb = 20\n")
    assert result.rule is Rule.TRAILING_WHITESPACE
    assert result.text == "a = 1\nb = 20\nc = 3\n"


def test_trailing_whitespace_rule_refuses_two_places() -> None:
    text = "a  \nb\na \nb\n"
    assert "ignoring trailing whitespace it matches 2 places (lines 1-2, 3-4)" in refused(text, "a\nb", "c")


def test_trailing_whitespace_match_without_final_break_keeps_the_rest_of_the_line_break() -> None:
    # old_string has no final line break, so the file's line break after the match stays.
    result = apply_edit("a \nb \nc\n", "a\nb", "x")
    assert result.text == "x\nc\n"


# ---------------------------------------------------------------------------- 4. indentation


def test_dropped_indentation_is_restored_on_new_string() -> None:
    old = "if x:\n    a = 1\n    b = 2\n"
    new = "if x:\n    a = 1\n    c = 3\n    b = 2\n"
    result = apply_edit(CODE, old, new)
    assert result.rule is Rule.INDENTATION
    assert result.text == "def f(x):\n    if x:\n        a = 1\n        c = 3\n        b = 2\n    return a\n"
    assert result.changed == (LineSpan(2, 5),)


def test_added_indentation_is_removed_from_new_string() -> None:
    old = "        def f(x):\n            if x:\n"
    new = "        def f(x, y):\n            if x and y:\n"
    result = apply_edit(CODE, old, new)
    assert result.text == CODE.replace("def f(x):\n    if x:", "def f(x, y):\n    if x and y:")


def test_tab_indented_file_gets_tabs_back() -> None:
    text = "func f() {\n\tif x {\n\t\treturn 1\n\t}\n}\n"
    result = apply_edit(text, "if x {\n\treturn 1\n}", "if x {\n\treturn 2\n}")
    assert result.text == "func f() {\n\tif x {\n\t\treturn 2\n\t}\n}\n"


def test_blank_lines_in_new_string_stay_blank() -> None:
    result = apply_edit(CODE, "a = 1\nb = 2", "a = 1\n\nb = 2")
    assert result.text == "def f(x):\n    if x:\n        a = 1\n\n        b = 2\n    return a\n"


def test_indentation_rule_refuses_two_blocks_indented_differently() -> None:
    text = "class A:\n    def g(self):\n        return 1\n\ndef g(self):\n    return 1\n"
    message = refused(text, "  def g(self):\n      return 1", "  def g(self):\n      return 2")
    assert "ignoring indentation it matches 2 places (lines 2-3, 5-6)" in message


def test_uneven_indentation_difference_is_refused() -> None:
    message = refused(CODE, "if x:\n        a = 1\n    b = 2", "if x:\n    a = 2\n    b = 2")
    assert "unevenly" in message and "lines 2-4" in message


def test_new_string_indented_less_than_the_shift_is_refused() -> None:
    old = "            a = 1\n            b = 2\n"
    message = refused(CODE, old, "a = 1\nb = 3\n")
    assert "indented less" in message


def test_fallback_rules_refuse_replace_all() -> None:
    message = refused(CODE, "if x:\n    a = 1", "if y:\n    a = 1", replace_all=True)
    assert "replace_all needs an exact match" in message and "lines 2-3" in message


# ---------------------------------------------------------------------------- trailing newline


def test_file_without_final_line_break_keeps_that_state() -> None:
    assert apply_edit("a\nb", "b", "c").text == "a\nc"
    # The model's old_string ends with a break the file does not have at its end.
    result = apply_edit("x\n    a\n    b", "a\nb\n", "a\nc\n")
    assert result.rule is Rule.INDENTATION
    assert result.text == "x\n    a\n    c"


# ---------------------------------------------------------------------------- not found


def test_not_found_names_the_closest_region_with_read_numbering() -> None:
    message = refused(CODE, "if x:\n    a = 11\n", "if x:\n    a = 2\n")
    assert "not found" in message
    assert "lines 2-3" in message and "% similar" in message
    assert "     2\t    if x:\n     3\t        a = 1\n" in message


def test_not_found_without_anything_similar_says_to_read_again() -> None:
    message = refused(CODE, "completely unrelated text here", "x")
    assert "Read the file again" in message
    assert "similar" not in message


def test_closest_region_in_a_large_file() -> None:
    text = "".join(f"def func_{i}(x):\n    return x * {i}\n\n" for i in range(7000))
    region = closest_region(text, "def func_4321(y):\n    return y * 4321\n")
    assert region is not None
    assert region.lines == LineSpan(4321 * 3 + 1, 4321 * 3 + 2)
    assert region.similarity > 0.8


def test_closest_region_looks_past_indentation() -> None:
    text = "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    region = closest_region(text, "def h(self):\n    return 2")
    assert region is not None and region.lines == LineSpan(5, 6)


def test_closest_region_of_an_empty_file_is_none() -> None:
    assert closest_region("", "x") is None


# ---------------------------------------------------------------------------- line format


def test_numbered_line_and_cut_line() -> None:
    assert numbered_line(7, "abc") == "     7\tabc"
    assert cut_line("x" * 2005) == "x" * 2000 + "… [line truncated, 5 more chars]"
    assert cut_line("short", hidden=3) == "short… [line truncated, 3 more chars]"


# ---------------------------------------------------------------------------- properties

WORDS = st.sampled_from(["a = 1", "b()", "return c", "if d:", "e += 2", "pass"])
BLOCK = st.lists(st.tuples(st.integers(0, 2), WORDS), min_size=1, max_size=5)


def indent(lines: list[tuple[int, str]], base: int) -> str:
    return "".join("    " * (base + level) + word + "\n" for level, word in lines)


@given(before=BLOCK, block=BLOCK, after=BLOCK, replacement=BLOCK, base=st.integers(1, 3))
def test_indentation_fallback_equals_the_exact_edit(
    before: list[tuple[int, str]],
    block: list[tuple[int, str]],
    after: list[tuple[int, str]],
    replacement: list[tuple[int, str]],
    base: int,
) -> None:
    marker = [(0, "marker()")]  # makes the block unique
    text = indent(before, 0) + indent(marker + block, base) + indent(after, 0)
    exact_old, exact_new = indent(marker + block, base), indent(marker + replacement, base)
    assume(exact_old != exact_new)
    expected = apply_edit(text, exact_old, exact_new)
    result = apply_edit(text, indent(marker + block, 0), indent(marker + replacement, 0))
    assert result.text == expected.text


@given(text=st.text("ab\n \t", max_size=60), old=st.text("ab\n", min_size=1, max_size=6), new=st.text("xy\n"))
def test_a_successful_edit_changes_only_its_region(text: str, old: str, new: str) -> None:
    try:
        result = apply_edit(text, old, new)
    except MatchError:
        return
    (rep,) = result.replacements
    assert result.text == text[: rep.start] + rep.text + text[rep.end :]
    # Whatever rule applied, the region replaced is what old_string names, give or take whitespace.
    assert text[rep.start : rep.end].split() == old.split()
