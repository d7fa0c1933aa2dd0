"""Which simple commands could a bash line run? A small, fail-closed reader for permission rules.

`analyze` reads a line the way bash would (quotes, escapes, `$(...)`, backticks, heredocs,
compound commands, wrappers such as `sudo` or `timeout`, `bash -c` and `eval` strings) and lists
the words of every simple command it may run. What it cannot follow for sure it names in
`Analysis.opaque`; words known only at run time are marked dynamic, so `match_words` can answer
"maybe" rather than guess. Written here because bashlex is GPL and guesses where this must refuse.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["MAX_COMMAND_CHARS", "MAX_DEPTH", "Analysis", "Match", "SimpleCommand", "analyze", "match_words"]

MAX_COMMAND_CHARS = 32_768  # longer lines are not analysed: opaque
MAX_DEPTH = 8  # nesting of $(...), `...`, <(...), bash -c, eval (and of wrappers) beyond this: opaque
_MAX_LEVEL = 64  # any recursion of the reader (${ in " in ${ ...) beyond this: opaque, never a RecursionError

Match = Literal["yes", "no", "maybe"]


@dataclass(frozen=True)
class SimpleCommand:
    words: tuple[str, ...]
    dynamic: frozenset[int] = frozenset()  # indices of words whose value is only known at run time

    @property
    def text(self) -> str:
        return " ".join(self.words)


@dataclass(frozen=True)
class Analysis:
    commands: tuple[SimpleCommand, ...]  # nested commands come before the command that contains them
    opaque: str | None = None  # why the line cannot be fully known; then `commands` is best effort


def analyze(command: str) -> Analysis:
    """Every simple command `command` may run, or why that cannot be known."""
    if len(command) > MAX_COMMAND_CHARS:
        return Analysis((), f"longer than {MAX_COMMAND_CHARS} characters")
    shared = _Shared()
    try:
        _Parser(command, 0, shared).run()
    except _Opaque as stop:
        shared.opaque.append(str(stop))
    return Analysis(tuple(shared.commands), shared.opaque[0] if shared.opaque else None)


def match_words(command: SimpleCommand, pattern: Sequence[str], prefix: bool) -> Match:
    """Whether `command` starts with (`prefix`) or equals the rule's words; "maybe" when a dynamic word decides."""
    words, want = command.words, tuple(pattern)
    known = min(command.dynamic, default=len(words))  # words before the first dynamic one stay in place
    if words[: min(known, len(want))] != want[: min(known, len(want))]:
        return "no"
    if not command.dynamic:
        return "yes" if (words[: len(want)] if prefix else words) == want else "no"
    if prefix:
        return "yes" if known >= len(want) else "maybe"
    literal = len(words) - len(command.dynamic)  # a dynamic word expands to zero or more words
    tail = words[max(command.dynamic) + 1 :]
    if literal > len(want) or (tail and want[len(want) - len(tail) :] != tail):
        return "no"
    return "maybe"


# ---------------------------------------------------------------------------------------------
# Reading: one recursive-descent pass over the characters; `$(...)` is read by the same parser.

_OPERATORS = (  # longest first
    ";;&", "&>>", "<<<", "<<-", "&&", "||", ";;", ";&", "|&", "&>", "<<", "<>", "<&", ">>", ">|", ">&",
    ";", "&", "|", "(", ")", "<", ">", "\n",
)
_REDIRECTS = {"&>>", "&>", "<<<", "<<-", "<<", "<>", "<&", ">>", ">|", ">&", "<", ">"}
_META = set(" \t\n;&|()<>")
_PLAIN = re.compile(r"[^ \t\n;&|()<>\\'\"$`]+")  # characters that stand for themselves in a word
_RESERVED = {
    "if", "then", "elif", "else", "fi", "while", "until", "do", "done", "for", "select", "case", "esac",
    "function", "!", "{", "}", "time", "[[", "coproc",
}
# What the words being read are: a command's, or a compound command's own (skipped, like `for`'s list)
_Mode = Literal["command", "for", "case", "pattern", "test", "name", "fundef", "time"]
_RESERVED_MODES: dict[str, _Mode] = {
    "case": "case", "for": "for", "select": "for", "[[": "test", "function": "name", "time": "time",
}
_PAREN_MODES = ("test", "pattern", "fundef")  # modes in which a `)` is theirs, not the end of a `$(`
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?\+?=")
_ARRAY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\+?=")
_FD = re.compile(r"[0-9]+|\{[A-Za-z_][A-Za-z0-9_]*\}")  # `2>x`, `{fd}>x`: the number belongs to the redirection
_PARAM = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]")
# Builtins that evaluate a quoted `a[$(cmd)]` as a subscript, running cmd: `let 'a[$(curl x)]=1'`.
_EVALUATING = {
    "let", "declare", "typeset", "local", "export", "readonly", "printf", "read", "unset", "test", "[", "mapfile",
    "readarray", "wait",
}
_ANSI = re.compile(r"\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)", re.DOTALL)
_ANSI_SIMPLE = {"a": "\a", "b": "\b", "e": "\x1b", "E": "\x1b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


class _Opaque(Exception):
    """Stops the reading; the message becomes `Analysis.opaque`."""


@dataclass
class _Shared:
    """What every parser of one line adds to, nested ones included."""

    commands: list[SimpleCommand] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)
    level: int = 0


