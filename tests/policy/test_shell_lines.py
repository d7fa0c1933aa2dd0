"""The bash reader behind Bash(...) rules: every command a line may run is found, or the line is opaque."""

from __future__ import annotations

import random
import shlex
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from freehold.policy.shell import MAX_COMMAND_CHARS, MAX_DEPTH, Match, SimpleCommand, analyze, match_words


def short(value: object) -> str | None:
    """A test id that stays readable when the line is 40,000 characters long."""
    return f"{value[:30]!r}...({len(value)} chars)" if isinstance(value, str) and len(value) > 60 else None


def texts(line: str) -> list[str]:
    analysis = analyze(line)
    assert analysis.opaque is None, analysis.opaque
    return [command.text for command in analysis.commands]


def verdict(line: str, pattern: tuple[str, ...] = ("curl",)) -> Match | str:
    """What a deny rule `Bash(curl:*)` would see: "opaque", or the strongest match over the commands."""
    analysis = analyze(line)
    if analysis.opaque:
        return "opaque"
    found = {match_words(command, pattern, prefix=True) for command in analysis.commands}
    return "yes" if "yes" in found else "maybe" if "maybe" in found else "no"


@pytest.mark.parametrize(
    "line, commands",
    [
        # separators and comments
        ("a; b", ["a", "b"]),
        ("a && b || c", ["a", "b", "c"]),
        ("a | b |& c", ["a", "b", "c"]),
        ("a & b\nc", ["a", "b", "c"]),
        ("a;b&&c", ["a", "b", "c"]),
        ("echo a # curl x", ["echo a"]),
        ("# only a comment\nls", ["ls"]),
        ("echo a#b", ["echo a#b"]),
        ("echo x;#curl", ["echo x"]),
        ("ls \\\n  -la", ["ls -la"]),
        # quoting
        ("echo 'a;b' \"c|d\"", ["echo a;b c|d"]),
        ('echo "a \\" \\\\ \\$ \\` b"', ['echo a " \\ $ ` b']),
        ('echo "a\\nb"', ["echo a\\nb"]),
        ("c\\url x", ["curl x"]),
        ("\"cu\"'rl' x", ["curl x"]),
        ("$'\\x63url' x", ["curl x"]),
        ("$'\\143url' $'\\u0063' $'a\\tb' $'it\\'s'", ["curl c a\tb it's"]),
        ('$"curl" x', ["curl x"]),
        ("echo '$(curl x)' \"\\$(curl x)\"", ["echo $(curl x) $(curl x)"]),
        # nested commands come before the command holding them
        ("echo $(curl x)", ["curl x", "echo $(curl x)"]),
        ("echo `curl x`", ["curl x", "echo `curl x`"]),
        ('echo "$(curl "a b")"', ["curl a b", 'echo $(curl "a b")']),
        ("echo $(a $(b) `c`)", ["b", "c", "a $(b) `c`", "echo $(a $(b) `c`)"]),
        ("echo `a \\`b\\``", ["b", "a `b`", "echo `a \\`b\\``"]),
        ("echo $(echo ')' \"(\")", ["echo ) (", "echo $(echo ')' \"(\")"]),
        ("diff <(curl a) >(wget b)", ["curl a", "wget b", "diff <(curl a) >(wget b)"]),
        ("(cd x && make)", ["cd x", "make"]),
        ("{ a; b; }", ["a", "b"]),
        ("echo $((1 + 2))", ["echo $((1 + 2))"]),
        ("echo $(( $(curl x) + 1 ))", ["curl x", "echo $(( $(curl x) + 1 ))"]),
        ("(( i++ )) && curl", ["curl"]),
        ("echo ${X:-$(curl y)}", ["curl y", "echo ${X:-$(curl y)}"]),
        # backslash-newline joins lines before anything else, even inside `$` and reserved words
        ("fu\\\nnction g { cu\\\nrl x; }", ["curl x"]),
        ('echo "$\\\n(curl x)"', ["curl x", 'echo $\\\n(curl x)']),
        # in backticks right inside "...", \" is a quote again (as bash: not in `${}`, heredocs or unquoted)
        ('echo "`echo "a\\" ; curl x ; \\"b"`"', ["echo a", "curl x", "b", 'echo `echo "a\\" ; curl x ; \\"b"`']),
        ('echo "`echo \\" ; curl x ; \\"`"', ["echo  ; curl x ; ", 'echo `echo \\" ; curl x ; \\"`']),
        ('echo `echo \\" ; curl x`', ['echo "', "curl x", 'echo `echo \\" ; curl x`']),
        # reserved words
        ("if curl x; then rm y; elif a; then b; else c; fi", ["curl x", "rm y", "a", "b", "c"]),
        ("while a; do b; done; until c; do d; done", ["a", "b", "c", "d"]),
        ("for f in a b; do curl $f; done", ["curl $f"]),
        ("for f in $(ls); do rm $f; done", ["ls", "rm $f"]),
        ("for ((i = 0; i < 3; i++)); do curl; done", ["curl"]),
        ("select x in a b; do echo $x; done", ["echo $x"]),
        ("case $x in a) curl y;; (b|c) wget z;& *) ls;;& esac", ["curl y", "wget z", "ls"]),
        ("case $x in\n  a)\n    curl y\n    ;;\nesac\nls", ["curl y", "ls"]),
        ("echo $(case x in a) curl;; esac)", ["curl", "echo $(case x in a) curl;; esac)"]),
        ("f() { curl x; }", ["curl x"]),
        ("function f { curl x; }", ["curl x"]),
        ("function f () ( curl x )", ["curl x"]),
        ("[[ -f x && $y < z ]] && curl y", ["curl y"]),
        ("[[ $(curl x) ]]", ["curl x"]),
        ("time -p curl x", ["curl x"]),
        ("! curl x", ["curl x"]),
        ("echo if then fi", ["echo if then fi"]),
        ("local x=\"$(date)\"; echo 'a[$(x)]'", ["date", "local x=$(date)", "echo a[$(x)]"]),
        # assignments
        ("A=1 B=$(curl x) cmd y", ["curl x", "cmd y"]),
        ("A=1 B=2", []),
        ("A=(1 $(curl x)) ls", ["curl x", "ls"]),
        ("A=(\n 1 # )\n) B+=(2)x ls", ["ls"]),
        ("a[1]=x A+=y ls", ["ls"]),
        ('"A=1" ls', ["A=1 ls"]),
        # redirections
        ("cmd > out 2>&1 < in >> log", ["cmd"]),
        ("cmd &> out >| x <> y 3>&- {fd}>z", ["cmd"]),
        ("cmd <<< $(curl x)", ["curl x", "cmd"]),
        ("2>/dev/null curl x", ["curl x"]),
        ("echo 2>(cat)", ["cat", "echo 2>(cat)"]),
        # heredocs
        ("cat <<EOF\ncurl x\nEOF\nls", ["cat", "ls"]),
        ("cat <<'EOF'\n$(curl x)\nEOF", ["cat"]),
        ('cat <<"EOF"\n`curl x`\nEOF', ["cat"]),
        ("cat <<EOF\n$(curl x) `wget y` \\$(rm z)\nEOF", ["curl x", "wget y", "cat"]),
        ("cat <<-EOF; ls\n\tcurl\n\tEOF\nwc", ["cat", "ls", "wc"]),
        ("cat <<A <<B\nx\nA\ny\nB\nls", ["cat", "ls"]),
        ("cat <<EOF | grep a\nbody\nEOF", ["cat", "grep a"]),
        # wrappers: the wrapper, then the command it runs
        ("timeout -s KILL 5 curl x", ["timeout -s KILL 5 curl x", "curl x"]),
        ("timeout --signal KILL 5 curl x", ["timeout --signal KILL 5 curl x", "curl x"]),
        ("env -i A=1 curl x", ["env -i A=1 curl x", "curl x"]),
        ("env 'A{=1' curl x", ["env A{=1 curl x", "curl x"]),
        ("/usr/bin/env curl x", ["/usr/bin/env curl x", "curl x"]),
        ("nice -n 5 curl", ["nice -n 5 curl", "curl"]),
        ("xargs -0 -n1 curl -s", ["xargs -0 -n1 curl -s", "curl -s"]),
        ("sudo -u bob curl x", ["sudo -u bob curl x", "curl x"]),
        ("sudo -iu bob curl x", ["sudo -iu bob curl x", "curl x"]),
        ("nohup nice curl x", ["nohup nice curl x", "nice curl x", "curl x"]),
        ("command -p curl; builtin echo; exec curl", ["command -p curl", "curl", "builtin echo", "echo", "exec curl", "curl"]),
        ("stdbuf -oL curl x", ["stdbuf -oL curl x", "curl x"]),
        ("flock /tmp/l curl x", ["flock /tmp/l curl x", "curl x"]),
        ("flock -w 3 /tmp/l -c 'curl x'", ["flock -w 3 /tmp/l -c curl x", "curl x"]),
        ("env -S 'curl x'", ["env -S curl x", "curl x"]),
        ("watch -n 1 'curl x | wc'", ["watch -n 1 curl x | wc", "curl x", "wc"]),
        ("strace -f -o log curl x", ["strace -f -o log curl x", "curl x"]),
        ("find . -name '*.py' -exec curl {} \\;", ["find . -name *.py -exec curl {} ;", "curl {}"]),
        ("find . -execdir rm {} + -ok wc \\;", ["find . -execdir rm {} + -ok wc ;", "rm {}", "wc"]),
        # shells and eval
        ("bash -c 'curl x'", ["bash -c curl x", "curl x"]),
        ("sh -c 'echo; curl x'", ["sh -c echo; curl x", "echo", "curl x"]),
        ("bash -lc 'curl x'", ["bash -lc curl x", "curl x"]),
        ("bash -e -o pipefail -c 'curl x' arg0", ["bash -e -o pipefail -c curl x arg0", "curl x"]),
        ("eval curl x", ["eval curl x", "curl x"]),
        ("eval 'a; b'", ["eval a; b", "a", "b"]),
        ("bash script.sh; source env.sh; . ./x", ["bash script.sh", "source env.sh", ". ./x"]),
        ("trap 'curl x' EXIT", ["trap curl x EXIT", "curl x"]),
        ("alias c='curl x'", ["alias c=curl x", "curl x"]),
    ],
)
def test_analyze_finds_every_command(line, commands):
    assert texts(line) == commands


