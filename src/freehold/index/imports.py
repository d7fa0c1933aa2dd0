"""Import resolution: the raw import strings the extractor finds, turned into repository files.

The extractor gives, per file, its language and what each import statement names ("a.b" for
Python, "./util" for TypeScript, "github.com/org/repo/pkg" for Go, ...). `Resolver` maps each to
the files of the repository it refers to, or to () when it names something outside the repository
(the standard library, a third-party package) or something it cannot find. It works from the list
of paths alone, plus a few manifests read lazily through `read` (go.mod, Cargo.toml, package.json,
composer.json); it never looks at the disk itself.

One small function per language, found through `_RULES`. The rules are heuristics of the kind an
editor's "go to definition" uses without a build: good for ranking related files, not a compiler.
Where a name matches several files equally well, the ones nearest the importer win, at most
`MAX_AMBIGUOUS` of them. Known limits: no tsconfig `paths`/`baseUrl` or package.json `exports`,
no Rust `#[path]`, no Python `sys.path` tricks, C# and Swift map only by directory names, Kotlin
files are found only when their file name is the class name.
"""

from __future__ import annotations

import bisect
import json
import posixpath
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

Reader = Callable[[str], "bytes | None"]
T = TypeVar("T")

# When a name matches several files equally well, how many of them it refers to.
MAX_AMBIGUOUS = 3
# At most this many files for an import that names a whole directory (a Java wildcard, a C#
# namespace, a Swift module).
MAX_FILES = 30
# Workspace manifests read at most (package.json in a big monorepo).
MAX_MANIFESTS = 5000


