"""`freehold models pull`: download a GGUF file through the egress point, resumably, verified,
and installed by an atomic rename, so a model file is either whole and checked or absent.

The bytes go to `NAME.part` beside the target. A dropped connection is retried with an HTTP
Range request from the part's size (a part left by an earlier run is resumed the same way); a
server that ignores Range and answers 200 is read again from the start. Then the SHA-256 (when
one is known) and the GGUF magic are checked, and only then is the part renamed into place.
Redirects (a model hub sending the file from a CDN) are followed by hand, each new origin
checked against the policy's `[models] pull_from` with a transport of its own.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import unquote, urljoin, urlsplit

from freehold import __version__
from freehold.errors import FreeholdError, ModelUnreachable, UsageError
from freehold.policy.egress import admit, egress_transport
from freehold.policy.org import Policy

if TYPE_CHECKING:
    import httpx

__all__ = ["GGUF_MAGIC", "Pulled", "Source", "catalog_path", "pull", "resolve"]

GGUF_MAGIC = b"GGUF"
RETRY_STATUS = {408, 429, 500, 502, 503, 504}
MAX_REDIRECTS = 5
CHUNK = 1 << 20
_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")

# Called with (bytes on disk, total size or None) as the download goes.
Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class Source:
    """What to download: the URL, the expected SHA-256 (lower-case hex) if known, the file name."""

    url: str
    sha256: str | None
    filename: str


@dataclass(frozen=True)
class Pulled:
    path: Path
    size: int
    sha256: str
    downloaded: bool  # False: the file was already installed (and matched the hash, if one was given)


@dataclass(frozen=True)
class Retry:
    """How hard to try: the model client's settings (`max_retries`, `retry_backoff`, `timeout`)."""

    attempts: int = 5
    backoff: float = 1.0
    timeout: float = 600.0


class _Again(Exception):
    """This attempt failed in a way the next one may not: a dropped connection, a 5xx."""


# -- what to download -------------------------------------------------------------------------


def catalog_path(env: dict[str, str] | None = None) -> Path:
    from freehold.config import user_config_path

    return user_config_path(env).parent / "models.toml"


def resolve(name_or_url: str, sha256: str | None = None, catalog: Path | None = None) -> Source:
    """The Source a NAME (looked up in the user's catalog) or an http(s) URL stands for."""
    catalog = catalog_path() if catalog is None else catalog
    if sha256 is not None and not _SHA256.fullmatch(sha256):
        raise UsageError(f"--sha256 must be 64 hex digits, got {sha256!r}")
    if name_or_url.startswith(("http://", "https://")):
        url, known = name_or_url, None
    else:
        url, known = _from_catalog(name_or_url, catalog)
    if sha256 and known and sha256.lower() != known:
        raise UsageError(f"--sha256 {sha256.lower()} disagrees with {catalog} [{name_or_url}] sha256 {known}")
    return Source(url, (sha256 or known or "").lower() or None, _filename(url))


def _from_catalog(name: str, catalog: Path) -> tuple[str, str | None]:
    add = (f'add it to {catalog} as [{name}] with url = "https://host.example/{name}.gguf" and '
           'sha256 = "<64 hex digits>", or pass the URL itself')
    try:
        data = tomllib.loads(catalog.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no model named {name!r}: {add}") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"model catalog {catalog}: {exc}") from None
    entry = data.get(name)
    if entry is None:
        raise UsageError(f"no model named {name!r} in {catalog}: {add}")
    url, sha = (entry.get("url"), entry.get("sha256")) if isinstance(entry, dict) else (None, None)
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise UsageError(f"model catalog {catalog}: [{name}] url must be an http(s) URL")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha)):
        raise UsageError(f"model catalog {catalog}: [{name}] sha256 must be 64 hex digits")
    return url, sha.lower() if sha else None


def _filename(url: str) -> str:
    """The name to install as: the URL's last path segment, ending in .gguf."""
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1]).strip()
    if not name or name.startswith(".") or "/" in name or "\\" in name or "\0" in name:
        raise UsageError(f"cannot name a file after {url!r}: its path must end in a file name such as model.gguf")
    return name if name.lower().endswith(".gguf") else name + ".gguf"


# -- download ----------------------------------------------------------------------------------


def pull(source: Source, directory: Path, policy: Policy, retry: Retry = Retry(),
         progress: Progress | None = None) -> Pulled:
    """Download `source` into `directory` (see the module doc). Raises PolicyRefused (exit 3)
    before any connection when the policy does not allow the URL, ModelUnreachable (exit 4)
    when every attempt failed (the part is kept for the next run), FreeholdError (exit 1) for a
    file that is not what was asked for (nothing is installed, the part is deleted)."""
    admit(policy, source.url, "download")
    target = directory / source.filename
    if target.is_file():
        digest = _sha256_of(target)
        if source.sha256 in (None, digest):
            return Pulled(target, target.stat().st_size, digest, downloaded=False)
    part = target.with_name(target.name + ".part")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        _download(source.url, part, policy, retry, progress)
        digest = _check(part, source)
        os.replace(part, target)
    except OSError as exc:  # a full disk, a directory we may not write: the part, if any, is kept
        raise FreeholdError(f"cannot write {exc.filename or part}: {exc.strerror or exc}") from None
    return Pulled(target, target.stat().st_size, digest, downloaded=True)


