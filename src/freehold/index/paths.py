"""What a repository path is for: test code, documentation, or the code itself.

Locating the file to change prefers the code: a test shows where a bug is seen, not where it is
fixed, and prose describes behaviour rather than implementing it.
"""

from __future__ import annotations

import re

_TEST_DIRS = frozenset({"test", "tests", "__tests__", "spec", "specs", "testcases", "test_utils"})
_TEST_FILE = re.compile(
    r"(^test_.*|.*_tests?\.[a-z]+|^tests?\.[a-z]+|^conftest\.py|.*\.(test|spec)\.[jt]sx?|.*_spec\.rb|.*Tests?\.(java|kt|cs|swift|scala))$")
_DOC_DIRS = frozenset({"doc", "docs", "documentation", "examples", "example", "samples", "benchmarks", "asv_bench"})
# Code kept in the repository but written elsewhere: fixes go upstream, not here.
_VENDORED_DIRS = frozenset({"vendor", "vendored", "third_party", "thirdparty", "third-party", "extern", "external",
                            "node_modules", "static", "bower_components"})
_PROSE = frozenset({"md", "rst", "txt", "adoc"})
_CODE = frozenset({
    "py", "pyi", "pyx", "js", "mjs", "cjs", "jsx", "ts", "tsx", "go", "rs", "java", "c", "h", "cc", "cpp", "cxx",
    "hpp", "hh", "cs", "rb", "php", "kt", "kts", "swift", "scala", "sh", "bash",
})


def is_test(path: str) -> bool:
    parts = path.split("/")
    return any(part in _TEST_DIRS for part in parts[:-1]) or bool(_TEST_FILE.match(parts[-1]))


def is_docs(path: str) -> bool:
    parts = path.split("/")
    return any(part in _DOC_DIRS for part in parts[:-1]) or extension(path) in _PROSE


def is_vendored(path: str) -> bool:
    parts = path.split("/")
    return any(part in _VENDORED_DIRS for part in parts[:-1]) or ".min." in parts[-1]


def kind(path: str) -> str:
    """"test", "vendored", "docs", "code" or "other": what `locate` scales a file's score by."""
    if is_test(path):
        return "test"
    if is_vendored(path):
        return "vendored"
    if is_docs(path):
        return "docs"
    return "code" if is_code(path) else "other"


def is_code(path: str) -> bool:
    return extension(path) in _CODE


def extension(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""

