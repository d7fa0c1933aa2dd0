"""A labeled corpus for measuring secret redaction: realistic files with planted secrets and look-alikes.

    python benchmarks/redaction_corpus.py [--out DIR]    # write the files and labels.json to DIR

`build()` is deterministic (a fixed seed). Every secret is random and generated here, never a real
key. Each file carries labels: every planted secret's exact value and kind, and every look-alike's
exact value and category. Labelling decisions:
  - documented example credentials (AWS's AKIAIOSFODNN7EXAMPLE and its secret) are look-alikes:
    they are published in AWS's docs, so showing them to a model leaks nothing;
  - publishable keys (Stripe `pk_live_`), public keys and certificates are look-alikes: public by design;
  - template references (`${DB_PASSWORD}`), docs placeholders (`your-api-key-here`) and default
    stand-ins (`changeme`) are look-alikes: they are not credentials;
  - base64-encoded values in Kubernetes Secrets are secrets (base64 is an encoding, not protection);
  - a high-entropy key passed without any name (`Client("k3J...")`) is a secret; a bare hex string
    without a name is not planted as a secret, since nothing distinguishes it from a checksum.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import random
import string
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

SEED = 20240611
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


@dataclass(frozen=True)
class Label:
    kind: str  # the secret's kind, or the look-alike's category
    value: str  # exactly as it appears in the file
    secret: bool


@dataclass
class Doc:
    path: str
    text: str
    labels: list[Label] = field(default_factory=list)


class Gen:
    """Random values (secrets and look-alikes) from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def pick(self, items: list[str] | tuple[str, ...]) -> str:
        return self.rng.choice(items)

    # --- secrets ---------------------------------------------------------------------------------
    def aws_key_id(self) -> str:
        return self.pick(("AKIA", "ASIA")) + self.chars(string.ascii_uppercase + "234567", 16)

    def aws_secret(self) -> str:
        return self.chars(B64, 40)

    def github_token(self) -> str:
        if self.rng.random() < 0.3:
            return "github_pat_" + self.chars(ALNUM, 22) + "_" + self.chars(ALNUM, 59)
        return self.pick(("ghp_", "gho_", "ghs_")) + self.chars(ALNUM, 36)

    def gitlab_token(self) -> str:
        return "glpat-" + self.chars(URLSAFE, 20)

    def slack_token(self) -> str:
        digits = string.digits
        prefix = self.pick(("xoxb", "xoxp"))
        return f"{prefix}-{self.chars(digits, 11)}-{self.chars(digits, 13)}-{self.chars(ALNUM.lower(), 24)}"

    def slack_webhook(self) -> str:
        up = string.ascii_uppercase + string.digits
        return f"https://hooks.slack.com/services/T{self.chars(up, 8)}/B{self.chars(up, 10)}/{self.chars(ALNUM, 24)}"

    def stripe_key(self) -> str:
        prefix = self.pick(("sk_live_", "sk_live_", "rk_live_", "sk_test_"))
        return prefix + (self.chars(ALNUM, 24) if self.rng.random() < 0.5 else "51" + self.chars(ALNUM, 97))

    def openai_key(self) -> str:
        style = self.rng.randrange(3)
        if style == 0:
            return "sk-" + self.chars(ALNUM, 20) + "T3BlbkFJ" + self.chars(ALNUM, 20)
        if style == 1:
            return "sk-proj-" + self.chars(URLSAFE, 74) + "T3BlbkFJ" + self.chars(URLSAFE, 74)
        return "sk-" + self.chars(ALNUM, 32)  # the shape vLLM / LiteLLM style gateways issue

    def anthropic_key(self) -> str:
        return "sk-ant-api03-" + self.chars(URLSAFE, 93) + "AA"

    def google_api_key(self) -> str:
        return "AIza" + self.chars(URLSAFE, 35)

    def hf_token(self) -> str:
        return "hf_" + self.chars(string.ascii_letters, 34)

    def sendgrid_key(self) -> str:
        return "SG." + self.chars(URLSAFE, 22) + "." + self.chars(URLSAFE, 43)

    def npm_token(self) -> str:
        return "npm_" + self.chars(ALNUM, 36)

    def azure_key(self) -> str:
        return self.chars(B64, 86) + "=="

    def jwt(self) -> str:
        def b64(data: bytes) -> str:
            return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

        header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        issued = 1700000000 + self.rng.randrange(10**7)
        claims = {"sub": str(self.rng.randrange(10**6)), "name": self.pick(NAMES), "iat": issued}
        payload = b64(json.dumps(claims).encode())
        key = self.chars(ALNUM, 32).encode()
        signature = b64(hmac.new(key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    def pem(self, escaped: bool = False) -> str:
        label = self.pick(("RSA", "", "EC", "OPENSSH", "ENCRYPTED")) + " PRIVATE KEY"
        label = label.strip()
        body = base64.b64encode(self.rng.randbytes(self.rng.choice((121, 400, 1190)))).decode()
        return armor(label, body, "\\n" if escaped else "\n")

    def password(self) -> str:
        style = self.rng.randrange(3)
        if style == 0:
            return self.pick(WORDS).capitalize() + self.pick("!#$%&*@^") + str(self.rng.randrange(100, 9999))
        if style == 1:
            return self.chars(ALNUM + "!#%^*-_", self.rng.randrange(12, 24))
        return self.chars(ALNUM, self.rng.randrange(10, 20))

    def url_password(self) -> str:
        return self.chars(ALNUM, self.rng.randrange(12, 20)) + self.pick(("", "", "!", "%21", "_x"))

    def token(self) -> str:
        return self.chars(ALNUM, self.rng.choice((32, 40, 48)))

    def api_key(self) -> str:
        style = self.rng.randrange(3)
        if style == 0:
            return self.chars(ALNUM, self.rng.choice((32, 40)))
        if style == 1:
            return self.chars(string.hexdigits.lower()[:16], 32)
        return base64.b64encode(self.rng.randbytes(30)).decode()

    def django_secret(self) -> str:
        return self.chars(string.ascii_lowercase + string.digits + "!@#%^&*(-_=+)", 50)

    def webhook_secret(self) -> str:
        return "whsec_" + self.chars(ALNUM, 32)

    # --- look-alikes -----------------------------------------------------------------------------
    def git_sha(self) -> str:
        return self.rng.randbytes(20).hex()

    def sha256(self) -> str:
        return self.rng.randbytes(32).hex()

    def sri(self) -> str:
        return "sha512-" + base64.b64encode(self.rng.randbytes(64)).decode()

    def uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def image_b64(self) -> str:
        return "iVBORw0KGgoAAAANSUhEUgAA" + base64.b64encode(self.rng.randbytes(self.rng.randrange(90, 300))).decode()

    def ssh_public(self) -> str:
        return "AAAAB3NzaC1yc2EAAAADAQABAAABAQ" + base64.b64encode(self.rng.randbytes(256)).decode()

    def public_pem(self) -> str:
        label = self.pick(("PUBLIC KEY", "CERTIFICATE"))
        body = base64.b64encode(self.rng.randbytes(294)).decode()
        return armor(label, body)

    def publishable(self) -> str:
        return "pk_live_" + self.chars(ALNUM, 24)

    def public_id(self) -> str:
        return self.pick(("price_", "prod_", "cus_", "evt_")) + self.chars(ALNUM, 24)

    def identifier(self) -> str:
        words = self.rng.sample(WORDS, 5)
        return "_".join(words) if self.rng.random() < 0.5 else "".join(w.capitalize() for w in words)


def armor(label: str, body: str, newline: str = "\n") -> str:
    """A PEM block: BEGIN line, base64 in 64-character lines, END line."""
    lines = [f"-----BEGIN {label}-----", *(body[i : i + 64] for i in range(0, len(body), 64)), f"-----END {label}-----"]
    return newline.join(lines)


NAMES = ("ada", "grace", "linus", "barbara", "ken", "margaret", "dennis", "frances")
WORDS = (
    "river maple orbit copper lantern harbor falcon meadow quartz tundra violet ember summit cobalt "
    "willow cedar prism delta nimbus saffron granite aurora breeze canyon fable glacier juniper "
    "kestrel lagoon mosaic nectar onyx pebble quill raven sierra thistle umber vortex zephyr"
).split()
EXAMPLE_AWS = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
PLACEHOLDERS = ("your-api-key-here", "<YOUR_API_KEY>", "YOUR_TOKEN_HERE", "sk-...", "xxxxxxxxxxxxxxxx", "replace-me", "TODO")


class Builder:
    """Writes one file at a time, collecting labels for the values it plants."""

    def __init__(self, gen: Gen) -> None:
        self.g = gen
        self.labels: list[Label] = []

    def secret(self, kind: str, value: str) -> str:
        self.labels.append(Label(kind, value, True))
        return value

    def decoy(self, category: str, value: str) -> str:
        self.labels.append(Label(category, value, False))
        return value

    def filler(self, lang: str, n: int) -> str:
        lines = (self.g.pick(FILLER[lang]).format(w=self.g.pick(WORDS), n=self.g.rng.randrange(1, 500)) for _ in range(n))
        return "\n".join(lines)


FILLER: dict[str, tuple[str, ...]] = {
    "py": (
        "def load_{w}(path: str) -> dict:\n    with open(path) as fh:\n        return json.load(fh)\n",
        "    for item in items:\n        total += item.get('{w}', 0)",
        "# keep the {w} cache small: it is rebuilt on every request",
        "    max_tokens = {n}",
        "    tokens = tokenizer.encode(prompt)[:{n}]",
        "    if not {w}_enabled:\n        return None",
        "class {w}Config:\n    retries: int = {n}\n    timeout: float = 2.5\n",
        "    logger.info('processed %d {w} records', count)",
        "    key = (user_id, '{w}')\n    cache[key] = value",
        "    password = request.form.get('password')",
        "    token = auth_header.split(' ')[-1]",
        "    return sorted(rows, key=lambda r: r['{w}'])",
        "import os\nimport json\nimport logging",
        "    api_key = os.environ.get('{w}_API_KEY')",
        "    secret_name = 'prod/{w}/db'",
    ),
    "js": (
        "export function {w}Handler(req, res) {{\n  res.json({{ ok: true, count: {n} }});\n}}",
        "const {w}Limit = {n};",
        "// the {w} list is sorted by the server",
        "  const tokenCount = countTokens(messages);",
        "  if (!user.password) throw new Error('password required');",
        "import {{ {w} }} from './{w}.js';",
        "  headers: {{ 'Content-Type': 'application/json' }},",
    ),
    "go": (
        "func {w}(ctx context.Context) error {{\n\treturn nil\n}}",
        "\t// retry {n} times before giving up on {w}",
        "\tif err != nil {{\n\t\treturn fmt.Errorf(\"{w}: %w\", err)\n\t}}",
        "\ttoken := r.Header.Get(\"Authorization\")",
        "\tpassword := os.Getenv(\"DB_PASSWORD\")",
    ),
    "yaml": (
        "  replicas: {n}",
        "  {w}:\n    enabled: true\n    timeout: {n}s",
        "# {w} settings",
        "    image: registry.internal/{w}:1.{n}.0",
        "  logLevel: info",
    ),
    "sh": (
        "echo \"deploying {w}\"",
        "if [ -z \"$DB_PASSWORD\" ]; then echo 'DB_PASSWORD not set' >&2; exit 1; fi",
        "for f in ./{w}/*.json; do jq . \"$f\" > /dev/null; done",
        "set -euo pipefail",
    ),
    "log": (
        "2024-06-11T10:{n:0>2}:12Z INFO  worker {w} finished in {n}ms",
        "2024-06-11T10:{n:0>2}:13Z WARN  retrying {w} after timeout (attempt 2)",
        "2024-06-11T10:{n:0>2}:14Z DEBUG cache hit ratio={n}",
    ),
    "md": (
        "The `{w}` module keeps its state in memory; restart to clear it.",
        "## {w}\n\nRun `make {w}` to build it.",
        "- `{w}`: how many tokens to keep ({n} by default)",
    ),
}


# --- file builders -------------------------------------------------------------------------------
# Each returns (path, text); labels are collected on the Builder.

def py_settings(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    aws_id, aws_secret = (b.secret("aws-key-id", g.aws_key_id()), b.secret("aws-secret", g.aws_secret()))
    text = f'''"""Django settings for the {g.pick(WORDS)} service."""
import os

SECRET_KEY = "{b.secret('secret', g.django_secret())}"
DEBUG = False
ALLOWED_HOSTS = ["{g.pick(WORDS)}.internal"]
BUILD_COMMIT = "{b.decoy('git-sha', g.git_sha())}"

DATABASES = {{
    "default": {{
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "{g.pick(WORDS)}",
        "USER": "app",
        "PASSWORD": "{b.secret('password', g.password())}",
        "HOST": "db.internal",
    }},
    "replica": {{"PASSWORD": os.environ["REPLICA_PASSWORD"]}},
}}

EMAIL_HOST_PASSWORD = "{b.secret('password', g.password())}"
AWS_ACCESS_KEY_ID = "{aws_id}"
AWS_SECRET_ACCESS_KEY = "{aws_secret}"
SENTRY_RELEASE_ID = "{b.decoy('uuid', g.uuid())}"
{b.filler("py", 12)}
'''
    return f"services/{g.pick(WORDS)}{i}/settings.py", text


def py_client(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    choice = i % 4
    if choice == 0:
        line = f'client = OpenAI(base_url="https://llm.internal/v1", api_key="{b.secret("openai-key", g.openai_key())}")'
    elif choice == 1:
        line = f'HF_TOKEN = "{b.secret("hf-token", g.hf_token())}"'
    elif choice == 2:
        line = f'anthropic_client = Anthropic(api_key="{b.secret("anthropic-key", g.anthropic_key())}")'
    else:
        line = f'session = Client("{b.secret("api-key", g.chars(ALNUM, 40))}", region="eu-west-1")'
    text = f'''"""Client for the {g.pick(WORDS)} API."""
import os

import requests

{b.filler("py", 8)}

{line}
HEADERS = {{"X-Api-Key": "{b.secret("api-key", g.api_key())}", "Accept": "application/json"}}
TRACE_NAMESPACE = "{b.decoy("uuid", g.uuid())}"
{b.decoy("long-identifier", g.identifier())} = "{b.decoy("long-identifier", g.identifier())}"


def fetch(path: str) -> dict:
    response = requests.get(f"https://api.internal/{{path}}", headers=HEADERS, timeout=10)
    response.raise_for_status()
    return response.json()
{b.filler("py", 14)}
'''
    return f"src/{g.pick(WORDS)}_client_{i}.py", text


def py_test(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''"""Tests for credential loading; the keys below are AWS's documented examples."""
import pytest

EXAMPLE_KEY_ID = "{b.decoy("aws-example", EXAMPLE_AWS[0])}"
EXAMPLE_SECRET = "{b.decoy("aws-example", EXAMPLE_AWS[1])}"
FIXTURE_DIGEST = "{b.decoy("sha256", g.sha256())}"
REQUEST_ID = "{b.decoy("uuid", g.uuid())}"
PLACEHOLDER_TOKEN = "{b.decoy("docs-placeholder", g.pick(PLACEHOLDERS))}"


def test_loads_{g.pick(WORDS)}():
    creds = load(key_id=EXAMPLE_KEY_ID, secret=EXAMPLE_SECRET)
    assert creds.key_id.startswith("AKIA")
{b.filler("py", 10)}
'''
    return f"tests/test_{g.pick(WORDS)}_{i}.py", text


def js_config(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''// Runtime configuration for the {g.pick(WORDS)} server.
{b.filler("js", 6)}
export const config = {{
  port: {g.rng.randrange(3000, 9000)},
  stripeSecretKey: "{b.secret("stripe-key", g.stripe_key())}",
  stripePublishableKey: "{b.decoy("stripe-publishable", g.publishable())}",
  defaultPrice: "{b.decoy("public-id", g.public_id())}",
  mapsApiKey: '{b.secret("google-api-key", g.google_api_key())}',
  sendgrid: {{ apiKey: "{b.secret("sendgrid-key", g.sendgrid_key())}" }},
  buildSha: "{b.decoy("git-sha", g.git_sha())}",
  jwtSecret: "{b.secret("secret", g.token())}",
  password: process.env.ADMIN_PASSWORD,
}};
{b.filler("js", 10)}
'''
    return f"web/src/config.{g.pick(WORDS)}{i}.js", text


def go_main(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    user = g.pick(WORDS)
    text = f'''package main

import (
\t"database/sql"
\t"os"
)

const apiToken = "{b.secret("token", g.token())}"
const requestNamespace = "{b.decoy("uuid", g.uuid())}"

func open() (*sql.DB, error) {{
\tdsn := "postgres://{user}:{b.secret("url-password", g.url_password())}@db.internal:5432/{user}?sslmode=require"
\treturn sql.Open("postgres", dsn)
}}

{b.filler("go", 10)}
'''
    return f"cmd/{g.pick(WORDS)}{i}/main.go", text


def dotenv(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    user = g.pick(WORDS)
    lines = [
        "# local development settings",
        "NODE_ENV=production",
        f"PORT={g.rng.randrange(3000, 9000)}",
        f"DATABASE_URL=postgresql://{user}:{b.secret('url-password', g.url_password())}@localhost:5432/{user}",
        f"DB_PASSWORD={b.secret('password', g.password())}",
        f"OPENAI_API_KEY={b.secret('openai-key', g.openai_key())}",
        f"GITHUB_TOKEN={b.secret('github-token', g.github_token())}",
        f"SLACK_BOT_TOKEN={b.secret('slack-token', g.slack_token())}",
        f"SLACK_WEBHOOK_URL={b.secret('slack-webhook', g.slack_webhook())}",
        f"STRIPE_WEBHOOK_SECRET={b.secret('secret', g.webhook_secret())}",
        f"SESSION_SECRET={b.secret('secret', g.token())}",
        f"AWS_ACCESS_KEY_ID={b.secret('aws-key-id', g.aws_key_id())}",
        f"AWS_SECRET_ACCESS_KEY={b.secret('aws-secret', g.aws_secret())}",
        "LOG_LEVEL=debug",
        f"FEATURE_{g.pick(WORDS).upper()}=true",
        f"REDIS_PASSWORD={b.decoy('template', '${REDIS_PASSWORD_FROM_VAULT}')}",
        f"SMTP_PASSWORD={b.decoy('changeme', 'changeme')}",
    ]
    g.rng.shuffle(lines)
    return f"deploy/{user}{i}/.env", "\n".join(lines) + "\n"


def dotenv_example(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    lines = [
        "# copy to .env and fill in",
        f"OPENAI_API_KEY={b.decoy('docs-placeholder', 'your-api-key-here')}",
        f"DB_PASSWORD={b.decoy('changeme', 'changeme')}",
        f"GITHUB_TOKEN={b.decoy('docs-placeholder', '<YOUR_GITHUB_TOKEN>')}",
        f"AWS_ACCESS_KEY_ID={b.decoy('aws-example', EXAMPLE_AWS[0])}",
        f"AWS_SECRET_ACCESS_KEY={b.decoy('aws-example', EXAMPLE_AWS[1])}",
        f"SECRET_KEY={b.decoy('template', '${SECRET_KEY}')}",
        "PORT=8080",
    ]
    return f"examples/{g.pick(WORDS)}{i}/.env.example", "\n".join(lines) + "\n"


def compose(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''services:
  db:
    image: postgres@sha256:{b.decoy("sha256", g.sha256())}
    environment:
      POSTGRES_USER: app
      POSTGRES_PASSWORD: {b.secret("password", g.password())}
  api:
    image: registry.internal/api:{g.rng.randrange(1, 9)}.2
    environment:
      API_TOKEN: "{b.secret("token", g.token())}"
      REDIS_URL: redis://:{b.secret("url-password", g.url_password())}@redis:6379/0
      MAILER_PASSWORD: "{b.decoy("template", "${MAILER_PASSWORD}")}"
      TRACE_ID_SALT_VERSION: "{b.decoy("uuid", g.uuid())}"
{b.filler("yaml", 6)}
'''
    return f"deploy/docker-compose.{g.pick(WORDS)}{i}.yml", text


def k8s_secret(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    pw = base64.b64encode(g.password().encode()).decode()
    key = base64.b64encode(g.token().encode()).decode()
    text = f'''apiVersion: v1
kind: Secret
metadata:
  name: {g.pick(WORDS)}-credentials
  uid: {b.decoy("uuid", g.uuid())}
type: Opaque
data:
  DB_PASSWORD: {b.secret("password", pw)}
  API_KEY: {b.secret("api-key", key)}
---
apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      containers:
        - name: app
          image: registry.internal/app@sha256:{b.decoy("sha256", g.sha256())}
          env:
            - name: DB_PASSWORD
              valueFrom:
                secretKeyRef: {{name: db, key: password}}
{b.filler("yaml", 5)}
'''
    return f"k8s/{g.pick(WORDS)}{i}-secret.yaml", text


def workflow(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''name: release
on: push
jobs:
  publish:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@{b.decoy("git-sha", g.git_sha())}
      - uses: actions/setup-node@{b.decoy("git-sha", g.git_sha())}
      - run: npm publish
        env:
          NODE_AUTH_TOKEN: {b.decoy("template", "${{ secrets.NPM_TOKEN }}")}
          GITLAB_TOKEN: {b.secret("gitlab-token", g.gitlab_token())}
'''
    return f".github/workflows/release-{g.pick(WORDS)}{i}.yml", text


def terraform(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''provider "aws" {{
  region     = "eu-west-1"
  access_key = "{b.secret("aws-key-id", g.aws_key_id())}"
  secret_key = "{b.secret("aws-secret", g.aws_secret())}"
}}

resource "aws_db_instance" "{g.pick(WORDS)}" {{
  engine   = "postgres"
  username = "app"
  password = "{b.secret("password", g.password())}"
}}

resource "aws_db_instance" "replica" {{
  password = var.replica_password
}}

resource "azurerm_storage_account" "logs" {{
  connection = "DefaultEndpointsProtocol=https;AccountName={g.pick(WORDS)};AccountKey={b.secret("azure-key", g.azure_key())};EndpointSuffix=core.windows.net"
}}
'''
    return f"infra/{g.pick(WORDS)}{i}/main.tf", text


def tf_lock(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    hashes = "\n".join(f'    "zh:{b.decoy("sha256", g.sha256())}",' for _ in range(6))
    text = f'''# This file is maintained automatically by "terraform init".
provider "registry.terraform.io/hashicorp/aws" {{
  version     = "5.{g.rng.randrange(10, 60)}.0"
  hashes = [
    "h1:{b.decoy("h1-hash", base64.b64encode(g.rng.randbytes(32)).decode())}",
{hashes}
  ]
}}
'''
    return f"infra/{g.pick(WORDS)}{i}/.terraform.lock.hcl", text


def ini_files(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    if i % 2:
        text = f'''[default]
aws_access_key_id = {b.secret("aws-key-id", g.aws_key_id())}
aws_secret_access_key = {b.secret("aws-secret", g.aws_secret())}
region = eu-west-1

[profile docs]
aws_access_key_id = {b.decoy("aws-example", EXAMPLE_AWS[0])}
aws_secret_access_key = {b.decoy("aws-example", EXAMPLE_AWS[1])}
'''
        return f"home/{g.pick(WORDS)}{i}/.aws/credentials", text
    text = f'''[global]
index-url = https://deploy:{b.secret("url-password", g.url_password())}@pypi.internal/simple
timeout = 30

[database]
host = db.internal
user = reporting
password = {b.secret("password", g.password())}
schema_version = {b.decoy("git-sha", g.git_sha())}
'''
    return f"etc/{g.pick(WORDS)}{i}.ini", text


def shell(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''#!/usr/bin/env bash
{b.filler("sh", 4)}
export GITHUB_TOKEN={b.secret("github-token", g.github_token())}
curl -fsS -H "Authorization: Bearer {b.secret("token", g.token())}" https://api.internal/v1/deploy
mysql -h db.internal -u admin --password={b.secret("password", g.password())} < schema.sql
PGPASSWORD='{b.secret("password", g.password())}' psql -h db.internal -U app -c 'select 1'
echo "release {b.decoy("git-sha", g.git_sha())}"
{b.filler("sh", 4)}
'''
    return f"scripts/deploy-{g.pick(WORDS)}{i}.sh", text


def dockerfile(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''FROM python:3.11-slim@sha256:{b.decoy("sha256", g.sha256())}
ARG NPM_TOKEN
ENV APP_HOME=/srv/app
ENV SENTRY_AUTH_TOKEN={b.secret("token", g.token())}
RUN pip install --index-url https://__token__:{b.secret("url-password", g.url_password())}@pypi.internal/simple app
RUN echo "//registry.npmjs.org/:_authToken=${{NPM_TOKEN}}" > ~/.npmrc
COPY . $APP_HOME
CMD ["gunicorn", "app:wsgi"]
'''
    return f"docker/{g.pick(WORDS)}{i}/Dockerfile", text


def npmrc(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={b.secret('npm-token', g.npm_token())}\nalways-auth=true\n"
    return f"web/{g.pick(WORDS)}{i}/.npmrc", text


def package_lock(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    entries = []
    for _ in range(8):
        name = g.pick(WORDS)
        entries.append(f'''    "node_modules/{name}": {{
      "version": "{g.rng.randrange(1, 9)}.{g.rng.randrange(0, 20)}.{g.rng.randrange(0, 9)}",
      "resolved": "https://registry.npmjs.org/{name}/-/{name}-1.0.0.tgz",
      "integrity": "{b.decoy("sri-integrity", g.sri())}"
    }}''')
    body = ",\n".join(entries)
    return f"web/{g.pick(WORDS)}{i}/package-lock.json", f'{{\n  "lockfileVersion": 3,\n  "packages": {{\n{body}\n  }}\n}}\n'


def poetry_lock(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    parts = []
    for _ in range(6):
        name = g.pick(WORDS)
        parts.append(f'''[[package]]
name = "{name}"
version = "1.{g.rng.randrange(0, 30)}.0"
files = [
    {{file = "{name}-1.0.tar.gz", hash = "sha256:{b.decoy("sha256", g.sha256())}"}},
]
''')
    return f"py/{g.pick(WORDS)}{i}/poetry.lock", "\n".join(parts)


def go_sum(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    lines = []
    for _ in range(10):
        mod = f"github.com/{g.pick(WORDS)}/{g.pick(WORDS)}"
        digest = base64.b64encode(g.rng.randbytes(32)).decode()
        lines.append(f"{mod} v1.{g.rng.randrange(0, 20)}.0 h1:{b.decoy('h1-hash', digest)}")
    return f"go/{g.pick(WORDS)}{i}/go.sum", "\n".join(lines) + "\n"


def service_account(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    doc = {
        "type": "service_account",
        "project_id": f"{g.pick(WORDS)}-{g.rng.randrange(1000, 9999)}",
        "private_key_id": b.decoy("key-id", g.git_sha()),
        "private_key": b.secret("private-key", g.pem(escaped=True)),
        "client_email": f"deploy@{g.pick(WORDS)}.iam.gserviceaccount.com",
        "client_id": str(g.rng.randrange(10**20, 10**21)),
    }
    text = json.dumps(doc, indent=2).replace("\\\\n", "\\n")
    return f"secrets/{g.pick(WORDS)}{i}-sa.json", text + "\n"


def pem_file(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    if i % 3 == 0:
        text = f"{b.decoy('public-key', g.public_pem())}\n"
        return f"certs/{g.pick(WORDS)}{i}.crt", text
    return f"keys/{g.pick(WORDS)}{i}.pem", b.secret("private-key", g.pem()) + "\n"


def yaml_config(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    indented = "    " + b.secret("private-key", g.pem().replace("\n", "\n    "))
    text = f'''# {g.pick(WORDS)} service configuration
server:
  port: 8080
database:
  host: db.internal
  user: app
  password: {b.secret("password", g.password())}
redis:
  url: redis://default:{b.secret("url-password", g.url_password())}@redis.internal:6379
auth:
  jwt_secret: "{b.secret("secret", g.token())}"
  token_ttl: 3600
  client_secret: {b.secret("secret", g.token())}
tls:
  key: |
{indented}
  ssh_public_key: ssh-rsa {b.decoy("public-key", g.ssh_public())} deploy@ci
telemetry:
  instance_id: {b.decoy("uuid", g.uuid())}
{b.filler("yaml", 5)}
'''
    return f"config/{g.pick(WORDS)}{i}.yaml", text


def app_log(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    lines = [b.filler("log", 6)]
    lines.append(f"2024-06-11T10:02:11Z INFO  request id={b.decoy('uuid', g.uuid())} path=/v1/items status=200")
    lines.append(f"2024-06-11T10:02:12Z INFO  deployed commit {b.decoy('git-sha', g.git_sha())}")
    lines.append(f"2024-06-11T10:02:13Z DEBUG outgoing headers: {{'Authorization': 'Bearer {b.secret('jwt', g.jwt())}'}}")
    lines.append(f"2024-06-11T10:02:14Z ERROR could not connect: mongodb+srv://svc:{b.secret('url-password', g.url_password())}@cluster0.internal/app")
    lines.append(f"2024-06-11T10:02:15Z INFO  GET /callback?code=ok&access_token={b.secret('token', g.token())}&state=1")
    lines.append(f"2024-06-11T10:02:16Z INFO  trace={b.decoy('trace-id', g.rng.randbytes(16).hex())} span=ok")
    lines.append(f"2024-06-11T10:02:17Z WARN  slack notify failed for {b.secret('slack-webhook', g.slack_webhook())}")
    lines.append(b.filler("log", 6))
    return f"logs/{g.pick(WORDS)}{i}.log", "\n".join(lines) + "\n"


def readme(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    image = b.decoy("base64-image", g.image_b64())
    text = f'''# {g.pick(WORDS).capitalize()}

{b.filler("md", 3)}

## Setup

```sh
export OPENAI_API_KEY={b.decoy("docs-placeholder", "sk-...")}
export DB_PASSWORD={b.decoy("template", "${DB_PASSWORD}")}
```

Set `api_key: "{b.decoy("docs-placeholder", "YOUR_API_KEY")}"` in `config.yaml`. The default admin password
is `{b.decoy("changeme", "changeme")}`; change it on first login.

![logo](data:image/png;base64,{image})

The release was built from `{b.decoy("git-sha", g.git_sha())}`.

> Rotated 2024-06-01: the old token `{b.secret("github-token", g.github_token())}` leaked in a screenshot.
'''
    return f"docs/{g.pick(WORDS)}{i}/README.md", text


def icons_json(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    doc = {
        "name": g.pick(WORDS),
        "icon": b.decoy("base64-image", g.image_b64()),
        "id": b.decoy("uuid", g.uuid()),
        "checksum": b.decoy("sha256", g.sha256()),
        "schema": b.decoy("long-identifier", g.identifier()),
        "publicKey": b.decoy("public-key", g.ssh_public()),
    }
    return f"assets/{g.pick(WORDS)}{i}.json", json.dumps(doc, indent=2) + "\n"


def ci_output(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''$ git log --oneline -3
{b.decoy("short-sha", g.git_sha()[:7])} Bump {g.pick(WORDS)} to 1.2.0
{b.decoy("short-sha", g.git_sha()[:7])} Fix {g.pick(WORDS)} cache
$ env | sort
HOME=/home/runner
HF_TOKEN={b.secret("hf-token", g.hf_token())}
PATH=/usr/local/bin:/usr/bin
TELEGRAM_BOT_TOKEN={b.secret("token", f"{g.rng.randrange(10**8, 10**9)}:AA{g.chars(URLSAFE, 33)}")}
$ sha256sum dist/*.whl
{b.decoy("sha256", g.sha256())}  dist/app-1.2.0-py3-none-any.whl
'''
    return f"ci/{g.pick(WORDS)}{i}.txt", text


def maven_settings(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f"""<settings>
  <servers>
    <server>
      <id>internal-releases</id>
      <username>deploy</username>
      <password>{b.secret("password", g.password())}</password>
    </server>
  </servers>
  <profiles><profile><id>{b.decoy("uuid", g.uuid())}</id></profile></profiles>
</settings>
"""
    return f"java/{g.pick(WORDS)}{i}/settings.xml", text


def wp_config(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    salt = g.chars(ALNUM + "!#%^*()-_=+[]{}<>~|:.,", 64)
    text = f"""<?php
define( 'DB_NAME', '{g.pick(WORDS)}' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', '{b.secret("password", g.password())}' );
define( 'DB_HOST', 'localhost' );
define( 'AUTH_KEY',         '{b.secret("secret", salt)}' );
$table_prefix = 'wp_';
"""
    return f"php/{g.pick(WORDS)}{i}/wp-config.php", text


def spring_properties(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f"""server.port=8080
spring.datasource.url=jdbc:postgresql://db.internal:5432/{g.pick(WORDS)}
spring.datasource.username=app
spring.datasource.password={b.secret("password", g.password())}
jwt.secret={b.secret("secret", g.token())}
jwt.expiration=3600
management.endpoints.web.exposure.include=health
"""
    return f"java/{g.pick(WORDS)}{i}/application.properties", text


def appsettings(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    connection = f"Server=db.internal;Database={g.pick(WORDS)};User Id=sa;Password={b.secret('password', g.password())};"
    doc = {
        "ConnectionStrings": {"Default": connection},
        "Logging": {"LogLevel": {"Default": "Information"}},
        "Jwt": {"Issuer": "https://auth.internal", "SigningKey": b.secret("secret", g.token())},
        "InstanceId": b.decoy("uuid", g.uuid()),
    }
    return f"dotnet/{g.pick(WORDS)}{i}/appsettings.json", json.dumps(doc, indent=2) + "\n"


def ops_notes(b: Builder, i: int) -> tuple[str, str]:
    """Credentials in shapes with no `name = value` to go by."""
    g = b.g
    session = g.chars(string.ascii_lowercase + string.digits, 32)
    text = f"""# ops notes ({g.pick(WORDS)})

curl -u deploy:{b.secret("password", g.password())} https://ci.internal/api/json
docker login registry.internal -u ci -p {b.secret("password", g.password())}
psql -c "CREATE USER report WITH PASSWORD '{b.secret("password", g.password())}';"
echo 'db.internal:5432:app:app:{b.secret("password", g.password())}' >> ~/.pgpass
echo "machine api.internal login deploy password {b.secret("password", g.password())}" >> ~/.netrc
Cookie: sessionid={b.secret("token", session)}; theme=dark

The staging admin login is admin / {b.secret("password", g.password())} until Friday.
Short PIN for the test kiosk: PASSWORD={b.secret("password", g.chars(ALNUM, 4))}
"""
    return f"notes/{g.pick(WORDS)}{i}.md", text


def py_services(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f'''import psycopg2
import requests

conn = psycopg2.connect(host="db.internal", user="app", password="{b.secret("password", g.password())}")
resp = requests.get("https://api.internal/v1/me", auth=("svc", "{b.secret("password", g.password())}"))
VENDOR = {{"api": {{"url": "https://vendor.example.net", "key": "{b.secret("api-key", g.chars(ALNUM, 40))}"}}}}
'''
    return f"src/{g.pick(WORDS)}_services_{i}.py", text


def nested_yaml(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    text = f"""vendor:
  api:
    url: https://vendor.example.net/v2
    key: {b.secret("api-key", g.chars(ALNUM, 40))}
  webhook:
    signing: {b.secret("secret", g.chars(ALNUM, 32))}
"""
    return f"config/vendor-{g.pick(WORDS)}{i}.yaml", text


def noisy_code(b: Builder, i: int) -> tuple[str, str]:
    """Code that talks about passwords, tokens and keys without holding one."""
    g = b.g
    text = f'''"""Account views."""
import secrets

PASSWORD_MIN_LENGTH = {b.decoy("code-mention", str(g.rng.randrange(10, 16)))}
token_type = "{b.decoy("code-mention", "Bearer")}"
api_key_header = APIKeyHeader(name="X-API-Key")


def reset(user, form):
    if form.password != form.confirm_password:
        raise ValueError("passwords differ")
    secret = secrets.token_hex(32)
    user.password_hash = hasher.hash(form.password)
    headers = {{"Authorization": f"Bearer {{user.token}}"}}
    masked = {{"password": "{b.decoy("code-mention", "********")}", "token": token_preview(secret)}}
    auth_token: str | None = None
    return secret
{b.filler("py", 10)}
'''
    return f"app/{g.pick(WORDS)}_views_{i}.py", text


def i18n(b: Builder, i: int) -> tuple[str, str]:
    g = b.g
    doc = {
        "login": {
            "password": b.decoy("ui-text", g.pick(("Passwort", "Mot de passe", "Contraseña", "Password"))),
            "forgot_password": b.decoy("ui-text", g.pick(("Forgot password?", "Passwort vergessen?"))),
            "token_expired": "Your session expired.",
            "api_key": b.decoy("ui-text", g.pick(("API key", "API-Schlüssel", "Clé d'API"))),
            "secret": b.decoy("ui-text", g.pick(("Secret", "Geheimnis", "Secreto"))),
        }
    }
    return f"web/locales/{g.pick(WORDS)}{i}.json", json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


BUILDERS: tuple[Callable[[Builder, int], tuple[str, str]], ...] = (
    py_settings, py_client, py_test, js_config, go_main, dotenv, dotenv_example, compose, k8s_secret,
    workflow, terraform, tf_lock, ini_files, shell, dockerfile, npmrc, package_lock, poetry_lock, go_sum,
    service_account, pem_file, yaml_config, app_log, readme, icons_json, ci_output, maven_settings, wp_config,
    spring_properties, appsettings, ops_notes, py_services, nested_yaml, noisy_code, i18n,
)


def build(seed: int = SEED, per_builder: int = 7) -> list[Doc]:
    """The corpus: `per_builder` files from each builder, the same for the same seed."""
    gen = Gen(seed)
    docs = []
    for i in range(per_builder):
        for make in BUILDERS:
            builder = Builder(gen)
            path, text = make(builder, i)
            docs.append(Doc(path, text, builder.labels))
    return docs


def check(docs: list[Doc]) -> None:
    """Every label must appear verbatim in its file (a broken template would skew the results)."""
    for doc in docs:
        for label in doc.labels:
            assert label.value in doc.text, (doc.path, label)


def write(docs: list[Doc], out: Path) -> None:
    for doc in docs:
        target = out / doc.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(doc.text)
    labels = {doc.path: [asdict(label) for label in doc.labels] for doc in docs}
    (out / "labels.json").write_text(json.dumps(labels, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    docs = build()
    check(docs)
    write(docs, parser.parse_args().out)
    secrets = sum(label.secret for doc in docs for label in doc.labels)
    print(f"{len(docs)} files, {secrets} secrets, {sum(len(d.labels) for d in docs) - secrets} look-alikes")


if __name__ == "__main__":
    main()