@dataclass(frozen=True)
class _Word:
    value: str  # quotes removed, escapes decoded; expansions kept as their source text
    dynamic: bool
    raw: str  # the source text without line continuations, for assignments, reserved words, heredoc delimiters

    @property
    def quoted(self) -> bool:
        return any(char in self.raw for char in "'\"\\")


@dataclass
class _State:
    """Where one command list stands: the command being read and the compound command around it."""

    words: list[_Word] = field(default_factory=list)
    mode: _Mode = "command"  # for: loop words; case: its subject; test: [[ ]]; name: after `function`
    redirect: str | None = None  # a redirection operator waiting for its target
    cases: int = 0
    parens: int = 0

    def at_command_start(self) -> bool:
        return not self.words and not self.redirect and self.mode in ("command", "for", "time")


@dataclass(frozen=True)
class _Heredoc:
    delimiter: str
    strip_tabs: bool
    quoted: bool  # a quoted delimiter makes the body literal; otherwise `$(...)` in it runs


class _Parser:
    """Reads one text; `$(...)` inside it shares the position, other nested lines get their own parser."""

    def __init__(self, text: str, depth: int, shared: _Shared) -> None:
        self.text, self.pos, self.depth, self.shared = text, 0, depth, shared
        self.heredocs: list[_Heredoc] = []

    def run(self) -> None:
        _check_depth(self.depth)
        self._list(closer=False)
        if self.heredocs:
            raise _Opaque("unterminated heredoc")

    def _list(self, closer: bool) -> None:
        """Read commands to the end of the text, or (closer) through the `)` of a `$(` or `<(`."""
        state = _State()
        while (token := self._token(state.at_command_start())) is not None:
            if token == ")" and state.parens == 0 and state.mode not in _PAREN_MODES:
                if not closer:
                    raise _Opaque("unbalanced )")
                self._finish(state)
                return
            self._feed(state, token)
        if closer:
            raise _Opaque("unbalanced $( or <(")
        self._finish(state)

    def _feed(self, state: _State, token: _Word | str) -> None:
        if isinstance(token, _Word):
            self._word_token(state, token)
        elif state.mode == "test":
            pass  # [[ ]] may hold < > ( ) && || as its own operators
        elif state.redirect:
            raise _Opaque(f"{state.redirect} has no target")
        elif token in _REDIRECTS:
            state.redirect = token
        elif state.mode == "pattern":
            state.mode = "command" if token == ")" else "pattern"
        elif state.mode == "fundef":
            if token != ")":
                raise _Opaque("unexpected ( after a word")
            state.words, state.mode = [], "command"  # `f() body`: a definition runs nothing itself
        elif token == "(":
            self._open(state)
        elif token == ")":
            self._end_command(state)
            state.parens -= 1
        elif token != "((":
            self._separator(state, token)

    def _word_token(self, state: _State, word: _Word) -> None:
        if state.redirect:
            if state.redirect in ("<<", "<<-"):
                self.heredocs.append(_Heredoc(word.value, state.redirect == "<<-", word.quoted))
            state.redirect = None
        elif state.mode == "test":
            state.mode = "command" if word.raw == "]]" else "test"
            self._check_subscript(word)
        elif state.mode == "fundef":
            raise _Opaque("unexpected ( after a word")  # `echo(curl x)`: bash refuses it
        elif state.mode == "case" and word.raw == "in":
            state.mode = "pattern"
        elif state.mode == "pattern" and word.raw == "esac":
            state.mode, state.cases = "command", state.cases - 1
        elif state.mode == "name" or (state.mode == "for" and word.raw == "do"):
            state.mode = "command"  # the function's name, or the end of the loop's words
        elif state.mode in ("case", "pattern", "for") or (state.mode == "time" and word.raw in ("-p", "--")):
            pass
        elif not state.words and not word.quoted and word.raw in _RESERVED:
            self._reserved(state, word.raw)
        else:
            state.words.append(word)

    def _reserved(self, state: _State, word: str) -> None:
        state.mode = _RESERVED_MODES.get(word, state.mode)
        if word == "case":
            state.cases += 1
        elif word == "esac" and state.cases:
            state.cases -= 1
        elif word == "coproc":
            raise _Opaque("coproc is not analysed")

    def _open(self, state: _State) -> None:
        if len(state.words) == 1 and state.mode == "command":
            state.mode = "fundef"
        elif state.words:
            raise _Opaque("unexpected ( after a word")  # e.g. extglob @(...), which bash -c rejects too
        else:
            state.parens += 1

    def _separator(self, state: _State, token: str) -> None:
        self._end_command(state)
        if token in (";;", ";&", ";;&"):
            if not state.cases:
                raise _Opaque(f"{token} outside case")
            state.mode = "pattern"

    def _end_command(self, state: _State) -> None:
        if state.redirect:
            raise _Opaque(f"{state.redirect} has no target")
        if state.mode == "fundef":
            raise _Opaque("unexpected ( after a word")
        words, state.words = state.words, []
        if state.mode in ("for", "time", "name"):
            state.mode = "command"
        self._emit(words)

    def _finish(self, state: _State) -> None:
        self._end_command(state)
        if state.parens or state.cases or state.mode != "command":
            raise _Opaque("ends inside an unfinished (, case, for or [[")

    # -- tokens ---------------------------------------------------------------------------------

    def _token(self, command_start: bool) -> _Word | str | None:
        """The next word or operator, None at the end; `((` at a command's start is arithmetic."""
        text = self.text
        while self.pos < len(text) and (text[self.pos] in " \t" or text.startswith("\\\n", self.pos)):
            self.pos += 1 if text[self.pos] != "\\" else 2
        if text.startswith("#", self.pos):
            end = text.find("\n", self.pos)
            self.pos = len(text) if end < 0 else end
        if self.pos >= len(text):
            return None
        if command_start and text.startswith("((", self.pos):
            self._arith(self.pos + 2)
            return "(("
        if text[self.pos] in _META and not (text[self.pos] in "<>" and text.startswith("(", self.pos + 1)):
            for op in _OPERATORS:
                if text.startswith(op, self.pos):
                    self.pos += len(op)
                    if op == "\n":
                        self._heredoc_bodies()
                    return op
        word = self._word()
        if _FD.fullmatch(word.raw) and text.startswith(("<", ">"), self.pos):
            return self._token(False)
        return word

    def _word(self) -> _Word:
        """One word: quotes removed, escapes decoded, expansions kept as source text and flagged dynamic."""
        start, text, dynamic = self.pos, self.text, False
        parts: list[str] = []
        plain: list[str] = []  # unquoted literal characters: globs and braces act only there
        while self.pos < len(text):
            char = text[self.pos]
            if run := _PLAIN.match(text, self.pos):  # the common case, read in one step
                parts.append(run.group())
                plain.append(run.group())
                self.pos = run.end()
            elif char in "<>" and text.startswith("(", self.pos + 1):  # process substitution, even mid-word
                begin, self.pos = self.pos, self.pos + 2
                self._nested()
                parts.append(text[begin : self.pos])
                dynamic = True
            elif char == "(" and _ARRAY.fullmatch(text, start, self.pos):
                self._array()
                dynamic = True
            elif char in _META:
                break
            elif char == "\\":
                escaped = text[self.pos + 1 : self.pos + 2]
                parts.append("\\" if not escaped else "" if escaped == "\n" else escaped)
                self.pos += 2
            elif char == "'":
                parts.append(self._single(scan=False))
            elif char == '"':
                self.pos += 1
                value, more = self._dquote()
                parts.append(value)
                dynamic |= more
            elif char in "$`":
                value, more = self._dollar(quoted=False)
                parts.append(value)
                dynamic |= more
            else:
                parts.append(char)
                plain.append(char)
                self.pos += 1
        raw, unquoted = text[start : self.pos].replace("\\\n", ""), "".join(plain)
        tilde = raw.startswith("~") or (_ASSIGNMENT.match(raw) is not None and ("=~" in unquoted or ":~" in unquoted))
        return _Word("".join(parts), dynamic or tilde or _is_pattern(unquoted), raw)

    def _dollar(self, quoted: bool, in_dquote: bool = False) -> tuple[str, bool]:
        """The `$...` or backtick expansion at pos: its source text, and whether it is known only at run time.

        `quoted`: inside double quotes, a heredoc or arithmetic; `in_dquote`: right inside "...".
        """
        start, text, nxt = self.pos, self.text, self.pos + 1
        while text.startswith("\\\n", nxt):  # bash joins continued lines first: `$\<newline>(` is `$(`
            nxt += 2
        after = text[nxt : nxt + 1]
        with self._deeper():
            if text[start] == "`":
                self._backtick(in_dquote)
            elif text.startswith("((", nxt):
                self._arith(nxt + 2)
            elif after == "(":
                self.pos = nxt + 1
                self._nested()
            elif after == "{":
                self.pos = nxt + 1
                self._braced()
            elif after == "'" and not quoted:
                self.pos = nxt
                return self._ansi_c(), False
            elif after == '"' and not quoted:
                self.pos = nxt + 1
                return self._dquote()
            elif name := _PARAM.match(text, nxt):
                self.pos = name.end()
            else:
                self.pos += 1
                return "$", False
        return text[start : self.pos], True

    def _dquote(self, terminated: bool = True) -> tuple[str, bool]:
        """A double-quoted string whose `"` was just passed (or, not terminated, a heredoc body)."""
        parts: list[str] = []
        dynamic, text = False, self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char == '"' and terminated:
                self.pos += 1
                return "".join(parts), dynamic
            if char in "$`":
                value, more = self._dollar(quoted=True, in_dquote=terminated)
                parts.append(value)
                dynamic |= more
            elif char == "\\" and text[self.pos + 1 : self.pos + 2] in ("$", "`", '"', "\\", "\n"):
                parts.append(text[self.pos + 1].strip("\n"))
                self.pos += 2
            else:
                parts.append(char)
                self.pos += 1
        if terminated:
            raise _Opaque("unbalanced double quote")
        return "".join(parts), dynamic

    def _single(self, scan: bool) -> str:
        """A single-quoted string at pos; `scan` looks for `$(...)` in it (it runs inside "${x:-'...'}")."""
        end = self.text.find("'", self.pos + 1)
        if end < 0:
            raise _Opaque("unbalanced single quote")
        body, self.pos = self.text[self.pos + 1 : end], end + 1
        if scan:
            _Parser(body, self.depth, self.shared)._dquote(terminated=False)
        return body

    def _ansi_c(self) -> str:
        """The decoded value of a `$'...'` whose `'` is at pos."""
        end = self.pos + 1
        while end < len(self.text) and self.text[end] != "'":
            end += 2 if self.text[end] == "\\" else 1
        if end >= len(self.text):
            raise _Opaque("unbalanced $' quote")
        body, self.pos = self.text[self.pos + 1 : end], end + 1
        return _ANSI.sub(_ansi_char, body)

    def _backtick(self, in_dquote: bool) -> None:
        """Analyse the backtick substitution at pos as a nested line (`\\`` in it is a nested backtick)."""
        escapes = ("`", "\\", "$", '"') if in_dquote else ("`", "\\", "$")  # as bash: \" only right inside "..."
        body: list[str] = []
        self.pos += 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "`":
                self.pos += 1
                _Parser("".join(body), self.depth + 1, self.shared).run()
                return
            if char == "\\" and self.text[self.pos + 1 : self.pos + 2] in escapes:
                self.pos += 1
                char = self.text[self.pos]
            body.append(char)
            self.pos += 1
        raise _Opaque("unbalanced backtick")

    def _nested(self) -> None:
        """Read the commands of a `$(...)` or `<(...)` whose `(` was just passed, through its `)`."""
        _check_depth(self.depth + 1)
        self.depth += 1
        try:
            self._list(closer=True)
        finally:
            self.depth -= 1

    def _braced(self) -> None:
        """Skip a `${...}` whose `${` was just passed: quotes pair up inside it, and `$(...)` in it runs."""
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "}":
                self.pos += 1
                return
            if char in "$`":
                self._dollar(quoted=False)
            elif char == "'":
                self._single(scan=True)
            elif char == '"':
                self.pos += 1
                self._dquote()
            else:
                self.pos += 2 if char == "\\" else 1
        raise _Opaque("unbalanced ${")

    def _arith(self, begin: int) -> None:
        """Skip arithmetic through its `))`: not a command, though a `$(...)` inside it runs."""
        self.pos, depth = begin, 0
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == ")" and depth == 0:
                if not self.text.startswith("))", self.pos):
                    break  # `$( (...) )` written without the space: rare, and refused rather than re-read
                self.pos += 2
                return
            if char in "$`":
                self._dollar(quoted=True)
            elif char == "'":
                self._single(scan=True)  # quotes pair up here, but the text inside them is still expanded
            elif char == '"':
                self.pos += 1
                self._dquote()
            else:
                depth += (char == "(") - (char == ")")
                self.pos += 2 if char == "\\" else 1
        raise _Opaque("(( without its ))")

    def _array(self) -> None:
        """Skip the words of `name=(a b c)`, whose `(` is at pos; expansions inside them still run."""
        self.pos += 1
        with self._deeper():
            while (token := self._token(False)) != ")":
                if token is None or (isinstance(token, str) and token != "\n"):
                    raise _Opaque("unbalanced ( in an array")

    def _heredoc_bodies(self) -> None:
        """Skip the bodies of the heredocs begun on the line just ended; unquoted ones still run `$(...)`."""
        for doc in self.heredocs:
            start = self.pos
            while True:
                end = self.text.find("\n", self.pos)
                stop = len(self.text) if end < 0 else end
                line = self.text[self.pos : stop]
                if (line.lstrip("\t") if doc.strip_tabs else line) == doc.delimiter:
                    break
                if end < 0:
                    raise _Opaque(f"heredoc {doc.delimiter!r} is not terminated")
                self.pos = end + 1
            body, self.pos = self.text[start : self.pos], min(stop + 1, len(self.text))
            if not doc.quoted:
                _Parser(body, self.depth, self.shared)._dquote(terminated=False)
        self.heredocs.clear()

    @contextmanager
    def _deeper(self) -> Iterator[None]:
        self.shared.level += 1
        try:
            if self.shared.level > _MAX_LEVEL:
                raise _Opaque("nested too deeply")
            yield
        finally:
            self.shared.level -= 1

    # -- commands -------------------------------------------------------------------------------

    def _emit(self, words: list[_Word]) -> None:
        """Add a simple command (assignments dropped), then what it runs in turn: wrapped, -exec, -c."""
        while words and _ASSIGNMENT.match(words[0].raw):
            words = words[1:]
        if not words:
            return
        if words[0].value in _EVALUATING:
            for word in words[1:]:
                self._check_subscript(word)
        dynamic = frozenset(i for i, word in enumerate(words) if word.dynamic)
        todo = [(SimpleCommand(tuple(word.value for word in words), dynamic), 0)]
        while todo:
            command, level = todo.pop()
            self.shared.commands.append(command)
            if level > MAX_DEPTH:
                raise _Opaque("wrappers nested too deeply")
            todo += [(inner, level + 1) for inner in reversed(self._inner(command))]

    def _check_subscript(self, word: _Word) -> None:
        value = word.value
        if word.quoted and ("[" in value or "=(" in value) and ("$(" in value or "`" in value):
            self.shared.opaque.append("a quoted array subscript may run a command")

    def _inner(self, command: SimpleCommand) -> list[SimpleCommand]:
        """The commands `command` runs itself; shell lines it runs (bash -c, eval) are analysed here."""
        name = _name(command)
        if name in _SHELLS:
            self._shell(command)
        elif name == "eval":
            self._run_line(command, 1, len(command.words))
        elif name == "trap" and len(command.words) > 2 and not command.words[1].startswith("-"):
            self._run_line(command, 1, 2)  # the trap's action runs later, in this shell
        elif name == "alias":  # `shopt -s expand_aliases` makes a later line run the alias's value
            for i, word in enumerate(command.words[1:], 1):
                if "=" in word:
                    self._run_text(word.partition("=")[2], dynamic=i in command.dynamic)
        elif name == "find":
            return _find_execs(command)
        elif name in _WRAPPERS:
            return self._wrapped(command, name)
        return []

    def _wrapped(self, command: SimpleCommand, name: str) -> list[SimpleCommand]:
        start, line = _wrapped_start(command, name)
        if line is not None:
            self._run_line(command, line, line + 1)
        if name == "watch":  # watch runs its words through `sh -c`
            self._run_line(command, start, len(command.words))
        if name == "watch" or start >= len(command.words):
            return []
        if name != "xargs":
            return [_slice(command, start, len(command.words))]
        replaced = _xargs_replacement(command.words[1:start])
        inner = _slice(command, start, len(command.words), replaced)
        if replaced is None and _name(inner) in _SHELLS | _WRAPPERS.keys() | {"find"}:
            # xargs appends its input, which here becomes the command or the shell's line
            inner = SimpleCommand(inner.words + ("<stdin>",), inner.dynamic | {len(inner.words)})
        return [inner]

    def _shell(self, command: SimpleCommand) -> None:
        """`bash -c LINE` runs LINE; a shell given no script (or -s) runs whatever arrives on stdin."""
        words, i, flags = command.words, 1, ""
        while i < len(words) and i not in command.dynamic and words[i][:1] in ("-", "+") and words[i] != "-":
            if words[i] == "--":
                i += 1
                break
            flags += words[i][1:] if re.fullmatch(r"-[A-Za-z]+", words[i]) else ""
            i += 2 if words[i] in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file") else 1
        if "c" in flags:
            self._run_line(command, i, i + 1)
        elif i in command.dynamic and i + 1 < len(words):  # `bash $OPTS 'curl x'`: $OPTS may hold -c
            self.shared.opaque.append("runs a command built at run time")
        elif "s" in flags or i >= len(words) or words[i] == "-":
            self.shared.opaque.append("runs commands read from standard input")

    def _run_line(self, command: SimpleCommand, start: int, end: int) -> None:
        """Analyse words start:end as the line that bash -c, eval, watch or env -S runs."""
        dynamic = any(start <= i < end for i in command.dynamic)
        self._run_text(" ".join(command.words[start:end]), dynamic)

    def _run_text(self, line: str, dynamic: bool) -> None:
        if dynamic:
            self.shared.opaque.append("runs a command built at run time")
        else:
            _Parser(line, self.depth + 1, self.shared).run()


