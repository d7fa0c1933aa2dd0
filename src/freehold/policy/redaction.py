"""Reversible secret redaction: secrets in prompts, file contents and tool output never reach the model.

Each secret value becomes a stable placeholder such as `[REDACTED:aws-secret-1]`; only the value is
replaced, so `password = "[REDACTED:password-1]"` stays readable. The Redactor remembers what it
replaced, so tool arguments the model writes with placeholders are restored before a tool runs.

Detection, cheapest first (docs/redaction.md has the measurements):
  1. TOKEN_RULES over the whole text: PEM private key blocks, passwords in URLs, and the token formats
     detect-secrets 1.5 misses or cuts short (GitHub, GitLab, Stripe, `sk-` keys, Google, Hugging
     Face, Slack app tokens, whole JWTs);
  2. only on lines the pre-filter marks (a keyword, a known prefix, a random quoted string):
     detect-secrets' plugins and filename-free filters, then CONTEXT_RULES for what it cannot see
     without a file name (`KEY=value` in .env, YAML, INI, properties; flags; headers; XML; SQL);
  3. every value found (8+ characters) wherever it occurs again, in this text and later ones.
Lines over MAX_LINE characters (minified code, data) are scanned in overlapping windows. detect-secrets
(~70 ms to import) is imported only when a line first needs it. `redact` never raises: on a bug it
withholds the whole text behind one placeholder (fail closed, still reversible).
"""

from __future__ import annotations

import functools
import logging
import math
import re
import string
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\[REDACTED:([a-z][a-z0-9-]*)-([1-9][0-9]*)\]")

MAX_LINE = 4_000  # longer lines are scanned in windows this long...
WINDOW_OVERLAP = 256  # ...overlapping by this much, so a secret shorter than this is never cut
MIN_KNOWN = 8  # a value found once is replaced everywhere only if at least this long
MAX_PASSES = 4  # redact until nothing new is found (idempotence), but never loop forever


@dataclass(frozen=True)
class Finding:
    """A span of text holding a secret: tier 0 is a known format, 1 a name, 2 randomness alone."""

    start: int
    end: int
    kind: str
    tier: int


# --- small value tests -----------------------------------------------------------------------------

def entropy(value: str) -> float:
    """Shannon entropy in bits per character (the measure detect-secrets uses)."""
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values()) if n else 0.0


def looks_random(value: str) -> bool:
    """True for machine-made tokens: digits and letters, or both cases, mixed; not a word-like name."""
    mixed_digits = any(c.isdigit() for c in value) and any(c.isalpha() for c in value)
    letters = [c for c in value if c.isalpha()]
    # random letters are about half upper case; CamelCase names have one capital per word
    mixed_case = bool(letters) and 0.25 <= sum(c.isupper() for c in letters) / len(letters) <= 0.75
    return len(value) >= 16 and (mixed_digits or mixed_case) and entropy(value) >= 3.5


_PLACEHOLDER_WORDS = frozenset(
    """none null nil true false undefined changeme change_me change-me changeit password passwd
    secret token apikey api_key api-key example dummy placeholder redacted todo fixme test testing
    xxx xxxx xxxxxx xxxxxxxx str string int bool bytes optional any required empty default unknown
    value mask masked hidden notset not_set tbd na n/a""".split()
)
_TEMPLATE = re.compile(r"^\$|\$\{|\{\{|\{%|%\(|%s\b|^%\w+%$|^<.*>$|^\{.*\}$|^!\w+$|^\*+$|\.\.\.|…|^(.)\1+$")
_DOCS_HINT = re.compile(r"(?i)^(?:your|my|insert|enter|put|replace|add|some|fake|sample)[-_ ]|[-_ ]here$|example")
_REFERENCE = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$|^[a-z][a-z0-9+.-]*://|^(?:/|\./|~/)")
_SECRET_STEM = re.compile(r"(?i)pass|pwd|secret|token|key|auth|cred")


def is_placeholder(value: str) -> bool:
    """Docs and template stand-ins (`changeme`, `${DB_PASSWORD}`, `your-api-key-here`), not secrets."""
    if len(value) < 6 or value.lower() in _PLACEHOLDER_WORDS:
        return True
    return bool(_TEMPLATE.search(value) or _DOCS_HINT.search(value))