@pytest.mark.parametrize(
    "line, dynamic",
    [
        ("$CMD x", {0}),
        ("${X:-curl} y", {0}),
        ("$(echo curl) y", {0}),
        ("c$(echo u)rl", {0}),
        ('"$X"', {0}),
        ("*", {0}),
        ("~/bin/tool", {0}),
        ("cu{r,}l x", {0}),
        ("echo {1..3} [ab] a?c 'lit*' \"{a,b}\"", {1, 2, 3}),
        ("echo {} [ ]] a:~ --opt=~/x", set()),
        ("echo x=~ PATH=/bin:~/bin", {1, 2}),
        ("echo $((1+2)) `date` $'\\x41'", {1, 2}),
        ("curl $HOST/x \"${A}\"", {1, 2}),
    ],
)
def test_words_known_only_at_run_time_are_dynamic(line, dynamic):
    assert analyze(line).commands[-1].dynamic == frozenset(dynamic)


def test_the_dynamic_word_of_a_loop_body():
    assert analyze("for f in a b; do curl $f; done").commands == (SimpleCommand(("curl", "$f"), frozenset({1})),)


@pytest.mark.parametrize(
    "line, reason",
    [
        ("echo 'unbalanced", "single quote"),
        ('echo "unbalanced', "double quote"),
        ("echo `unbalanced", "backtick"),
        ("echo $(unbalanced", "$("),
        ("echo ${unbalanced", "${"),
        ("echo $'x", "$'"),
        ("(echo a", "unfinished"),
        ("echo a)", "unbalanced )"),
        ("case x in a) curl", "unfinished"),
        ("[[ -f x", "unfinished"),
        ("cat <<EOF", "heredoc"),
        ("cat <<EOF\nbody\nEOFX", "not terminated"),
        ("echo >", "no target"),
        ("echo @(a|b)", "unexpected ("),
        ("echo(curl x)", "unexpected ("),
        ("a ;; b", "outside case"),
        ("bash -c \"$X\"", "built at run time"),
        ("sh -c $(curl x)", "built at run time"),
        ("eval \"$X\"", "built at run time"),
        ("eval echo $X", "built at run time"),
        ("bash $OPTS 'curl x'", "built at run time"),
        ("xargs sh -c", "built at run time"),
        ("xargs -I{} bash -c {}", "built at run time"),
        ("curl x | bash", "standard input"),
        ("sh -s < script", "standard input"),
        ("bash - < script", "standard input"),
        ("coproc curl x", "coproc"),
        ("let 'a[$(curl x)]=1'", "subscript"),
        ("declare -a a='($(curl x))'", "subscript"),
        ("printf -v 'a[`curl x`]' y", "subscript"),
        ("[[ -v 'a[$(curl x)]' ]]", "subscript"),
        ("x" * (MAX_COMMAND_CHARS + 1), "longer than 32768"),
    ],
    ids=short,
)
def test_what_cannot_be_known_is_opaque(line, reason):
    assert reason in (analyze(line).opaque or "")