class Resolver:
    """Resolves imports against one repository's files (repository-relative POSIX paths).

    `read(path)` returns a repository file's bytes, or None; it is called lazily, at most once per
    manifest, and only for manifests in `files`. Without it, Go modules cannot be resolved, and
    Rust workspace crates are known by their directory names only.
    """

    def __init__(self, files: Iterable[str], read: Reader | None = None) -> None:
        self._sorted = tuple(sorted({path for path in files if path}))
        self.files = frozenset(self._sorted)
        self._read = read
        self._by_dir: dict[str, list[str]] = {}
        self._by_name: dict[str, list[str]] = {}
        self._index_paths()
        self._dirs_by_name: dict[str, list[str]] = {}
        for directory in self._by_dir:
            self._dirs_by_name.setdefault(posixpath.basename(directory), []).append(directory)
        self._lazy: dict[str, object] = {}  # manifests' contents, read on first use
        self._python = _PythonModules(self)

    def _index_paths(self) -> None:
        for path in self._sorted:
            directory, _, name = path.rpartition("/")
            self._by_dir.setdefault(directory, []).append(path)
            self._by_name.setdefault(name, []).append(path)
            while directory and _dir(directory) not in self._by_dir:
                directory = _dir(directory)
                self._by_dir[directory] = []

    def resolve(self, importer: str, language: str, raw: str) -> tuple[str, ...]:
        """The repository files `raw` (imported by the file `importer`) refers to; () if none."""
        rule = _RULES.get((language or "").lower())
        raw = (raw or "").strip()
        if rule is None or not raw:
            return ()
        try:
            found = rule(self, importer, raw)
        except Exception:  # noqa: BLE001 - one odd import must not stop the indexing of a repository
            return ()
        return tuple(path for path in dict.fromkeys(found) if path != importer)

    # ---- lookups shared by the rules

    def is_dir(self, path: str | None) -> bool:
        return path is not None and path in self._by_dir

    def first(self, candidates: Iterable[str | None]) -> tuple[str, ...]:
        """The first candidate that is a file, alone; () if none is."""
        for candidate in candidates:
            if candidate is not None and candidate in self.files:
                return (candidate,)
        return ()

    def in_dir(self, directory: str) -> list[str]:
        """Files directly in `directory` ("" is the repository root)."""
        return self._by_dir.get(directory, [])

    def under(self, directory: str) -> list[str]:
        """Files anywhere below `directory`, sorted."""
        prefix = directory + "/" if directory else ""
        start = bisect.bisect_left(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, prefix + "\U0010ffff")
        return list(self._sorted[start:end])

    def with_suffix(self, suffix: str) -> list[str]:
        """Files whose path is `suffix` or ends with "/" + `suffix`."""
        tail = "/" + suffix
        return [p for p in self._by_name.get(posixpath.basename(suffix), ()) if p == suffix or p.endswith(tail)]

    def dirs_with_suffix(self, suffix: str) -> list[str]:
        tail = "/" + suffix
        found = self._dirs_by_name.get(posixpath.basename(suffix), ())
        return [d for d in found if d == suffix or d.endswith(tail)]

    def nearest(self, importer: str, paths: Iterable[str], cap: int = MAX_AMBIGUOUS) -> tuple[str, ...]:
        """Of `paths`, those sharing the longest directory prefix with `importer`, then the shallowest:
        all that tie for best, at most `cap` of them (sorted, so the answer never depends on order)."""
        paths = sorted(set(paths))
        if len(paths) <= 1:
            return tuple(paths)
        here = importer.split("/")[:-1]
        ranked = sorted(paths, key=lambda p: (-_shared(here, p.split("/")[:-1]), p.count("/"), len(p), p))
        best = ranked[0]
        key = (_shared(here, best.split("/")[:-1]), best.count("/"))
        tied = [p for p in ranked if (_shared(here, p.split("/")[:-1]), p.count("/")) == key]
        return tuple(tied[:cap])

    def text(self, path: str) -> str | None:
        """A manifest's text, through `read`; None when there is no reader or it fails."""
        if self._read is None or path not in self.files:
            return None
        try:
            data = self._read(path)
        except Exception:  # noqa: BLE001 - a manifest that cannot be read is a manifest we do without
            return None
        return data.decode("utf-8", "replace") if data is not None else None

    def named(self, name: str) -> list[str]:
        """Files with this basename outside node_modules (the manifests), at most MAX_MANIFESTS."""
        found = [p for p in self._by_name.get(name, ()) if not p.startswith("node_modules/") and "/node_modules/" not in p]
        return found[:MAX_MANIFESTS]

    def cached(self, key: str, build: Callable[[Resolver], T]) -> T:
        """What `build` makes of this repository, made once (the manifests are read then)."""
        if key not in self._lazy:
            self._lazy[key] = build(self)
        return self._lazy[key]  # type: ignore[return-value]


def _shared(a: list[str], b: list[str]) -> int:
    count = 0
    for x, y in zip(a, b):
        if x != y:
            break
        count += 1
    return count


def join(directory: str, relative: str) -> str | None:
    """`relative` from `directory`, normalized; None when it climbs out of the repository."""
    joined = posixpath.normpath(posixpath.join(directory, relative))
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith(("../", "/")):
        return None
    return joined


def _dir(path: str) -> str:
    """The directory of a repository path ("" for the root); posixpath.dirname, faster."""
    return path.rpartition("/")[0]


def _expand_group(raw: str, separator: str) -> list[str]:
    """ "a::{b, c::d}" -> ["a::b", "a::c::d"] (Rust use trees, Scala and PHP group imports), one level."""
    if "{" not in raw:
        return [raw]
    head, _, rest = raw.partition("{")
    inner = rest.rsplit("}", 1)[0]
    parts = [part.strip() for part in inner.split(",") if part.strip()]
    return [head + part if head.endswith(separator) or not head else head + separator + part for part in parts]


# ---- Python

# Modules, stubs, and Cython extension sources (which Python imports once built).
_PYTHON_SUFFIXES = (".py", ".pyi", ".pyx")