def is_ui_text(value: str) -> bool:
    """Words for people (`Enter your password`, `Passwort`, `Clé d'API`), as in locale files."""
    if not value.isascii():
        return True  # keys and generated passwords are ASCII; translations often are not
    words = value.split()
    if len(words) > 1:
        return all(word.rstrip("?!.:,").isalpha() for word in words)
    return value.istitle() and value.isalpha() and len(value) <= 12


def is_plausible_value(value: str, strict: bool) -> bool:
    """Whether a value named like a secret is one. `strict` for bare values in code (`x = y`)."""
    value = value.strip()
    if is_placeholder(value) or _REFERENCE.search(value) or value.replace(".", "").isdigit():
        return False
    if is_ui_text(value):
        return False
    if re.fullmatch(r"[A-Za-z_]\w*", value) and not any(c.isdigit() for c in value):
        # a bare name: a variable in code (`password=db_password`) or a word in config
        return not strict and not _SECRET_STEM.search(value)
    return True


_DATA_PREFIX = re.compile(r"^(?:sha(?:1|256|384|512)-|iVBORw0KGgo|/9j/|R0lGOD|UklGR|PHN2Zy|JVBERi|UEsDB|H4sI)")


# Stripe's publishable keys and object ids are public by design
_PUBLIC_ID = re.compile(r"^(?:pk_(?:live|test)|price|prod|cus|evt|sub|acct|pi|ch|in|plan)_")


def has_alphabet_run(value: str) -> bool:
    """`abcdefghij...` or `0123456789`: an alphabet spelled out in code, not a key."""
    lower = value.lower()
    return any(lower[i : i + 8] in _ALPHABETS for i in range(len(lower) - 7))


_ALPHABETS = string.ascii_lowercase + " " + string.digits


def is_plausible_random(value: str) -> bool:
    """Whether a high-entropy string is a credential rather than a checksum, image, path or public id."""
    if len(value) > 200 or _DATA_PREFIX.search(value) or _PUBLIC_ID.search(value) or "example" in value.lower():
        return False
    if has_alphabet_run(value):
        return False
    return not re.fullmatch(r"[a-z0-9_.-]+(?:/[a-z0-9_.-]+)+/?", value)


# --- layer 1: format rules over the whole text ---------------------------------------------------

@dataclass(frozen=True)
class Rule:
    """A regular expression whose group `value` (or the whole match) is a secret of `kind`."""

    kind: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] | None = None
    boundary: bool = False  # the match must not continue a word (e.g. `task-...` is not `sk-...`)
    tier: int = 0

    def find(self, text: str, base: int = 0) -> Iterator[Finding]:
        for match in self.pattern.finditer(text):
            start, end = match.span("value") if "value" in self.pattern.groupindex else match.span()
            value = text[start:end]
            if self.boundary and start > 0 and (text[start - 1].isalnum() or text[start - 1] in "_-"):
                continue
            if self.check is None or self.check(value):
                yield Finding(base + start, base + end, self.kind_of(value), self.tier)

    def kind_of(self, value: str) -> str:
        return "anthropic-key" if self.kind == "openai-key" and value.startswith("sk-ant-") else self.kind


def _not_example(value: str) -> bool:
    return "EXAMPLE" not in value.upper()


def _random_tail(prefix_len: int) -> Callable[[str], bool]:
    return lambda value: looks_random(value[prefix_len:])


_SK_PREFIX = r"sk-(?:proj-|svcacct-|admin-|ant-(?:[a-z]+\d\d-)?)?"


def _sk_key(value: str) -> bool:
    """OpenAI-style keys (also what vLLM and LiteLLM issue); `sk-` alone starts many words."""
    return looks_random(re.sub(_SK_PREFIX, "", value, count=1))


def _url_password(value: str) -> bool:
    return not is_placeholder(value) and value.lower() not in ("pass", "pw", "pwd", "user")


PEM_BLOCK = re.compile(
    r"-----BEGIN (?P<label>[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----"
    r"(?:(?:(?!-----BEGIN )[\s\S]){0,20000}?-----END (?P=label)-----"  # the whole block, or, cut short:
    r"|(?:(?:\\n|\r?\n)[ \t]*(?:[A-Za-z0-9+/=]{16,}|[A-Za-z-]+: [^\n]*))*)"
)