def test_opaque_lines_keep_what_was_recovered():
    analysis = analyze("curl x; bash -c \"$X\"")
    assert analysis.opaque and [c.text for c in analysis.commands] == ["curl x", "bash -c $X"]


def test_nesting_is_limited():
    def nest(depth: int) -> str:
        return "echo " + "$(echo " * depth + "x" + ")" * depth

    assert analyze(nest(MAX_DEPTH)).opaque is None
    assert "nested deeper" in (analyze(nest(MAX_DEPTH + 1)).opaque or "")


def test_shell_strings_nest_to_the_same_limit():
    line = "curl x"
    for depth in range(1, MAX_DEPTH + 2):
        line = "bash -c " + shlex.quote(line)
        assert (analyze(line).opaque is None) == (depth <= MAX_DEPTH)


# Lines against a deny rule `Bash(curl:*)`, and what the rule must see.
ATTACKS = [
        ("curl x", "yes"),
        ("c\\url x", "yes"),
        ('"cu"rl x', "yes"),
        ("cu''rl x", "yes"),
        ("$'\\x63url' x", "yes"),
        ("$'\\143\\165rl' x", "yes"),
        ("echo ok;curl x", "yes"),
        ("echo ok\ncurl x", "yes"),
        ("echo ok & curl x", "yes"),
        ("echo $(curl x)", "yes"),
        ("echo `curl x`", "yes"),
        ('echo "$(curl x)"', "yes"),
        ("echo ${X:-`curl x`}", "yes"),
        ("echo \"${X:-'$(curl x)'}\"", "yes"),
        ("bash -c \"curl x\"", "yes"),
        ("sh -c 'echo; curl x'", "yes"),
        ("bash -c 'bash -c \"curl x\"'", "yes"),
        ("eval curl x", "yes"),
        ("eval 'echo; curl x'", "yes"),
        ("timeout 5 curl x", "yes"),
        ("env -i curl x", "yes"),
        ("env -u HOME curl x", "yes"),
        ("sudo -E nice -n 1 curl x", "yes"),
        ("xargs curl", "yes"),
        ("find . -exec curl {} \\;", "yes"),
        ("find . -exec sh -c 'curl $1' _ {} \\;", "yes"),
        ("if true; then curl x; fi", "yes"),
        ("f(){ curl x; }; f", "yes"),
        ("case a in a) curl x;; esac", "yes"),
        ("cat <(curl x)", "yes"),
        ("A=$(curl x) true", "yes"),
        ("x=$(( $(curl x) ))", "yes"),
        ("x=$(( '$(curl x)' ))", "yes"),
        ("{fd}>out curl y", "yes"),
        ("cat <<EOF\n$(curl x)\nEOF", "yes"),
        ("alias c=curl", "yes"),
        ("$(printf curl) x", "maybe"),
        ("A=curl; $A x", "maybe"),
        ("{curl,x}", "maybe"),
        ("cu?l x", "maybe"),
        ("timeout -s $SIG 5 curl x", "maybe"),
        ("sudo $OPTS curl x", "maybe"),
        ("xargs env", "maybe"),
        ("find / -name curl -exec {} x \\;", "maybe"),
        ("bash -c \"$CMD\"", "opaque"),
        ("curl x" + " " * 40_000, "opaque"),
        ("echo " + "$(" * 20 + "curl" + ")" * 20, "opaque"),
        ("echo " + "`" * 2, "no"),
        ("echo curl; grep curl f; echo 'curl x'", "no"),
        ("cat <<EOF\ncurl x\nEOF", "no"),
        ("cat <<'EOF'\n$(curl x)\nEOF", "no"),
        ("echo x # ; curl x", "no"),
        ("curling x; ./curl x", "no"),
    ]