def _download(url: str, part: Path, policy: Policy, retry: Retry, progress: Progress | None) -> None:
    """Attempts until the part is whole. Only attempts that add nothing count against
    `retry.attempts`: a long download over a flaky link goes on while it gets somewhere."""
    import httpx  # here, not at module level: start-up time is a feature

    made, stalled, last = 0, 0, "no attempt made"
    while stalled < retry.attempts:
        if stalled:
            time.sleep(retry.backoff * 2 ** (stalled - 1))
        before, made = _size_of(part), made + 1
        try:
            _attempt(url, part, policy, retry.timeout, progress)
            return
        except _Again as exc:
            last = str(exc)
        except httpx.TransportError as exc:
            last = f"{type(exc).__name__}: {exc}"
        stalled = 0 if _size_of(part) > before else stalled + 1
    kept = f"; {_size_of(part)} bytes are kept in {part}, run the same command to resume" if _size_of(part) else ""
    raise ModelUnreachable(f"download from {url} failed after {made} attempts: {last}{kept}")


def _size_of(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _attempt(url: str, part: Path, policy: Policy, timeout: float, progress: Progress | None) -> None:
    """One request: resume from the part's size, or start over when the server sends it all."""
    offset = _size_of(part)
    # Bytes as stored, never re-encoded in transit, so offsets into the part are offsets into the file.
    headers = {"Accept-Encoding": "identity"} | ({"Range": f"bytes={offset}-"} if offset else {})
    with _get(url, headers, policy, timeout) as response:
        if response.status_code == 416:  # nothing after `offset`: the part is whole, or not ours
            if response.headers.get("content-range") == f"bytes */{offset}":
                return
            part.unlink()
            raise _Again(f"the server has no bytes after {offset}; starting over")
        if response.status_code == 206:
            start = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
            if start is None or int(start.group(1)) != offset:
                part.unlink()
                raise _Again("the server answered a different range than asked; starting over")
        elif response.status_code == 200:
            offset = 0  # the server ignored Range (or there was nothing to resume): start clean
        else:
            _refuse_status(url, response)
        _write(url, response, part, offset, progress)


def _write(url: str, response: httpx.Response, part: Path, offset: int, progress: Progress | None) -> None:
    """The body into the part, from `offset`; stops at once if the first bytes are not GGUF's."""
    total = _expected_total(response)
    head = _head(part) if offset else b""
    with open(part, "ab" if offset else "wb") as out:
        done = offset
        for chunk in response.iter_raw():  # as received: a drop loses nothing already read
            if len(head) < len(GGUF_MAGIC):
                head += chunk[: len(GGUF_MAGIC) - len(head)]
                if not GGUF_MAGIC.startswith(head):  # an HTML page, a safetensors file: no need to fetch it all
                    out.close()
                    part.unlink()
                    raise _not_gguf(url, head)
            out.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
        out.flush()
        os.fsync(out.fileno())  # on disk before the rename makes it the model


def _expected_total(response: httpx.Response) -> int | None:
    found = _CONTENT_RANGE.match(response.headers.get("content-range", ""))
    if response.status_code == 206 and found and found.group(3) != "*":
        return int(found.group(3))
    length = response.headers.get("content-length")
    return int(length) if response.status_code == 200 and length and length.isdigit() else None


def _refuse_status(url: str, response: httpx.Response) -> NoReturn:
    if response.status_code in RETRY_STATUS:
        raise _Again(f"HTTP {response.status_code}")
    raise FreeholdError(f"download from {url} failed: HTTP {response.status_code} {response.reason_phrase}".rstrip())


@contextmanager
def _get(url: str, headers: dict[str, str], policy: Policy, timeout: float) -> Iterator[httpx.Response]:
    """A streamed GET of `url`, following redirects by hand: each origin is admitted by the
    policy and gets a transport of its own (a transport is bound to one origin)."""
    import httpx

    for _ in range(MAX_REDIRECTS + 1):
        client = httpx.Client(transport=egress_transport(policy, purpose="download"), trust_env=False,
                              follow_redirects=False, headers={"User-Agent": f"freehold/{__version__}"},
                              timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)))
        with client, client.stream("GET", url, headers=headers) as response:
            location = response.headers.get("location")
            if not (response.is_redirect and location):
                yield response
                return
            following = urljoin(url, location)
            if url.startswith("https://") and not following.startswith("https://"):
                raise FreeholdError(f"refused: {url} redirects to {following}, which is not https")
            admit(policy, following, "download")
            url = following
    raise FreeholdError(f"download from {url} failed: more than {MAX_REDIRECTS} redirects")


# -- checks ------------------------------------------------------------------------------------


def _check(part: Path, source: Source) -> str:
    """The part's SHA-256, after checking it against the expected one and the GGUF magic;
    on either failure the part is deleted, so a bad file can be neither installed nor resumed."""
    digest = _sha256_of(part)
    head = _head(part)
    if source.sha256 is not None and digest != source.sha256:
        part.unlink()
        raise FreeholdError(f"sha256 mismatch for {source.url}: expected {source.sha256}, got {digest}; "
                            "the download was deleted and nothing was installed")
    if head != GGUF_MAGIC:
        part.unlink()
        raise _not_gguf(source.url, head)
    return digest


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(len(GGUF_MAGIC))


def _not_gguf(url: str, head: bytes) -> FreeholdError:
    return FreeholdError(f"{url} is not a GGUF file (it starts with {head!r}, not {GGUF_MAGIC!r}); nothing was installed")


def _sha256_of(path: Path) -> str:
    # The whole file, read again at the end: simpler than carrying a hash across resumed
    # attempts, and a few seconds for a large model against minutes of download.
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()