# ---------------------------------------------------------------------------------------------
# Wrappers: their options that take a separate value, and positional arguments before the command.

_SHELLS = {"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"}
_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    name: (frozenset(options.split()), positionals)
    for name, options, positionals in [
        ("env", "-u -C -S --unset --chdir --split-string", 0),
        ("command", "", 0), ("builtin", "", 0), ("exec", "-a", 0), ("nohup", "", 0), ("setsid", "", 0),
        ("nice", "-n --adjustment", 0), ("timeout", "-s -k --signal --kill-after", 1),
        ("time", "-o -f --output --format", 0), ("chronic", "", 0), ("unbuffer", "", 0),
        ("sudo", "-a -C -c -D -g -p -R -r -T -t -U -u --user --group --chdir --prompt --close-from", 0),
        ("doas", "-C -u", 0), ("stdbuf", "-i -o -e --input --output --error", 0),
        ("ionice", "-c -n -p -P -u --class --classdata", 0), ("watch", "-n -q --interval", 0),
        ("xargs", "-a -E -I -L -n -P -s -d --arg-file --delimiter --max-args --max-lines --max-procs", 0),
        ("strace", "-a -b -e -E -I -o -O -p -P -s -S -u -U -X", 0),
        ("flock", "-w -E -c --timeout --conflict-exit-code --command", 1),
    ]
}
_LINE_OPTIONS = {"env": ("-S", "--split-string"), "flock": ("-c", "--command")}  # their value is a shell line