@pytest.mark.parametrize("line, expected", ATTACKS, ids=short)
def test_a_curl_deny_rule_is_not_dodged(line, expected):
    assert verdict(line) == expected


RUNNABLE = ("bash", "sh", "env", "timeout", "nice", "xargs", "find", "cat", "true")


@pytest.mark.skipif(any(shutil.which(tool) is None for tool in RUNNABLE), reason="needs bash and coreutils")
@pytest.mark.parametrize("line, expected", [(line, e) for line, e in ATTACKS if e in ("yes", "no")])
def test_real_bash_runs_curl_exactly_when_the_rule_says_yes(line, expected, tmp_path):
    """The table is no guess: bash, given a fake curl, runs it for every "yes" row and for no "no" row."""
    if line.startswith(("sudo", "alias", "env -i")):
        pytest.skip("needs root, drops PATH (so the real curl would run), or defines what a later line runs")
    bin_dir, log = tmp_path / "bin", tmp_path / "ran"
    bin_dir.mkdir()
    (bin_dir / "curl").write_text(f"#!/bin/sh\necho ran >> '{log}'\n")
    (bin_dir / "curl").chmod(0o755)
    for tool in RUNNABLE:
        (bin_dir / tool).symlink_to(shutil.which(tool))
    subprocess.run([str(bin_dir / "bash"), "-c", line], cwd=tmp_path, env={"PATH": str(bin_dir)},
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=30, check=False)
    assert log.exists() == (expected == "yes")


