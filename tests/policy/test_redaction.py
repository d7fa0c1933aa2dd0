"""Secret redaction: every kind is found in realistic lines, look-alikes are left alone, placeholders are
stable and reversible, and redaction never raises and is idempotent on any text."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from freehold.policy.redaction import PLACEHOLDER, MAX_LINE, Redactor

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

# Random-looking values built here at test time; none is a real credential.
AWS_ID = "AKIA" + "Q7XM2KDPWZ4R6TNB"
AWS_SECRET = "q8Fz1Kd9LmP0aB7cXyZ2wV5uT4sR3oN6jH1gE0fD"
GITHUB = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
GITHUB_FINE = "github_pat_" + "11ABCDEFG0123456789abc" + "_" + "x9Y8w7V6u5T4s3R2q1P0o9N8m7L6k5J4i3H2g1F0e9D8c7B6a5Z4y3X2w1V0u"
GITLAB = "glpat-" + "Xy7_q2LmN9pRt4Vw8ZcB"
SLACK = "xoxb-" + "17283945610-2837465019283-" + "a8f3k2m9q4w7e1r5t6y0u3i2"
STRIPE = "sk_live_" + "51Hq2KxL9mZ3vT8pR4wN7yB6cD1fG5jH0kM2nP4qS6tU8vW0xY2zA4bC6dE8fG0hJ2kL4mN6pQ8rS0tU2vW4xY6zA8bC"
OPENAI = "sk-proj-" + "Tq9Lm2Xv7Rk4Wp1Zs8Nc3Bd6Fh0Jg5Ky" + "T3BlbkFJ" + "Qw2Er4Ty6Ui8Op0As1Df3Gh5Jk7Lz9Xc"
GOOGLE = "AIza" + "SyD4k9Xq2Lm7Np0Rt5Vw8Zb3Cf6Hj1Ks4Ty"
HF = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNmQwErTyUi"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiI0MjQyIiwibmFtZSI6ImFkYSIsImlhdCI6MTcwMDAwMDAwMH0"
    ".Zk3q9Xv2Lm7Np0Rt5Vw8Zb3Cf6Hj1Ks4Ty9Qa2Ws"
)
PEM = "\n".join([
    "-----BEGIN RSA PRIVATE KEY-----",
    "MIIEowIBAAKCAQEAx7Yq2Lm9Np0Rt5Vw8Zb3Cf6Hj1Ks4Ty9Qa2WsEd3Rf4Tg5Yh6Uj7",
    "Ik8Ol9Pa0Sd1Fg2Hj3Kl4Zx5Cv6Bn7Mq8Wr9Et0Yu1Io2Pa3Sd4Fg5Hj6Kl7Zx8Cv9Bn",
    "-----END RSA PRIVATE KEY-----",
])
PASSWORD = "Tangerine#2291"
TOKEN = "Vq8Zk2Lm7Np0Rt5Xw3Cb6Fh9Jd1Gs4Ty8Qa2We"


def redacted(text: str) -> str:
    return Redactor().redact(text)


@pytest.mark.parametrize(
    "line, secret, kind",
    [
        (f"aws_access_key_id = {AWS_ID}", AWS_ID, "aws-key-id"),
        (f"AWS_SECRET_ACCESS_KEY={AWS_SECRET}", AWS_SECRET, "aws-secret"),
        (f'aws_secret = "{AWS_SECRET}"', AWS_SECRET, "aws-secret"),
        (f"export GITHUB_TOKEN={GITHUB}", GITHUB, "github-token"),
        (f"token: {GITHUB_FINE}", GITHUB_FINE, "github-token"),
        (f"  GITLAB_TOKEN: {GITLAB}", GITLAB, "gitlab-token"),
        (f"SLACK_BOT_TOKEN={SLACK}", SLACK, "slack-token"),
        (f'stripe.api_key = "{STRIPE}"', STRIPE, "stripe-key"),
        (f'client = OpenAI(api_key="{OPENAI}")', OPENAI, "openai-key"),
        (f"  mapsApiKey: '{GOOGLE}',", GOOGLE, "google-api-key"),
        (f'HF_TOKEN = "{HF}"', HF, "hf-token"),
        (f"DEBUG headers: {{'Authorization': 'Bearer {JWT}'}}", JWT, "jwt"),
        (f"DATABASE_URL=postgresql://app:{PASSWORD}@db.internal:5432/app", PASSWORD, "url-password"),
        (f'    "PASSWORD": "{PASSWORD}",', PASSWORD, "password"),
        (f"DB_PASSWORD={PASSWORD}", PASSWORD, "password"),
        (f"  password: {PASSWORD}", PASSWORD, "password"),
        (f"mysql -u root --password={PASSWORD} < schema.sql", PASSWORD, "password"),
        (f"Server=db;User Id=sa;Password={PASSWORD};", PASSWORD, "password"),
        (f"<password>{PASSWORD}</password>", PASSWORD, "secret"),
        (f"define( 'DB_PASSWORD', '{PASSWORD}' );", PASSWORD, "secret"),
        (f'SECRET_KEY = "{TOKEN}"', TOKEN, "secret"),
        (f"ENV SENTRY_AUTH_TOKEN={TOKEN}", TOKEN, "token"),
        (f'curl -H "Authorization: Bearer {TOKEN}" https://api.internal', TOKEN, "bearer-token"),
        (f'HEADERS = {{"X-Api-Key": "{TOKEN}"}}', TOKEN, "api-key"),
        (f'session = Client("{TOKEN}", region="eu-west-1")', TOKEN, "high-entropy"),
    ],
)
def test_each_kind_is_found_and_only_the_value_is_replaced(line, secret, kind):
    out = redacted(line)
    assert secret not in out
    assert f"[REDACTED:{kind}-1]" in out
    assert out == line.replace(secret, f"[REDACTED:{kind}-1]")


@pytest.mark.parametrize(
    "line",
    [
        'request_id = "550e8400-e29b-41d4-a716-446655440000"',
        'BUILD_COMMIT = "3f786850e387550fdab836ed7e6dc881de23001b"',
        "      - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11",
        '    {file = "x-1.0.tar.gz", hash = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"},',
        '      "integrity": "sha512-z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUR8k7K3eG3aKQ8Y6g==",',
        "github.com/stretchr/testify v1.8.4 h1:CcVxjf3Q8PM0mHUKJCdn+eZZtm5yQwehR5yeSVQQcUk=",
        'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"',
        'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        "OPENAI_API_KEY=your-api-key-here",
        "export OPENAI_API_KEY=sk-...",
        "DB_PASSWORD=changeme",
        "      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD}",
        '  password: "{{ .Values.db.password }}"',
        "          NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}",
        'password = os.environ["DB_PASSWORD"]',
        "    passwd = _raw_input(prompt, stream, input=input)",
        "                    self.token = nextchar",
        '            raise TypeError("pwd: expected bytes, got %s" % type(pwd).__name__)',
        "    max_tokens = 4096",
        'test_redaction_keeps_long_identifiers_stable = "ThisIsALongIdentifierNameForTesting"',
        '  stripePublishableKey: "pk_live_4HP98oqk0PfaCnvSXydEP5uc",',
        '  "forgot_password": "Passwort vergessen?",',
        "![logo](data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==)",
        '_RANDOM_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"',
    ],
)
def test_look_alikes_are_left_alone(line):
    assert redacted(line) == line


def test_a_pem_private_key_block_is_replaced_whole():
    text = f"key = '''\n{PEM}\n'''\nother = 1\n"
    out = redacted(text)
    assert out == "key = '''\n[REDACTED:private-key-1]\n'''\nother = 1\n"


def test_a_json_escaped_or_cut_short_pem_block_is_replaced():
    escaped = PEM.replace("\n", "\\n")
    assert redacted(f'"private_key": "{escaped}\\n",') == '"private_key": "[REDACTED:private-key-1]\\n",'
    head = "\n".join(PEM.splitlines()[:3])  # `head -3 id_rsa`
    assert redacted(head + "\n$ ") == "[REDACTED:private-key-1]\n$ "


def test_public_keys_and_certificates_are_not_private_keys():
    cert = PEM.replace("RSA PRIVATE KEY", "CERTIFICATE")
    assert redacted(cert) == cert


def test_the_same_value_gets_the_same_placeholder_across_calls():
    redactor = Redactor()
    first = redactor.redact(f"DB_PASSWORD={PASSWORD}")
    second = redactor.redact(f'password = "{PASSWORD}"\nthen {PASSWORD} again in a log line')
    assert first == "DB_PASSWORD=[REDACTED:password-1]"
    assert second == 'password = "[REDACTED:password-1]"\nthen [REDACTED:password-1] again in a log line'


def test_numbers_count_per_kind():
    out = redacted(f"A_PASSWORD=one-{PASSWORD}\nB_PASSWORD=two-{PASSWORD}\nGITHUB_TOKEN={GITHUB}\n")
    assert out == "A_PASSWORD=[REDACTED:password-1]\nB_PASSWORD=[REDACTED:password-2]\nGITHUB_TOKEN=[REDACTED:github-token-1]\n"


def test_restore_and_restore_args_round_trip():
    redactor = Redactor()
    text = f"export GITHUB_TOKEN={GITHUB}\nDB_PASSWORD={PASSWORD}\n"
    out = redactor.redact(text)
    assert redactor.restore(out) == text
    args = {
        "file_path": "/srv/.env",
        "old_string": "DB_PASSWORD=[REDACTED:password-1]",
        "edits": [{"new_string": "TOKEN=[REDACTED:github-token-1]"}, 3, None],
        "replace_all": False,
    }
    assert redactor.restore_args(args) == {
        "file_path": "/srv/.env",
        "old_string": f"DB_PASSWORD={PASSWORD}",
        "edits": [{"new_string": f"TOKEN={GITHUB}"}, 3, None],
        "replace_all": False,
    }


def test_placeholders_it_did_not_issue_stay_and_are_never_issued():
    redactor = Redactor()
    text = f"seen before: [REDACTED:password-1]\nDB_PASSWORD={PASSWORD}\n"
    out = redactor.redact(text)
    assert out == "seen before: [REDACTED:password-1]\nDB_PASSWORD=[REDACTED:password-2]\n"
    assert redactor.restore(out) == text
    assert redactor.restore("[REDACTED:token-7]") == "[REDACTED:token-7]"


def test_export_and_from_pairs_carry_the_mapping_to_a_resumed_session():
    redactor = Redactor()
    out = redactor.redact(f"DB_PASSWORD={PASSWORD}\nGITHUB_TOKEN={GITHUB}")
    resumed = Redactor.from_pairs(redactor.export())
    assert resumed.restore(out) == f"DB_PASSWORD={PASSWORD}\nGITHUB_TOKEN={GITHUB}"
    assert resumed.redact(f"again: {GITHUB}") == "again: [REDACTED:github-token-1]"
    assert resumed.redact(f"DB_PASSWORD=new-{PASSWORD}") == "DB_PASSWORD=[REDACTED:password-2]"


def test_from_pairs_skips_what_it_cannot_use():
    resumed = Redactor.from_pairs([("not a placeholder", "x"), ("[REDACTED:password-1]", ""), ("[REDACTED:token-2]", "abc")])
    assert resumed.export() == [("[REDACTED:token-2]", "abc")]


def test_redaction_is_idempotent_when_a_line_holds_several_secrets():
    redactor = Redactor()
    once = redactor.redact(f'password="{PASSWORD}" other_password="{TOKEN}" token = "{GITHUB}"')
    assert redactor.redact(once) == once
    assert PASSWORD not in once and TOKEN not in once and GITHUB not in once


def test_a_secret_in_a_very_long_line_is_found():
    line = "var a=1;" * (3 * MAX_LINE // 8) + f'var k="{GOOGLE}";var password="{PASSWORD}";' + "b();" * MAX_LINE
    out = redacted(line)
    assert GOOGLE not in out and PASSWORD not in out


def test_windows_line_endings():
    assert redacted(f"DB_PASSWORD={PASSWORD}\r\nPORT=80\r\n") == "DB_PASSWORD=[REDACTED:password-1]\r\nPORT=80\r\n"


def test_detect_secrets_is_imported_only_when_a_line_needs_it():
    code = (
        "import sys; from freehold.policy.redaction import Redactor; r = Redactor();"
        "r.redact('def add(a, b):\\n    return a + b\\n'); print('detect_secrets' in sys.modules);"
        "r.redact('password = \"Tangerine#2291\"'); print('detect_secrets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]


def test_a_bug_inside_fails_closed_but_stays_reversible(monkeypatch):
    redactor = Redactor()

    def broken(text):
        raise RuntimeError("a bug")

    monkeypatch.setattr(redactor, "_redact_once", broken)
    out = redactor.redact(f"DB_PASSWORD={PASSWORD}")
    assert out == "[REDACTED:unscanned-1]"
    assert redactor.restore(out) == f"DB_PASSWORD={PASSWORD}"


# --- properties ----------------------------------------------------------------------------------

FRAGMENTS = [
    "password", "PASSWORD=", "token: ", "api_key = ", '"', "'", "=", ":", "\n", " ", "\t", "://", "@", "-----BEGIN ",
    "PRIVATE KEY-----", "-----END ", "RSA ", "\\n", "[REDACTED:password-1]", "[REDACTED:", "-1]", "eyJ", ".", "sk-",
    "ghp_", "AKIA", "Bearer ", "<password>", "</password>", "&", ";", "?", "#", "$", "{", "}", "\r\n",
    "curl -u a:", "login -p ", "auth=('a', '", "key: ", "Cookie: sid=", "machine h password ",
    PASSWORD, TOKEN, GITHUB, AWS_SECRET, JWT, PEM, "hunter2", "é",
]
texts = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=12)), max_size=30).map("".join)
fast = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@fast
@given(texts)
def test_restore_undoes_redact_on_any_text(text):
    redactor = Redactor()
    out = redactor.redact(text)
    assert redactor.restore(out) == text


@fast
@given(texts)
def test_redact_is_idempotent_on_any_text(text):
    redactor = Redactor()
    once = redactor.redact(text)
    assert redactor.redact(once) == once


@fast
@given(st.text())
def test_redact_never_raises_and_never_fails_closed_on_plain_text(text):
    redactor = Redactor()
    out = redactor.redact(text)
    assert redactor.restore(out) == text
    assert "[REDACTED:unscanned-" not in out or "[REDACTED:unscanned-" in text


@fast
@given(texts, texts)
def test_placeholders_are_never_themselves_redacted(a, b):
    redactor = Redactor()
    once = redactor.redact(a + f"\nDB_PASSWORD={PASSWORD}\n" + b)
    for match in PLACEHOLDER.finditer(once):
        assert redactor.redact(match[0]) == match[0]


# --- the labeled corpus: a regression guard for the numbers in docs/redaction.md ---------------

def load_benchmark():
    sys.path.insert(0, str(BENCHMARKS))
    spec = importlib.util.spec_from_file_location("redaction_benchmark", BENCHMARKS / "redaction.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_recall_and_precision_on_the_corpus_do_not_regress():
    bench = load_benchmark()
    docs = bench.redaction_corpus.build(per_builder=3)
    results, _ = bench.freehold(docs)
    score = bench.score_all(docs, results)
    assert score.recall() >= 0.935  # 94.7 % here and on the full corpus (docs/redaction.md)
    assert score.precision() >= 0.99  # 100 % here and on the full corpus
    assert sum(score.decoys_hit.values()) == 0