def _wrapped_start(command: SimpleCommand, name: str) -> tuple[int, int | None]:
    """Where the command a wrapper runs begins, and the index of a shell line it runs (env -S, flock -c)."""
    takes, positionals = _WRAPPERS[name]
    words, i, line = command.words, 1, None
    while i < len(words) and i not in command.dynamic:  # a dynamic word may be the command: it starts there
        word = words[i]
        if word == "--":
            return i + 1, line
        if name in ("env", "sudo") and "=" in word:
            pass  # NAME=value, which env takes without checking NAME
        elif not word.startswith("-") or word == "-":
            if positionals == 0:
                break
            positionals -= 1
        elif option := _value_option(word, takes):
            if i + 1 in command.dynamic:  # `-s $SIG` may expand to more words, the command among them
                return i + 1, line
            line = i + 1 if option in _LINE_OPTIONS.get(name, ()) else line
            i += 1
        i += 1
    return i, line


def _value_option(word: str, takes: frozenset[str]) -> str | None:
    """The option in `word` that takes the next word as its value (`-iu` ends in `-u`, which does)."""
    if word.startswith("--"):
        return word if word in takes else None
    for end, letter in enumerate(word[1:], 2):
        if "-" + letter in takes:
            return "-" + letter if end == len(word) else None  # `-n5`: the value is attached
    return None