TOKEN_RULES: tuple[Rule, ...] = (
    Rule("private-key", PEM_BLOCK),
    Rule("url-password", re.compile(r"://[^\s:/?#@'\"<>`]*:(?P<value>[^\s/@'\"<>`]+)@(?=[\w\[])"), _url_password),
    Rule("google-api-key", re.compile(r"AIza[0-9A-Za-z_\-]{35}"), _not_example, boundary=True),
    Rule("github-token", re.compile(r"gh[pousr]_[A-Za-z0-9_]{36,}|github_pat_[A-Za-z0-9_]{50,}"), _random_tail(4),
         boundary=True),
    Rule("gitlab-token", re.compile(r"gl(?:pat|dt|ft|soat|rt|cbt|imt|ptt|agent|oas)-[A-Za-z0-9_\-]{20,}"),
         _random_tail(6), boundary=True),
    Rule("stripe-key", re.compile(r"sk_(?:live|test)_[0-9A-Za-z]{16,}"), _random_tail(8), boundary=True),
    Rule("stripe-key", re.compile(r"rk_(?:live|test)_[0-9A-Za-z]{16,}"), _random_tail(8), boundary=True),
    Rule("openai-key", re.compile(rf"{_SK_PREFIX}[A-Za-z0-9_\-]{{20,}}"), _sk_key, boundary=True),
    Rule("hf-token", re.compile(r"hf_[A-Za-z0-9]{30,}"), _random_tail(3), boundary=True),
    Rule("slack-token", re.compile(r"xapp-\d-[A-Za-z0-9]+-\d+-[A-Za-z0-9]{16,}"), boundary=True),
    Rule("jwt", re.compile(r"eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*")),
)


# --- layer 2: lines worth a closer look ------------------------------------------------------------

_KEYWORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret|token|credentials?"
    r"|(?:api|access|private|secret|auth|signing|encryption|master|client|account|service|db)[_-]?key|apikey"
)
_SHORT_KEYWORDS = frozenset({"pass", "pwd"})  # `bypass`, `compass`: these need a word boundary

# The pre-filter. Python's `re` is fast on a pattern that starts with a literal and slow on a long
# alternation, so the hints are many small patterns: keywords on the lower-cased text, then the
# prefixes of the formats detect-secrets knows, then quoted strings random enough to be keys.
KEYWORD_HINT = re.compile(
    r"pass|pwd|secret|token|cred|contrase|bearer|basic|identified|cookie|login|auth ?= ?\(|-u |--user"
    r"|(?P<named>key(?=[\"'\]]{0,2}[ \t]*[:=][ \t]*[\"'`]?[a-z0-9+/=_\-]{20}))|key"
)
KEY_PREFIX = re.compile(r"(?:api|auth|service|account|db|database|priv|private|client|access|secret|signing"
                        r"|encryption|master)[_-]?\Z")
PREFIX_HINTS = tuple(
    re.compile(p)
    for p in (r"A(?:KIA|SIA|BIA|CCA|3T|KC|P[0-9A-F]|ccountKey=|C[a-z0-9]{32})", "hooks.slack.com", "eyJ", r"gh[pousr]_",
              r"gl[a-z]{2,6}-", "GR1348941", "xox", "T3BlbkFJ", "pypi-", r"SG\.", "sq0csp-", "SK[a-z0-9]{32}",
              r":[0-9A-Za-z_-]{35}", r"-us\d", "PuTTY")
)
QUOTED_HINT = re.compile(r"[\"'](?P<body>[A-Za-z0-9+/=_\-]{23,})[\"']")