class _PythonModules:
    """Dotted module names under the source roots, computed once.

    A directory is a source root when it holds a package (D/pkg/__init__.py) without being one
    itself; the repository root, src/ and lib/ always are. Intermediate directories need no
    __init__.py (namespace packages).
    """

    def __init__(self, resolver: Resolver) -> None:
        self._resolver = resolver
        self.roots = _python_roots(resolver)
        self.modules: dict[str, list[str]] = {}
        self._roots_above: dict[str, list[str]] = {}
        for path in resolver._sorted:
            if path.endswith(_PYTHON_SUFFIXES):
                self._add(path)
        self._basedirs: dict[str, str] = {}

    def _add(self, path: str) -> None:
        stem = path.rsplit(".", 1)[0]
        module = stem[: -len("/__init__")] if stem.endswith("/__init__") or stem == "__init__" else stem
        if module == "__init__":
            return
        for root in self._roots_of(_dir(path)):
            name = (module[len(root) + 1 :] if root else module).replace("/", ".")
            if name:
                self.modules.setdefault(name, []).append(path)

    def _roots_of(self, directory: str) -> list[str]:
        """The source roots at or above `directory`."""
        found = self._roots_above.get(directory)
        if found is None:
            found = self._roots_of(_dir(directory)) if directory else []
            found = [directory, *found] if directory in self.roots else found
            self._roots_above[directory] = found
        return found

    def find(self, importer: str, name: str) -> tuple[str, ...]:
        """The file of absolute module `name`: beside a script first, then under the source roots."""
        base = self.basedir(_dir(importer))
        if base not in self.roots:
            local = _python_module_file(self._resolver, join(base, name.replace(".", "/")))
            if local:
                return local
        found = self.modules.get(name)
        if not found:
            return ()
        plain = [p for p in found if p.endswith(".py")] or found
        return tuple(plain) if len(plain) == 1 else self._resolver.nearest(importer, plain)

    def basedir(self, directory: str) -> str:
        """The first directory up from `directory` that is not a package: what running a script
        there, or pytest's rootdir-less import mode, puts on sys.path."""
        if directory not in self._basedirs:
            up = directory
            while up and f"{up}/__init__.py" in self._resolver.files:
                up = _dir(up)
            self._basedirs[directory] = up
        return self._basedirs[directory]


def _python_roots(resolver: Resolver) -> frozenset[str]:
    roots = {""} | {common for common in ("src", "lib") if f"{common}/__init__.py" not in resolver.files}
    for path in resolver._by_name.get("__init__.py", ()):
        parent = _dir(_dir(path))
        if not parent or f"{parent}/__init__.py" not in resolver.files:
            roots.add(parent)
    return frozenset(root for root in roots if resolver.is_dir(root))


def _python_module_file(resolver: Resolver, base: str | None) -> tuple[str, ...]:
    if base is None:
        return ()
    if not base:
        return resolver.first(["__init__.py", "__init__.pyi"])
    return resolver.first([base + ".py", base + "/__init__.py", base + ".pyi", base + "/__init__.pyi", base + ".pyx"])