@pytest.mark.parametrize(
    "words, dynamic, pattern, prefix, expected",
    [
        (("git", "push", "origin"), (), ("git", "push"), True, "yes"),
        (("git", "push"), (), ("git", "push"), False, "yes"),
        (("git", "push", "origin"), (), ("git", "push"), False, "no"),
        (("git", "status"), (), ("git", "push"), True, "no"),
        (("git",), (), ("git", "push"), True, "no"),
        (("git", "$X"), (1,), ("git", "push"), True, "maybe"),
        (("git", "$X"), (1,), ("git", "push"), False, "maybe"),
        (("svn", "$X"), (1,), ("git", "push"), True, "no"),
        (("$X",), (0,), ("git", "push"), True, "maybe"),
        (("git", "push", "$X"), (2,), ("git", "push"), True, "yes"),
        (("git", "push", "$X"), (2,), ("git", "push"), False, "maybe"),
        (("git", "push", "x", "$X"), (3,), ("git", "push"), False, "no"),
        (("$X", "push", "origin"), (0,), ("git", "push"), False, "no"),
        (("$X", "push"), (0,), ("git", "push"), False, "maybe"),
        (("$X", "pull"), (0,), ("git", "push"), False, "no"),
        (("npm", "test"), (), ("npm", "test"), False, "yes"),
        (("npm", "$T"), (1,), ("npm", "test"), False, "maybe"),
    ],
)
def test_match_words(words, dynamic, pattern, prefix, expected):
    assert match_words(SimpleCommand(words, frozenset(dynamic)), pattern, prefix) == expected


def test_text_joins_the_words():
    assert SimpleCommand(("git", "commit", "-m", "a b")).text == "git commit -m a b"


# Analysis must end, without an exception, on anything: a model writes the input.
SHELL_PIECES = list("abc xyz\t\n;&|()<>{}[]'\"\\$`#*?~=!-0123456789") + [
    "$(", "${", "$((", "))", "<<", "<<-", "EOF", "$'", '$"', "<(", ">(", "\\\n", "case ", " in ", " esac",
    ";;", "if ", " then ", " fi", "for ", " do ", " done", "[[ ", " ]]", "function ", "bash -c ", "eval ",
    "timeout 5 ", "sudo -u x ", "find -exec ", "curl ", "\\;", "((", "A=(", "time ",
]


@given(st.text(max_size=300))
def test_any_text_is_analysed_without_error(line):
    analyze(line)


@given(st.lists(st.sampled_from(SHELL_PIECES), max_size=200))
def test_any_shell_like_text_is_analysed_without_error(pieces):
    analyze("".join(pieces))


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0))
def test_long_random_lines_are_analysed_without_error(seed):
    rng = random.Random(seed)
    line = "".join(rng.choice(SHELL_PIECES) for _ in range(20_000))[:20_000]
    analyze(line)


@pytest.mark.parametrize(
    "line",
    [
        "echo " + "${x:-" * 5000 + "}" * 5000,
        "echo " + '"${x:-' * 3000,
        "echo " + "$((" * 5000,
        "((" * 10_000,
        "(" * 10_000 + ")" * 10_000,
        "nohup " * 5000 + "curl",
        "eval " * 5000 + "curl",
        "find -exec " * 2000,
        "A=(" * 5000,
        "cat " + "<<EOF " * 3000 + "\n" + "x\n" * 1000,
        "`" * 10_000,
        "\\" * 20_000,
        "$'" + "\\" * 20_000,
    ],
    ids=short,
)
def test_pathological_lines_end_in_an_answer(line):
    assert isinstance(analyze(line).commands, tuple)