ASSIGNMENT = re.compile(
    rf"(?P<kw>{_KEYWORDS})[\"'\]]{{0,2}}(?P<pre>[ \t]*)(?P<op>:=|=>|=|:)(?P<post>[ \t]*)"
    r"(?:(?P<q>[\"'`])(?P<quoted>[^\"'`\n]{1,256})(?P=q)"
    r"|(?P<bare>[^\s\"'`,;(){}\[\]<>]{1,256})(?=[ \t]*(?:[#;]|\r?$)))",  # a bare value ends its line or field
    re.IGNORECASE,
)
FLAG = re.compile(
    r"(?i)(?<![\w-])--?(?P<kw>password|passwd|pass|pwd|token|secret|api-key|apikey|auth-token|access-token"
    r"|client-secret)(?:=|[ \t]+)(?:\"(?P<dq>[^\"\n]+)\"|'(?P<sq>[^'\n]+)'|(?P<bare>[^\s\"'`;|&]+))"
)
AUTH_HEADER = re.compile(r"(?i)\b(?:bearer|basic|token)[ \t]+(?P<value>[A-Za-z0-9\-._~+/]{12,}=*)")
_CONFIG_LINE_START = re.compile(r"[ \t]*(?:export[ \t]+|set[ \t]+|ENV[ \t]+|ARG[ \t]+|-[ \t]+)?[\"']?$")


def keyword_kind(key: str, value: str) -> str:
    """The placeholder kind for a value named `key`."""
    key = key.lower()
    if "aws" in key and re.fullmatch(r"[A-Za-z0-9/+]{40}", value):
        return "aws-secret"
    if re.search(r"pass|pwd|contrase", key):
        return "password"
    if "token" in key:
        return "token"
    if re.search(r"api[_-]?key", key):
        return "api-key"
    return "secret"


def _key_before(line: str, kw_start: int) -> tuple[int, str]:
    """Where the identifier ending in the keyword starts, and the identifier."""
    start = kw_start
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] in "_.-"):
        start -= 1
    return start, line[start:kw_start]


def _keyword_bounded(line: str, kw_start: int, kw: str) -> bool:
    if kw.lower() not in _SHORT_KEYWORDS or kw_start == 0:
        return True
    before = line[kw_start - 1]
    return not before.isalpha() or (before.islower() and kw[0].isupper())


_NAME_BEFORE_VALUE = re.compile(r"([\w.\-]+)[\"'\]]{0,2}[ \t]*(?::=|=>|[:=!]=?=?)[ \t]*@?[\"'`]?$")
_NAMED_SECRET = re.compile(rf"(?:{_KEYWORDS}|contrase\w*)$", re.IGNORECASE)


def named_like_secret(before: str) -> bool:
    """Whether the text before a value ends in a secret-like name and an assignment: `db_password = "`."""
    name = _NAME_BEFORE_VALUE.search(before[-120:])
    kw = name and _NAMED_SECRET.search(name[1])
    return bool(kw) and _keyword_bounded(name[1], kw.start(), kw[0])


def assignments(line: str, base: int) -> Iterator[Finding]:
    """`password = "x"`, `DB_PASSWORD=x`, `api_key: x`, `"token": "x"` and the like."""
    for match in ASSIGNMENT.finditer(line):
        if not _keyword_bounded(line, match.start("kw"), match["kw"]):
            continue
        key_start, prefix = _key_before(line, match.start("kw"))
        group = "quoted" if match["quoted"] is not None else "bare"
        # A bare word is a variable in code (`self.token = nextchar`) but a value in config
        # (`DB_PASSWORD=hunter`, `password: hunter`) or in a connection or query string.
        config = bool(_CONFIG_LINE_START.fullmatch(line[:key_start])) and (
            match["op"] == ":" or not (match["pre"] or match["post"]))
        field = line[key_start - 1 : key_start] in (";", "?", "&")
        strict = group == "bare" and not (config or field)
        start, end = match.span(group)
        if field and line[key_start - 1] in "?&":  # a query string: the value ends at the next `&`
            end = start + len(match[group].split("&")[0])
        if is_plausible_value(line[start:end], strict):
            yield Finding(base + start, base + end, keyword_kind(prefix + match["kw"], line[start:end]), 1)


def flags(line: str, base: int) -> Iterator[Finding]:
    """`--password x`, `--token=x` on command lines."""
    for match in FLAG.finditer(line):
        group = next(g for g in ("dq", "sq", "bare") if match[g] is not None)
        if is_plausible_value(match[group], strict=False):
            kind = keyword_kind(match["kw"], match[group])
            yield Finding(base + match.start(group), base + match.end(group), kind, 1)


def auth_headers(line: str, base: int) -> Iterator[Finding]:
    """`Authorization: Bearer x`, `-H "Authorization: token x"`."""
    for match in AUTH_HEADER.finditer(line):
        if looks_random(match["value"]) and "auth" in line.lower():
            yield Finding(base + match.start("value"), base + match.end("value"), "bearer-token", 1)