def _python(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    if not raw.startswith("."):
        return resolver._python.find(importer, raw)
    rest = raw.lstrip(".")
    package = _dir(importer)
    for _ in range(len(raw) - len(rest) - 1):
        if not package:
            return ()  # climbs above the repository
        package = _dir(package)
    return _python_module_file(resolver, join(package, rest.replace(".", "/")) if rest else package)


# ---- JavaScript and TypeScript

_TS_ORDER = (".ts", ".tsx", ".d.ts", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json")
_JS_ORDER = (".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".d.ts", ".mts", ".cts", ".json")
# TypeScript written for ES modules imports "./x.js" and means x.ts.
_JS_TO_TS = {".js": (".ts", ".tsx", ".d.ts"), ".jsx": (".tsx",), ".mjs": (".mts", ".d.mts"), ".cjs": (".cts", ".d.cts")}


def _javascript(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    spec = raw.split("?", 1)[0]
    order = _JS_ORDER if importer.endswith((".js", ".jsx", ".mjs", ".cjs")) else _TS_ORDER
    if spec.startswith("."):
        return _probe_js(resolver, join(_dir(importer), spec), order)
    if spec.startswith(("#", "/")) or ":" in spec:
        return ()  # package.json "imports", absolute paths, node:fs and URLs
    return _workspace_package(resolver, spec, order)


def _probe_js(resolver: Resolver, base: str | None, order: tuple[str, ...]) -> tuple[str, ...]:
    if base is None:
        return ()
    stem, extension = posixpath.splitext(base)
    candidates = [base, *(base + ext for ext in order)]
    candidates += [stem + ext for ext in _JS_TO_TS.get(extension, ())]
    candidates += [f"{base}/index{ext}" for ext in order]
    return resolver.first(candidates)


def _workspace_package(resolver: Resolver, spec: str, order: tuple[str, ...]) -> tuple[str, ...]:
    """A bare specifier naming a package of this repository's own workspace (a monorepo)."""
    parts = spec.split("/")
    size = 2 if spec.startswith("@") else 1
    packages = resolver.cached("package.json", _js_packages)
    found = packages.get("/".join(parts[:size]))
    if found is None:
        return ()
    directory, entries = found
    sub = "/".join(parts[size:])
    if sub:
        direct = _probe_js(resolver, join(directory, sub), order)
        return direct or _probe_js(resolver, join(directory, "src/" + sub), order)
    for entry in [*entries, "src/index", "index"]:
        hit = _probe_js(resolver, join(directory, entry), order)
        if hit:
            return hit
    return ()


def _js_packages(resolver: Resolver) -> dict[str, tuple[str, list[str]]]:
    packages: dict[str, tuple[str, list[str]]] = {}
    for path in resolver.named("package.json"):
        try:
            data = json.loads(resolver.text(path) or "null")
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            fields = ("source", "types", "typings", "module", "main")
            entries = [data[f] for f in fields if isinstance(data.get(f), str)]
            packages.setdefault(data["name"], (_dir(path), entries))
    return packages


# ---- Go

_GO_MODULE = re.compile(r'^\s*module\s+"?([^\s"/][^\s"]*)"?', re.MULTILINE)


def _go(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    for module, directory in resolver.cached("go.mod", _go_modules):
        if raw == module or raw.startswith(module + "/"):
            return _go_package(resolver, join(directory, raw[len(module) + 1 :]) or "")
    return _go_package(resolver, "vendor/" + raw)


def _go_modules(resolver: Resolver) -> list[tuple[str, str]]:
    """(module path, directory) of every go.mod, longest module path first."""
    modules = []
    for path in resolver.named("go.mod"):
        found = _GO_MODULE.search(resolver.text(path) or "")
        if found:
            modules.append((found.group(1), _dir(path)))
    return sorted(modules, key=lambda item: (-len(item[0]), item))


def _go_package(resolver: Resolver, directory: str) -> tuple[str, ...]:
    return tuple(p for p in resolver.in_dir(directory) if p.endswith(".go") and not p.endswith("_test.go"))


# ---- Rust

_RUST_EXTERNAL = frozenset({"std", "core", "alloc", "proc_macro", "test"})
_CARGO_NAME = re.compile(r'^\s*\[package\][^\[]*?^\s*name\s*=\s*"([^"]+)"', re.MULTILINE | re.DOTALL)


def _rust(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    if raw.startswith("mod:"):
        return _rust_child_module(resolver, importer, raw[4:].strip())
    found: list[str] = []
    for path in _expand_group(raw, "::"):
        path = path.split(" as ")[0].strip().removeprefix("::")
        segments = [s for s in path.split("::") if s and s != "*"]
        found += _rust_path(resolver, importer, segments)
    return tuple(found)


def _rust_path(resolver: Resolver, importer: str, segments: list[str]) -> tuple[str, ...]:
    if not segments or segments[0] in _RUST_EXTERNAL:
        return ()
    root = _rust_crate_root(resolver, _dir(importer))
    here = _rust_module_of(importer, root) if root is not None else []
    head = segments[0]
    if head in ("crate", "self", "super"):
        if root is None:
            return ()
        base = [] if head == "crate" else here
        while segments and segments[0] in ("self", "super"):
            base = base[:-1] if segments.pop(0) == "super" else base
        return _rust_longest(resolver, root, base, segments[1:] if head == "crate" else segments, 0)
    crate = resolver.cached("Cargo.toml", _rust_crates).get(head)
    if crate is not None:
        return _rust_longest(resolver, crate, [], segments[1:], 0)
    if root is None:
        return ()
    # 2018 paths name a child module first; 2015 paths are relative to the crate root.
    return _rust_longest(resolver, root, here, segments, 1) or _rust_longest(resolver, root, [], segments, 1)


def _rust_longest(resolver: Resolver, root: str, base: list[str], rest: list[str], least: int) -> tuple[str, ...]:
    """The file of the longest prefix of base + rest that is a module, using at least `least` of rest."""
    for size in range(len(rest), least - 1, -1):
        module = base + rest[:size]
        if not module:
            hit = resolver.first([f"{root}/lib.rs" if root else "lib.rs", f"{root}/main.rs" if root else "main.rs"])
        else:
            stem = "/".join(module) if not root else f"{root}/{'/'.join(module)}"
            hit = resolver.first([stem + ".rs", stem + "/mod.rs"])
        if hit:
            return hit
    return ()


def _rust_crate_root(resolver: Resolver, directory: str) -> str | None:
    """The nearest directory up from `directory` holding lib.rs or main.rs."""
    while True:
        prefix = directory + "/" if directory else ""
        if prefix + "lib.rs" in resolver.files or prefix + "main.rs" in resolver.files:
            return directory
        if not directory:
            return None
        directory = _dir(directory)


def _rust_module_of(importer: str, root: str) -> list[str]:
    relative = importer[len(root) + 1 :] if root else importer
    parts = relative.removesuffix(".rs").split("/")
    if parts[-1] == "mod" or (len(parts) == 1 and parts[0] in ("lib", "main")):
        parts = parts[:-1]
    return parts


def _rust_child_module(resolver: Resolver, importer: str, name: str) -> tuple[str, ...]:
    directory, file = posixpath.split(importer)
    if file not in ("lib.rs", "main.rs", "mod.rs"):
        directory = join(directory, file.removesuffix(".rs")) or ""
    stem = f"{directory}/{name}" if directory else name
    return resolver.first([stem + ".rs", stem + "/mod.rs"])


def _rust_crates(resolver: Resolver) -> dict[str, str]:
    """Workspace crate name (as `use` spells it) -> its source directory."""
    crates: dict[str, str] = {}
    for path in resolver.named("Cargo.toml"):
        directory = _dir(path)
        found = _CARGO_NAME.search(resolver.text(path) or "")
        name = found.group(1) if found else posixpath.basename(directory)
        source = f"{directory}/src" if directory else "src"
        if name and resolver.is_dir(source):
            crates.setdefault(name.replace("-", "_"), source)
    return crates


# ---- Java, Kotlin, Scala

_JVM_EXTENSIONS = {"java": (".java", ".kt", ".scala"), "kotlin": (".kt", ".java", ".scala"),
                   "scala": (".scala", ".java", ".kt")}


def _jvm(language: str) -> Callable[[Resolver, str, str], tuple[str, ...]]:
    extensions = _JVM_EXTENSIONS[language]

    def rule(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
        found: list[str] = []
        for name in _expand_group(raw.removeprefix("static ").strip(), "."):
            found += _jvm_name(resolver, importer, name.split("=>")[0].strip(), extensions)
        return tuple(found)

    return rule


def _jvm_name(resolver: Resolver, importer: str, name: str, extensions: tuple[str, ...]) -> tuple[str, ...]:
    parts = [p.strip() for p in name.split(".") if p.strip()]
    if len(parts) > 1 and parts[-1] in ("*", "_"):
        parts.pop()
        package = "/".join(parts)
        files = [p for d in resolver.dirs_with_suffix(package) for p in resolver.in_dir(d) if p.endswith(extensions)]
        if files:
            return tuple(sorted(files)[:MAX_FILES])
    # The longest prefix that names a class: a.b.Outer.Inner and static members live in a/b/Outer.
    for size in range(len(parts), 1, -1):
        stem = "/".join(parts[:size])
        for extension in extensions:
            matches = resolver.with_suffix(stem + extension)
            if matches:
                return resolver.nearest(importer, matches)
    return ()


# ---- C and C++

def _c(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    if raw.startswith("<"):
        header = raw.strip("<>").strip()
    else:
        header = raw.strip('"').strip()
        local = resolver.first([join(_dir(importer), header)])
        if local:
            return local
    suffix = posixpath.normpath(header)
    while suffix.startswith("../"):
        suffix = suffix[3:]
    if not suffix or suffix.startswith(("/", ".")):
        return ()
    return resolver.nearest(importer, resolver.with_suffix(suffix))


# ---- C#

def _csharp(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    name = raw.split("=")[-1].removeprefix("static ").removeprefix("global::").strip().rstrip(";")
    parts = [p for p in name.split(".") if p]
    while parts:
        found = _csharp_namespace(resolver, parts) or _csharp_class(resolver, importer, parts)
        if found or len(parts) <= 2:
            return found  # one part alone ("Models") would match any directory of that name
        parts = parts[1:]  # the root namespace is often the project, not a directory
    return ()


def _csharp_namespace(resolver: Resolver, parts: list[str]) -> tuple[str, ...]:
    """Files of the directories spelling the namespace: A/B/C, or A.B/C (a project named A.B)."""
    files: list[str] = []
    for split in range(1, len(parts) + 1):
        suffix = "/".join([".".join(parts[:split]), *parts[split:]])
        for directory in resolver.dirs_with_suffix(suffix):
            files += [p for p in resolver.in_dir(directory) if p.endswith(".cs")]
    return tuple(sorted(set(files))[:MAX_FILES])


def _csharp_class(resolver: Resolver, importer: str, parts: list[str]) -> tuple[str, ...]:
    """`using static A.B.Type` and aliases name a type, kept in A/B/Type.cs."""
    if len(parts) < 2:
        return ()
    return resolver.nearest(importer, resolver.with_suffix("/".join(parts) + ".cs"))


# ---- Ruby

# The directories a Ruby load path usually holds: `require "a/b"` means <one of them>/a/b.rb.
_RUBY_LOAD_DIRS = frozenset({"lib", "test", "spec", "app", ""})


def _ruby(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    name = raw.strip("'\"")
    if name.startswith("relative:"):
        base = join(_dir(importer), name[len("relative:") :].strip("'\""))
        return resolver.first([base, base + ".rb"]) if base is not None else ()
    name = name.removesuffix(".rb")
    if not name or name.startswith(("/", ".")):
        return ()
    matches = [p for p in resolver.with_suffix(name + ".rb")
               if posixpath.basename(p[: -len(name) - 4]) in _RUBY_LOAD_DIRS]
    return resolver.nearest(importer, matches)


# ---- PHP

def _php(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    raw = raw.strip("'\"")
    if "/" in raw or raw.endswith((".php", ".inc")):
        relative = raw.lstrip("/")  # `__DIR__ . '/x.php'` leaves "/x.php"
        return resolver.first([join(_dir(importer), relative), join("", relative)])
    found: list[str] = []
    for name in _expand_group(raw.removeprefix("function ").removeprefix("const ").strip(), "\\"):
        found += _php_class(resolver, importer, name.split(" as ")[0].strip().strip("\\"))
    return tuple(found)


def _php_class(resolver: Resolver, importer: str, name: str) -> tuple[str, ...]:
    """PSR-4: composer.json's prefixes first, then the path spelled by the name, less leading parts."""
    for prefix, directory in resolver.cached("composer.json", _composer_prefixes):
        if name.startswith(prefix):
            hit = resolver.first([join(directory, name[len(prefix) :].replace("\\", "/") + ".php")])
            if hit:
                return hit
    parts = [p for p in name.split("\\") if p]
    while len(parts) >= 2:
        matches = resolver.with_suffix("/".join(parts) + ".php")
        if matches:
            return resolver.nearest(importer, matches)
        parts = parts[1:]
    return ()


def _composer_prefixes(resolver: Resolver) -> list[tuple[str, str]]:
    """(namespace prefix, directory) from every composer.json's PSR-4 autoload, longest first."""
    prefixes = []
    for path in resolver.named("composer.json"):
        try:
            data = json.loads(resolver.text(path) or "null")
        except ValueError:
            continue
        for section in ("autoload", "autoload-dev"):
            for prefix, directory in _psr4(data, section):
                target = join(_dir(path), directory)
                if target is not None:
                    prefixes.append((prefix, target))
    return sorted(prefixes, key=lambda item: (-len(item[0]), item))


def _psr4(data: object, section: str) -> Iterator[tuple[str, str]]:
    autoload = data.get(section) if isinstance(data, dict) else None
    mapping = autoload.get("psr-4") if isinstance(autoload, dict) else None
    for prefix, dirs in mapping.items() if isinstance(mapping, dict) else ():
        for directory in [dirs] if isinstance(dirs, str) else dirs if isinstance(dirs, list) else ():
            if isinstance(directory, str):
                yield prefix, directory


# ---- Swift and shell

def _swift(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    """A module of this package: Sources/<Module>/ (SwiftPM) or a top-level <Module>/ (Xcode)."""
    name = raw.split()[-1].split(".")[0]
    dirs = [d for d in resolver.dirs_with_suffix(name) if d == name or _dir(d).rpartition("/")[2] == "Sources"]
    files = [p for d in sorted(dirs) for p in resolver.under(d) if p.endswith(".swift")]
    return tuple(files[:MAX_FILES])


_SHELL_VARIABLE = re.compile(r"\$|`")


def _shell(resolver: Resolver, importer: str, raw: str) -> tuple[str, ...]:
    path = raw.strip("'\"")
    if path.startswith(("~", "/")) and not _SHELL_VARIABLE.search(path):
        return ()
    if _SHELL_VARIABLE.search(path):
        # "$DIR/lib/x.sh", "$(dirname "$0")/x.sh": what follows the last expansion, beside the script.
        parts = path.split("/")
        last = max(i for i, part in enumerate(parts) if _SHELL_VARIABLE.search(part) or ")" in part or "}" in part)
        path = "/".join(parts[last + 1 :])
        if not path:
            return ()
    hit = resolver.first([join(_dir(importer), path), join("", path)])
    suffix = posixpath.normpath(path)
    if suffix.startswith(("../", "/")) or suffix in (".", ".."):
        return hit
    return hit or resolver.nearest(importer, resolver.with_suffix(suffix), 1)


_RULES: dict[str, Callable[[Resolver, str, str], tuple[str, ...]]] = {
    "python": _python,
    "javascript": _javascript, "typescript": _javascript, "tsx": _javascript, "jsx": _javascript,
    "go": _go,
    "rust": _rust,
    "java": _jvm("java"), "kotlin": _jvm("kotlin"), "scala": _jvm("scala"),
    "c": _c, "cpp": _c, "c++": _c, "objc": _c, "objective-c": _c,
    "c_sharp": _csharp, "csharp": _csharp, "c#": _csharp,
    "ruby": _ruby,
    "php": _php,
    "swift": _swift,
    "bash": _shell, "sh": _shell, "shell": _shell, "zsh": _shell,
}


def languages() -> tuple[str, ...]:
    """The language names `Resolver.resolve` knows."""
    return tuple(sorted(_RULES))
