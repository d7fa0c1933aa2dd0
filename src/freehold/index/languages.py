"""Which language a file is written in, from its name (and, for a few cases, its first bytes).

`language_for(path, head)` returns one of the code languages symbol extraction knows
("python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
"ruby", "php", "kotlin", "swift", "scala", "bash"), "text" for files worth indexing as plain
text only (configuration, markup, documentation, and source in languages without symbol
support), or None for binary and unknown files.

Decisions:
- `.h` is C unless `head` (the file's first bytes, when given) shows C++-only syntax
  (`class X`, `namespace`, `template <`, `public:`, `std::`); then it is C++.
- A file with no extension is looked up by its whole name (Makefile, Dockerfile, ...), then by
  its shebang line when `head` is given (`#!/usr/bin/env python3` -> "python").
- Nothing here reads the file system and nothing heavy is imported.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


CODE_LANGUAGES = (
    "python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
    "ruby", "php", "kotlin", "swift", "scala", "bash",
)

_EXTENSIONS: dict[str, str] = {
    "py": "python", "pyi": "python", "pyw": "python",
    "js": "javascript", "mjs": "javascript", "cjs": "javascript", "jsx": "javascript",
    "ts": "typescript", "mts": "typescript", "cts": "typescript",
    "tsx": "tsx",
    "go": "go",
    "rs": "rust",
    "java": "java",
    "c": "c",
    "cc": "cpp", "cpp": "cpp", "cxx": "cpp", "c++": "cpp",
    "hpp": "cpp", "hh": "cpp", "hxx": "cpp", "h++": "cpp", "ipp": "cpp", "tpp": "cpp", "inl": "cpp",
    "cs": "csharp",
    "rb": "ruby", "rake": "ruby", "gemspec": "ruby",
    "php": "php", "phtml": "php",
    "kt": "kotlin", "kts": "kotlin",
    "swift": "swift",
    "scala": "scala", "sc": "scala",
    "sh": "bash", "bash": "bash", "zsh": "bash", "ksh": "bash",
}

# Indexed as text only: configuration, markup, docs, data in text form, and source code in
# languages symbol extraction does not cover.
_TEXT_EXTENSIONS = _words("""
    json jsonc json5 yaml yml toml ini cfg conf config properties env editorconfig
    xml xsd xsl xslt html htm xhtml css scss sass less svg
    md markdown rst txt text adoc asciidoc org tex bib rtf
    sql graphql gql proto thrift avsc csv tsv
    mk make cmake gradle bzl bazel nix dockerfile containerfile
    lock sum mod cabal
    lua pl pm t r jl dart ex exs erl hrl hs elm clj cljs cljc edn ml mli fs fsi fsx
    vue svelte astro zig nim v d groovy m mm pas f f90 f95 for asm s
    ps1 psm1 bat cmd fish vim el lisp scm rkt tcl awk sed
    tf tfvars hcl j2 jinja jinja2 tmpl tpl mustache hbs erb ejs haml pug
    gitignore gitattributes gitmodules dockerignore npmignore
    po pot in ac am diff patch
""")

_FILENAMES: dict[str, str] = {
    "Rakefile": "ruby", "Gemfile": "ruby", "Guardfile": "ruby", "Podfile": "ruby",
    "Vagrantfile": "ruby", "Brewfile": "ruby",
    "SConstruct": "python", "SConscript": "python", "BUILD": "text", "WORKSPACE": "text",
    ".bashrc": "bash", ".bash_profile": "bash", ".profile": "bash", ".zshrc": "bash",
    "PKGBUILD": "bash",
}

_TEXT_FILENAMES = _words("""
    Makefile makefile GNUmakefile Dockerfile Containerfile Jenkinsfile Procfile Justfile justfile
    README LICENSE LICENCE COPYING NOTICE AUTHORS CONTRIBUTORS CHANGES CHANGELOG HISTORY
    MANIFEST CODEOWNERS OWNERS VERSION TODO INSTALL
    .gitignore .gitattributes .gitmodules .dockerignore .editorconfig .npmrc .nvmrc
    .env.example .flake8 .pylintrc .coveragerc
""")

_INTERPRETERS: dict[str, str] = {
    "python": "python", "pypy": "python",
    "node": "javascript", "nodejs": "javascript", "deno": "typescript", "bun": "javascript",
    "ts-node": "typescript", "tsx": "typescript",
    "bash": "bash", "sh": "bash", "zsh": "bash", "ksh": "bash", "dash": "bash",
    "ruby": "ruby", "php": "php", "kotlin": "kotlin", "swift": "swift", "scala": "scala",
}

_SHEBANG = re.compile(rb"#![ \t]*(\S+)(?:[ \t]+(?:-\S+[ \t]+)*(\S+))?")
_CPP_MARKERS = re.compile(
    rb"^[ \t]*(?:class[ \t]+\w+[^;\n]*(?:\{|$)|namespace\b|template[ \t]*<|(?:public|private|protected)[ \t]*:)"
    rb"|\bstd::",
    re.MULTILINE,
)
_HEAD_LIMIT = 64 * 1024


def language_for(path: str, head: bytes | None = None) -> str | None:
    """The language of the file at `path` ("text" for text-only files, None if unknown)."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    if name in _FILENAMES:
        return _FILENAMES[name]
    if name in _TEXT_FILENAMES or name.startswith(("Dockerfile.", "Makefile.", "README.", "LICENSE.")):
        return "text"
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        return _by_shebang(head) if head else None
    return _by_extension(ext.lower(), head)


def _by_extension(ext: str, head: bytes | None) -> str | None:
    if ext == "h":
        return "cpp" if head and _CPP_MARKERS.search(head, 0, _HEAD_LIMIT) else "c"
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    if ext in _TEXT_EXTENSIONS:
        return "text"
    return None


def _by_shebang(head: bytes) -> str | None:
    """The language a `#!` line names, "text" for other interpreters, None without one."""
    if not head.startswith(b"#!"):
        return None
    match = _SHEBANG.match(head, 0, 256)
    if not match:
        return None
    program = match.group(1).rsplit(b"/", 1)[-1]
    if program == b"env" and match.group(2):
        program = match.group(2).rsplit(b"/", 1)[-1]
    word = program.decode("ascii", "replace")
    base = re.sub(r"[\d.]+$", "", word)  # python3.11 -> python
    return _INTERPRETERS.get(word) or _INTERPRETERS.get(base) or "text"