def _plausible(value: str) -> bool:
    return is_plausible_value(value, strict=True)


def _literal(value: str) -> bool:
    return is_plausible_value(value, strict=False)


def _random_key(value: str) -> bool:
    """A value named only `key`: accepted if machine-made and not a hex digest."""
    hexadecimal = all(c in string.hexdigits for c in value)
    return looks_random(value) and entropy(value) >= 4.0 and not hexadecimal and is_plausible_random(value)


def _context(kind: str, pattern: str, check: Callable[[str], bool] | None = _plausible, tier: int = 1) -> Rule:
    return Rule(kind, re.compile(pattern), check, tier=tier)


_NAME = rf"[\w.:-]*(?:{_KEYWORDS})"
_VALUE = r"(?P<value>[^\"'\n]{1,256})"
LINE_RULES: tuple[Rule, ...] = (
    # <password>x</password> (Maven, Tomcat); <add key="ApiKey" value="x"/> (.NET)
    _context("secret", rf"(?i)<(?P<tag>{_NAME})>(?P<value>[^<>\n]{{1,256}})</(?P=tag)>"),
    _context("secret", rf"(?i)key=\"{_NAME}\"\s+value=\"{_VALUE}\""),
    # define('DB_PASSWORD', 'x'); os.environ.setdefault("API_TOKEN", "x")
    _context("secret", rf"(?i)([\"'])(?:{_NAME})\1[ \t]*,[ \t]*([\"']){_VALUE}\2"),
    # requests' auth=("user", "x"), HTTPBasicAuth("user", "x"); curl -u user:x; docker login -p x
    _context("password", rf"(?:\bauth[ \t]*=[ \t]*\(|BasicAuth\()[ \t]*([\"'])[^\"'\n]*\1[ \t]*,[ \t]*"
                         rf"([\"']){_VALUE}\2"),
    _context("password", r"(?<![\w-])(?:-u|--user)[ \t=]+[\"']?[^\s:'\"]+:(?P<value>[^\s'\"@]+)"),
    _context("password", r"\blogin\b[^\n]{0,200}?[ \t]-p[ \t]+(?P<value>[^\s'\"]+)"),
    # SQL: CREATE USER u WITH PASSWORD 'x', IDENTIFIED BY 'x'; .netrc: machine h login u password x
    _context("password", r"(?i)\b(?:password|identified[ \t]+by)[ \t]+'(?P<value>[^'\n]{1,256})'"),
    _context("password", r"\bmachine[ \t]+\S+[^\n]{0,200}?\bpassword[ \t]+(?P<value>[^\s'\"]+)", _literal),
    _context("token", r"(?i)cookie:[^\n]{0,2000}?\b(?:session(?:_?id)?|sessid|phpsessid|jsessionid|sid|connect\.sid)"
                      r"=(?P<value>[A-Za-z0-9%._\-]{16,})", None),
    # `key: <random>` under an `api:` block: the name says little, so the value must look machine-made
    _context("api-key", r"(?i)(?<![\w-])(?:[\w.-]*[_.-])?key[\"'\]]{0,2}[ \t]*(?::=|=>|=|:)[ \t]*[\"'`]?"
                        r"(?P<value>[A-Za-z0-9+/=_\-]{20,200})", _random_key, tier=2),
)


def line_rules(line: str, base: int) -> Iterator[Finding]:
    for rule in LINE_RULES:
        yield from rule.find(line, base)


CONTEXT_RULES: tuple[Callable[[str, int], Iterator[Finding]], ...] = (assignments, flags, auth_headers, line_rules)


def hint_positions(text: str) -> list[int]:
    """Where the pre-filter sees something that could be part of a secret."""
    lower = text.lower()
    found = [m.start() for m in KEYWORD_HINT.finditer(lower)
             if m[0] != "key" or m["named"] or KEY_PREFIX.search(lower, max(0, m.start() - 14), m.start())]
    for pattern in PREFIX_HINTS:
        found += [m.start() for m in pattern.finditer(text)]
    found += [m.start() for m in QUOTED_HINT.finditer(text) if entropy(m["body"]) > 4.4 and is_plausible_random(m[1])]
    return sorted(found)