def _find_execs(command: SimpleCommand) -> list[SimpleCommand]:
    """The commands of find's `-exec CMD ... ;` (also -execdir, -ok, -okdir, and `{} +`)."""
    found: list[SimpleCommand] = []
    start: int | None = None
    words = command.words
    for i, word in enumerate(words):
        if start is None and word in ("-exec", "-execdir", "-ok", "-okdir"):
            start = i + 1
        elif start is not None and (word == ";" or word == "+" and words[i - 1] == "{}"):
            found.append(_slice(command, start, i, "{}"))
            start = None
    if start is not None:
        found.append(_slice(command, start, len(words), "{}"))
    return [inner for inner in found if inner.words]


def _xargs_replacement(options: Sequence[str]) -> str | None:
    """The text xargs replaces with its input (-I R, -i, --replace), if it was given one."""
    for i, option in enumerate(options):
        if option == "-I" and i + 1 < len(options):
            return options[i + 1]
        if option.startswith(("-I", "-i")):
            return option[2:] or "{}"
        if option.startswith("--replace"):
            return option.partition("=")[2] or "{}"
    return None


def _slice(command: SimpleCommand, start: int, end: int, replaced: str | None = None) -> SimpleCommand:
    """Words start:end of `command`; words holding `replaced` (find's {}, xargs -I) are known only at run time."""
    words = command.words[start:end]
    dynamic = {i - start for i in command.dynamic if start <= i < end}
    dynamic |= {i for i, word in enumerate(words) if replaced and replaced in word}
    return SimpleCommand(words, frozenset(dynamic))