def segments(text: str) -> list[tuple[int, int]]:
    """The lines (or windows of long lines) that the pre-filter says could hold a secret."""
    chosen: dict[tuple[int, int], None] = {}
    last = (-1, -1)
    for pos in hint_positions(text):
        # a hint well inside the last segment needs nothing new; near its end it may need the next window
        if not last[0] <= pos < last[1] - WINDOW_OVERLAP:
            last = _segment_at(text, pos)
            chosen[last] = None
    return list(chosen)


def _segment_at(text: str, pos: int) -> tuple[int, int]:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    end = len(text) if end < 0 else end
    if end - start <= MAX_LINE:
        return start, end
    step = MAX_LINE - WINDOW_OVERLAP
    window = start + (pos - start) // step * step
    return window, min(window + MAX_LINE, end)


# --- layer 2: detect-secrets -----------------------------------------------------------------------

_DS_KINDS = {
    "AWS Access Key": "aws-key-id",
    "Artifactory Credentials": "artifactory-token",
    "Azure Storage Account access key": "azure-key",
    "Base64 High Entropy String": "high-entropy",
    "Basic Auth Credentials": "url-password",
    "Cloudant Credentials": "cloudant-key",
    "Discord Bot Token": "discord-token",
    "GitHub Token": "github-token",
    "GitLab Token": "gitlab-token",
    "IBM Cloud IAM Key": "ibm-key",
    "IBM COS HMAC Credentials": "ibm-key",
    "JSON Web Token": "jwt",
    "Mailchimp Access Key": "mailchimp-key",
    "NPM tokens": "npm-token",
    "OpenAI Token": "openai-key",
    "Private Key": "private-key",
    "PyPI Token": "pypi-token",
    "SendGrid API Key": "sendgrid-key",
    "Slack Token": "slack-token",
    "SoftLayer Credentials": "softlayer-key",
    "Square OAuth Secret": "square-secret",
    "Stripe Access Key": "stripe-key",
    "Telegram Bot Token": "telegram-token",
    "Twilio API Key": "twilio-key",
}
# Public IPs are not secrets; bare hex strings are indistinguishable from git SHAs and checksums
# (hex keys are still caught when named, e.g. `api_key = "..."`).
_DS_SKIPPED = {"Public IP (ipv4)", "Hex High Entropy String"}

_detector: DetectSecrets | None | bool = None  # None: not loaded yet; False: unavailable


class DetectSecrets:
    """detect-secrets' plugins and line filters, used through their public functions only.

    `analyze_string` is used rather than `analyze_line` because it never verifies a secret over the
    network. Filters that need a filename (lock files, binary files) cannot apply to tool output.
    """

    def __init__(self) -> None:
        from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        from detect_secrets.filters import heuristic
        from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
        from detect_secrets.plugins.keyword import DENYLIST, KeywordDetector

        classes = get_mapping_from_secret_type_to_class()
        self.plugins = [cls() for name, cls in sorted(classes.items()) if name not in _DS_SKIPPED]
        self.keyword = next((p for p in self.plugins if isinstance(p, KeywordDetector)), None)
        self.keyword_hint = re.compile("|".join(DENYLIST), re.IGNORECASE)
        self.heuristic = heuristic
        self.contextual = (KeywordDetector, HighEntropyStringsPlugin)
        self.entropy_based = HighEntropyStringsPlugin
        # The same lines come back often: a file read twice, a second pass after replacing.
        self._cached = functools.lru_cache(maxsize=4096)(self._find)

    def clear_cache(self) -> None:
        self._cached.cache_clear()

    def find(self, line: str, base: int) -> Iterator[Finding]:
        for f in self._cached(line):
            yield Finding(base + f.start, base + f.end, f.kind, f.tier)

    def _find(self, line: str) -> tuple[Finding, ...]:
        found: list[Finding] = []
        for plugin in self.plugins:
            if plugin is self.keyword and not self.keyword_hint.search(line):
                continue  # its regexes are the slowest; its own word list says when they can match
            for value in set(plugin.analyze_string(line)):
                value = self._trim(plugin, value)
                if value and self._keep(plugin, value, line):
                    found += _occurrences(line, 0, value, self._kind(plugin, line, value), self._tier(plugin))
        return tuple(found)

    def _keep(self, plugin: Any, value: str, line: str) -> bool:
        """detect-secrets' default filters that need no filename, then ours."""
        h = self.heuristic
        if h.is_sequential_string(value) or h.is_potential_uuid(value) or h.is_templated_secret(value):
            return False
        if h.is_prefixed_with_dollar_sign(value) or h.is_not_alphanumeric_string(value):
            return False
        if not isinstance(plugin, self.contextual):
            # under 8 characters is a regex's capture group, not the token (detect-secrets#858)
            return len(value) >= 8 and _not_example(value)
        if h.is_likely_id_string(value, line, plugin):
            return False
        if isinstance(plugin, self.entropy_based):
            return plugin.calculate_shannon_entropy(value) > plugin.entropy_limit and is_plausible_random(value)
        # detect-secrets applies this to every plugin, dropping e.g. `OpenAI(api_key="sk-...")`
        named = named_like_secret(line[: line.find(value)])  # not `secret_name = "prod/db"`
        return named and is_plausible_value(value, strict=False) and not h.is_indirect_reference(line)

    def _tier(self, plugin: Any) -> int:
        return 2 if isinstance(plugin, self.entropy_based) else 1 if isinstance(plugin, self.contextual) else 0

    def _kind(self, plugin: Any, line: str, value: str) -> str:
        if isinstance(plugin, self.contextual) and plugin.secret_type == "Secret Keyword":
            return keyword_kind(line[: line.find(value)][-40:], value)
        if plugin.secret_type == "AWS Access Key" and not value.startswith(("AKIA", "ASIA", "ABIA", "ACCA", "A3T")):
            return "aws-secret"
        if plugin.secret_type == "Slack Token" and value.startswith("https://"):
            return "slack-webhook"
        return _DS_KINDS.get(plugin.secret_type) or _slug(plugin.secret_type)

    @staticmethod
    def _trim(plugin: Any, value: str) -> str:
        # Artifactory's patterns include the delimiter around the token.
        return value.strip(" \t\"=:") if plugin.secret_type == "Artifactory Credentials" else value