def _name(command: SimpleCommand) -> str | None:
    """The program a command runs, without its directory; None when that is known only at run time."""
    if not command.words or 0 in command.dynamic:
        return None
    return command.words[0].rsplit("/", 1)[-1]


def _is_pattern(plain: str) -> bool:
    """Whether unquoted literal text would be globbed or brace-expanded by bash."""
    if "*" in plain or "?" in plain:
        return True
    bracket, brace = plain.find("["), plain.find("{")
    if bracket >= 0 and "]" in plain[bracket + 1 :]:
        return True
    inner = plain[brace + 1 : plain.rfind("}")] if brace >= 0 else ""
    return "," in inner or ".." in inner


def _ansi_char(escape: re.Match[str]) -> str:
    code = escape.group(1)
    if code[0] in "xuU" and len(code) > 1:
        return chr(min(int(code[1:], 16), 0x10FFFF))
    if code[0] in "01234567":
        return chr(int(code, 8) & 0xFF)  # bash keeps the low byte: $'\543' is "c"
    if code[0] == "c" and len(code) == 2:
        return chr(ord(code[1]) & 0x1F)
    return _ANSI_SIMPLE.get(code, code if code in "\\'\"?" else "\\" + code)


def _check_depth(depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _Opaque(f"nested deeper than {MAX_DEPTH} levels")