def _slug(name: str) -> str:
    """A placeholder kind for a secret type we have no name for (from a newer detect-secrets)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:24].strip("-")
    return slug if slug[:1].isalpha() else f"secret-{slug}".strip("-")


def _occurrences(line: str, base: int, value: str, kind: str, tier: int) -> Iterator[Finding]:
    start = line.find(value)
    while start >= 0:
        yield Finding(base + start, base + start + len(value), kind, tier)
        start = line.find(value, start + len(value))


def detect_secrets() -> DetectSecrets | None:
    """The detect-secrets adapter, imported on first use; None if the library cannot be loaded."""
    global _detector
    if _detector is None:
        try:
            _detector = DetectSecrets()
        except ImportError as exc:  # a broken install: the format and context rules still run
            log.warning("detect-secrets is unavailable (%s); using Freehold's own rules only", exc)
            _detector = False
    return _detector or None


# --- choosing spans --------------------------------------------------------------------------------

def resolve(findings: Iterable[Finding], protected: list[tuple[int, int]]) -> list[Finding]:
    """Non-overlapping findings: known formats before guesses, then longer before shorter."""
    taken: list[tuple[int, int]] = sorted(protected)
    chosen: list[Finding] = []
    for finding in sorted(set(findings), key=lambda f: (f.tier, f.start - f.end, f.start, f.kind)):
        if finding.end > finding.start and not _overlaps(taken, finding.start, finding.end):
            taken.insert(bisect_left(taken, (finding.start, finding.end)), (finding.start, finding.end))
            chosen.append(finding)
    return sorted(chosen, key=lambda f: f.start)


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    i = bisect_left(spans, (start, end))
    return (i > 0 and spans[i - 1][1] > start) or (i < len(spans) and spans[i][0] < end)


# --- the Redactor ----------------------------------------------------------------------------------

class Redactor:
    """Replaces secrets by placeholders and puts them back; one per session."""

    def __init__(self) -> None:
        self._by_value: dict[str, str] = {}  # secret -> placeholder
        self._by_placeholder: dict[str, str] = {}  # placeholder -> secret
        self._next: dict[str, int] = {}  # kind -> next number to try
        self._reserved: set[str] = set()  # placeholders seen in input that we did not issue

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]]) -> Redactor:
        """A Redactor that knows the (placeholder, value) pairs an earlier one exported."""
        redactor = cls()
        for placeholder, value in pairs:
            match = PLACEHOLDER.fullmatch(placeholder)
            if match and value and value not in redactor._by_value and placeholder not in redactor._by_placeholder:
                redactor._remember(placeholder, value)
                kind, n = match[1], int(match[2])
                redactor._next[kind] = max(redactor._next.get(kind, 1), n + 1)
        return redactor

    def export(self) -> list[tuple[str, str]]:
        """Every (placeholder, value) issued, in order, to persist with the session."""
        return list(self._by_placeholder.items())

    def redact(self, text: str) -> str:
        """`text` with every secret value replaced by its placeholder. Never raises."""
        try:
            for _ in range(MAX_PASSES):
                redacted = self._redact_once(text)
                if redacted == text:
                    break
                text = redacted
            return text
        except Exception:  # fail closed: hide everything rather than leak, but stay reversible
            log.exception("redaction failed; the whole text is withheld from the model")
            return self._placeholder_for(text, "unscanned")

    def restore(self, text: str) -> str:
        """`text` with the placeholders this Redactor issued replaced by the real values."""
        return PLACEHOLDER.sub(lambda m: self._by_placeholder.get(m[0], m[0]), text)

    def restore_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """Tool arguments with placeholders restored in every string, however deeply nested."""
        return {key: self._restore_any(value) for key, value in args.items()}

    def _restore_any(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.restore(value)
        if isinstance(value, dict):
            return {key: self._restore_any(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self._restore_any(item) for item in value)
        return value

    def _redact_once(self, text: str) -> str:
        protected = self._protect(text)
        found = resolve(self._detect(text), protected)
        fresh = {text[f.start : f.end]: f.kind for f in found if text[f.start : f.end] not in self._by_value}
        known = self._known_findings(text, fresh)
        return self._replace(text, resolve([*found, *known], protected))

    def _protect(self, text: str) -> list[tuple[int, int]]:
        """Spans of placeholders already in the text; ones we did not issue are never issued later."""
        spans = []
        for match in PLACEHOLDER.finditer(text):
            if match[0] not in self._by_placeholder:
                self._reserved.add(match[0])
            spans.append(match.span())
        return spans

    def _detect(self, text: str) -> Iterator[Finding]:
        for rule in TOKEN_RULES:
            yield from rule.find(text)
        spans = segments(text)
        detector = detect_secrets() if spans else None
        for start, end in spans:
            line = text[start:end]
            for context_rule in CONTEXT_RULES:
                yield from context_rule(line, start)
            if detector is not None:
                yield from detector.find(line, start)

    def _known_findings(self, text: str, fresh: dict[str, str]) -> Iterator[Finding]:
        """Every occurrence of a value already redacted, or found just now elsewhere in `text`."""
        # str.find per value beats one big alternation: Python's re tries every branch at every position
        known = ((v, p) for v, p in self._by_value.items() if len(v) >= MIN_KNOWN)
        for value, kind in [*fresh.items(), *((v, PLACEHOLDER.fullmatch(p)[1]) for v, p in known)]:
            if len(value) >= MIN_KNOWN:
                yield from _occurrences(text, 0, value, kind, 0)

    def _replace(self, text: str, chosen: list[Finding]) -> str:
        parts, pos = [], 0
        for finding in chosen:
            value = text[finding.start : finding.end]
            parts += [text[pos : finding.start], self._placeholder_for(value, finding.kind)]
            pos = finding.end
        parts.append(text[pos:])
        return "".join(parts)

    def _placeholder_for(self, value: str, kind: str) -> str:
        if value in self._by_value:
            return self._by_value[value]
        n = self._next.get(kind, 1)
        while f"[REDACTED:{kind}-{n}]" in self._reserved:
            n += 1
        self._next[kind] = n + 1
        placeholder = f"[REDACTED:{kind}-{n}]"
        self._remember(placeholder, value)
        return placeholder

    def _remember(self, placeholder: str, value: str) -> None:
        self._by_value[value] = placeholder
        self._by_placeholder[placeholder] = value
