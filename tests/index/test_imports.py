"""Import resolution: raw import strings to repository files, one small fake tree per language."""

from __future__ import annotations

import json

import pytest

from freehold.index.imports import Resolver, languages


def resolver(paths: str, manifests: dict[str, str] | None = None) -> Resolver:
    texts = manifests or {}
    files = paths.split() + list(texts)
    return Resolver(files, read=lambda path: texts[path].encode() if path in texts else None)


# ---- Python

PYTHON = """
setup.py conftest.py
src/app/__init__.py src/app/core.py src/app/util/__init__.py src/app/util/text.py src/app/util/text.pyi
src/app/sub/__init__.py src/app/sub/deep.py src/app/fast.pyx src/app/typed.pyi
lib/plot/__init__.py lib/plot/axes.py
scripts/run.py scripts/helper.py
tests/test_core.py tests/fixtures.py
"""


@pytest.mark.parametrize("importer, raw, expected", [
    ("src/app/core.py", "app.util", ("src/app/util/__init__.py",)),
    ("src/app/core.py", "app.util.text", ("src/app/util/text.py",)),  # .py wins over its stub
    ("src/app/core.py", "app.typed", ("src/app/typed.pyi",)),  # a stub alone is found
    ("src/app/core.py", "app.fast", ("src/app/fast.pyx",)),
    ("tests/test_core.py", "app.core", ("src/app/core.py",)),  # src/ is a root
    ("tests/test_core.py", "plot.axes", ("lib/plot/axes.py",)),  # so is lib/, holding a package
    ("src/app/core.py", "app.core.helper", ()),  # a name, not a submodule
    ("src/app/core.py", "os.path", ()),
    ("src/app/core.py", "", ()),
])
def test_python_absolute_imports(importer, raw, expected):
    assert resolver(PYTHON).resolve(importer, "python", raw) == expected


@pytest.mark.parametrize("importer, raw, expected", [
    ("src/app/sub/deep.py", ".", ("src/app/sub/__init__.py",)),
    ("src/app/sub/deep.py", "..", ("src/app/__init__.py",)),
    ("src/app/sub/deep.py", "..core", ("src/app/core.py",)),
    ("src/app/sub/deep.py", "..util.text", ("src/app/util/text.py",)),
    ("src/app/sub/deep.py", "..util.text.wrap", ()),  # `from ..util.text import wrap`: a name
    ("src/app/sub/__init__.py", ".deep", ("src/app/sub/deep.py",)),  # __init__'s package is its directory
    ("src/app/sub/deep.py", "...", ()),  # src/ has no __init__.py
    ("src/app/sub/deep.py", "......x", ()),  # beyond the repository root
    ("setup.py", "..x", ()),
    ("src/app/sub/deep.py", ".missing", ()),
])
def test_python_relative_imports(importer, raw, expected):
    assert resolver(PYTHON).resolve(importer, "python", raw) == expected


def test_python_script_directories_import_their_neighbours():
    r = resolver(PYTHON)
    assert r.resolve("scripts/run.py", "python", "helper") == ("scripts/helper.py",)
    assert r.resolve("tests/test_core.py", "python", "fixtures") == ("tests/fixtures.py",)
    assert r.resolve("src/app/core.py", "python", "helper") == ()  # not beside a package module


def test_python_a_module_does_not_resolve_to_itself():
    assert resolver(PYTHON).resolve("src/app/sub/__init__.py", "python", ".") == ()


def test_python_roots_are_found_where_packages_live():
    r = resolver("pkg/__init__.py pkg/a.py python/mylib/__init__.py python/mylib/b.py python/mylib/sub/__init__.py")
    assert r.resolve("pkg/a.py", "python", "mylib.b") == ("python/mylib/b.py",)
    assert r.resolve("python/mylib/b.py", "python", "pkg.a") == ("pkg/a.py",)
    assert r.resolve("pkg/a.py", "python", "sub") == ()  # mylib/ is a package, not a root


def test_python_the_same_module_under_two_roots_prefers_the_importers_side():
    r = resolver("svc1/src/common/__init__.py svc1/src/common/db.py svc1/src/main.py "
                 "svc2/src/common/__init__.py svc2/src/common/db.py svc2/src/main.py")
    assert r.resolve("svc2/src/main.py", "python", "common.db") == ("svc2/src/common/db.py",)
    assert r.resolve("svc1/src/main.py", "python", "common.db") == ("svc1/src/common/db.py",)
    assert r.resolve("other.py", "python", "common.db") == ("svc1/src/common/db.py", "svc2/src/common/db.py")


# ---- JavaScript and TypeScript

JS = """
web/src/app.ts web/src/util.ts web/src/util.js web/src/components/index.tsx web/src/types.d.ts
web/src/legacy.js web/src/esm.ts web/src/style.css web/src/data.json
packages/ui/package.json packages/ui/src/index.ts packages/ui/src/button.tsx
packages/core/package.json packages/core/lib/main.js
"""
JS_MANIFESTS = {
    "packages/ui/package.json": json.dumps({"name": "@acme/ui", "main": "dist/index.js"}),
    "packages/core/package.json": json.dumps({"name": "core", "main": "lib/main.js"}),
}


@pytest.mark.parametrize("importer, language, raw, expected", [
    ("web/src/app.ts", "typescript", "./util", ("web/src/util.ts",)),  # TypeScript prefers .ts
    ("web/src/legacy.js", "javascript", "./util", ("web/src/util.js",)),  # JavaScript prefers .js
    ("web/src/app.ts", "typescript", "./esm.js", ("web/src/esm.ts",)),  # ES module style
    ("web/src/app.ts", "tsx", "./components", ("web/src/components/index.tsx",)),
    ("web/src/app.ts", "typescript", "./types", ("web/src/types.d.ts",)),
    ("web/src/app.ts", "typescript", "./style.css", ("web/src/style.css",)),
    ("web/src/app.ts", "typescript", "./data.json", ("web/src/data.json",)),
    ("web/src/components/index.tsx", "tsx", "../util", ("web/src/util.ts",)),
    ("web/src/app.ts", "typescript", "../../../../x", ()),
    ("web/src/app.ts", "typescript", "./missing", ()),
    ("web/src/app.ts", "typescript", "lodash", ()),
    ("web/src/app.ts", "typescript", "node:fs", ()),
    ("web/src/app.ts", "typescript", "@acme/ui", ("packages/ui/src/index.ts",)),  # dist/ is not in the repo
    ("web/src/app.ts", "typescript", "@acme/ui/button", ("packages/ui/src/button.tsx",)),
    ("web/src/legacy.js", "javascript", "core", ("packages/core/lib/main.js",)),
])
def test_javascript_and_typescript(importer, language, raw, expected):
    assert resolver(JS, JS_MANIFESTS).resolve(importer, language, raw) == expected


# ---- Go

GO = """
go.mod main.go internal/db/db.go internal/db/conn.go internal/db/db_test.go internal/db/README.md
tools/go.mod tools/gen/gen.go vendor/github.com/dep/x/x.go
"""
GO_MANIFESTS = {"go.mod": "module github.com/acme/svc\n\ngo 1.22\n", "tools/go.mod": "module github.com/acme/svc/tools\n"}


@pytest.mark.parametrize("raw, expected", [
    ("github.com/acme/svc/internal/db", ("internal/db/conn.go", "internal/db/db.go")),  # no _test.go
    ("github.com/acme/svc", ("main.go",)),
    ("github.com/acme/svc/tools/gen", ("tools/gen/gen.go",)),  # the nested module, not tools/ of the outer
    ("github.com/acme/svc/missing", ()),
    ("github.com/dep/x", ("vendor/github.com/dep/x/x.go",)),
    ("fmt", ()),
])
def test_go_import_paths_under_the_module(raw, expected):
    assert resolver(GO, GO_MANIFESTS).resolve("cmd/x.go", "go", raw) == expected


def test_go_without_a_reader_resolves_nothing_but_vendor():
    r = Resolver(GO.split())
    assert r.resolve("main.go", "go", "github.com/acme/svc/internal/db") == ()
    assert r.resolve("main.go", "go", "github.com/dep/x") == ("vendor/github.com/dep/x/x.go",)


# ---- Rust

RUST = """
Cargo.toml src/lib.rs src/net.rs src/net/tcp.rs src/util/mod.rs src/util/fmt.rs
helpers/Cargo.toml helpers/src/lib.rs helpers/src/strings.rs src/bin/tool/main.rs
"""
RUST_MANIFESTS = {"Cargo.toml": '[package]\nname = "app"\n', "helpers/Cargo.toml": '[package]\nname = "acme-helpers"\n'}


@pytest.mark.parametrize("importer, raw, expected", [
    ("src/lib.rs", "mod:net", ("src/net.rs",)),
    ("src/lib.rs", "mod:util", ("src/util/mod.rs",)),
    ("src/net.rs", "mod:tcp", ("src/net/tcp.rs",)),  # a non-mod.rs file's children live in its directory
    ("src/util/mod.rs", "mod:fmt", ("src/util/fmt.rs",)),
    ("src/lib.rs", "mod:missing", ()),
    ("src/net/tcp.rs", "crate::util::fmt::Display", ("src/util/fmt.rs",)),  # longest prefix that is a file
    ("src/net/tcp.rs", "crate::util::Thing", ("src/util/mod.rs",)),
    ("src/net/tcp.rs", "crate::Config", ("src/lib.rs",)),
    ("src/net/tcp.rs", "super::Socket", ("src/net.rs",)),
    ("src/net/tcp.rs", "super::super::util::fmt", ("src/util/fmt.rs",)),
    ("src/net.rs", "self::tcp::Stream", ("src/net/tcp.rs",)),
    ("src/util/fmt.rs", "super::Thing", ("src/util/mod.rs",)),
    ("src/net.rs", "crate::{util::fmt, net::tcp::Stream}", ("src/util/fmt.rs", "src/net/tcp.rs")),
    ("src/net.rs", "crate::util::fmt::Display as D", ("src/util/fmt.rs",)),
    ("src/net.rs", "crate::util::*", ("src/util/mod.rs",)),
    ("src/lib.rs", "acme_helpers::strings::trim", ("helpers/src/strings.rs",)),  # a workspace crate
    ("src/lib.rs", "util::fmt", ("src/util/fmt.rs",)),  # 2018: a child module
    ("src/lib.rs", "std::io::Read", ()),
    ("src/lib.rs", "serde::Deserialize", ()),
    ("src/bin/tool/main.rs", "crate::x", ()),  # its own crate root: main.rs itself
])
def test_rust_use_paths_and_modules(importer, raw, expected):
    assert resolver(RUST, RUST_MANIFESTS).resolve(importer, "rust", raw) == expected


# ---- Java, Kotlin, Scala

JVM = """
core/src/main/java/com/acme/Foo.java core/src/main/java/com/acme/Bar.java core/src/main/java/com/acme/util/Strings.java
app/src/main/kotlin/com/acme/app/Main.kt app/src/main/scala/com/acme/model/User.scala
other/src/main/java/org/x/Foo.java
"""


@pytest.mark.parametrize("language, raw, expected", [
    ("java", "com.acme.Foo", ("core/src/main/java/com/acme/Foo.java",)),
    ("java", "com.acme.Foo.Inner", ("core/src/main/java/com/acme/Foo.java",)),
    ("java", "static com.acme.util.Strings.trim", ("core/src/main/java/com/acme/util/Strings.java",)),
    ("java", "com.acme.*", ("core/src/main/java/com/acme/Bar.java", "core/src/main/java/com/acme/Foo.java")),
    ("java", "com.acme.Foo.*", ("core/src/main/java/com/acme/Foo.java",)),
    ("kotlin", "com.acme.model.User", ("app/src/main/scala/com/acme/model/User.scala",)),
    ("scala", "com.acme.{Foo, Bar => B}", ("core/src/main/java/com/acme/Foo.java", "core/src/main/java/com/acme/Bar.java")),
    ("scala", "com.acme._", ("core/src/main/java/com/acme/Bar.java", "core/src/main/java/com/acme/Foo.java")),
    ("java", "java.util.List", ()),
    ("java", "Foo", ()),  # one part: not a qualified name
])
def test_jvm_qualified_names(language, raw, expected):
    assert resolver(JVM).resolve("app/src/main/kotlin/com/acme/app/Main.kt", language, raw) == expected


# ---- C and C++

C = """
src/main.c src/util.h src/net/socket.c src/net/socket.h include/acme/api.h third/a/config.h third/b/config.h
third/c/config.h third/d/config.h include/vector
"""


@pytest.mark.parametrize("importer, raw, expected", [
    ("src/main.c", "util.h", ("src/util.h",)),  # beside the importer first
    ("src/net/socket.c", "../util.h", ("src/util.h",)),
    ("src/main.c", "net/socket.h", ("src/net/socket.h",)),
    ("src/main.c", "acme/api.h", ("include/acme/api.h",)),  # by path suffix anywhere
    ("src/net/socket.c", "socket.h", ("src/net/socket.h",)),
    ("src/main.c", "config.h", ("third/a/config.h", "third/b/config.h", "third/c/config.h")),  # capped
    ("third/b/x.c", "config.h", ("third/b/config.h",)),  # nearest wins
    ("src/main.c", "<acme/api.h>", ("include/acme/api.h",)),
    ("src/main.c", "<vector>", ("include/vector",)),  # only because the repository has one
    ("src/main.c", "<stdio.h>", ()),
    ("src/main.c", "missing.h", ()),
])
def test_c_includes(importer, raw, expected):
    assert resolver(C).resolve(importer, "c", raw) == expected
    assert resolver(C).resolve(importer, "cpp", raw) == expected


# ---- C#, Ruby, PHP, Swift, shell

CSHARP = """
src/Acme.Core/Models/User.cs src/Acme.Core/Models/Order.cs src/Acme.Core/Services/Mailer.cs
src/Acme.Web/Controllers/Home.cs Acme/Data/Store.cs
"""


@pytest.mark.parametrize("raw, expected", [
    ("Acme.Core.Models", ("src/Acme.Core/Models/Order.cs", "src/Acme.Core/Models/User.cs")),  # project A.B
    ("Acme.Data", ("Acme/Data/Store.cs",)),
    ("static Acme.Core.Services.Mailer", ("src/Acme.Core/Services/Mailer.cs",)),
    ("M = Acme.Data", ("Acme/Data/Store.cs",)),
    ("Company.Acme.Data", ("Acme/Data/Store.cs",)),  # a root namespace with no directory
    ("System.Text", ()),
])
def test_csharp_namespaces(raw, expected):
    assert resolver(CSHARP).resolve("src/Acme.Web/Controllers/Home.cs", "c_sharp", raw) == expected


RUBY = "lib/acme.rb lib/acme/client.rb lib/acme/set.rb app/models/user.rb test/test_helper.rb spec/support/x.rb"


@pytest.mark.parametrize("importer, raw, expected", [
    ("lib/acme.rb", "acme/client", ("lib/acme/client.rb",)),
    ("test/a_test.rb", "test_helper", ("test/test_helper.rb",)),
    ("lib/acme.rb", "set", ()),  # lib/acme/set.rb is not on the load path as "set"
    ("lib/acme.rb", "json", ()),
    ("lib/acme/client.rb", "relative:set", ("lib/acme/set.rb",)),
    ("lib/acme/client.rb", "relative:../acme", ("lib/acme.rb",)),
    ("lib/acme/client.rb", "relative:../../../x", ()),
])
def test_ruby_requires(importer, raw, expected):
    assert resolver(RUBY).resolve(importer, "ruby", raw) == expected


PHP = "composer.json app/Models/User.php app/Http/Kernel.php src/Legacy/Thing.php bootstrap/app.php config/db.php"
PHP_MANIFESTS = {"composer.json": json.dumps({"autoload": {"psr-4": {"App\\": "app/"}}})}


@pytest.mark.parametrize("raw, expected", [
    ("App\\Models\\User", ("app/Models/User.php",)),  # through composer.json's PSR-4 prefix
    ("\\App\\Http\\Kernel", ("app/Http/Kernel.php",)),
    ("Vendor\\Legacy\\Thing", ("src/Legacy/Thing.php",)),  # by path suffix, less the vendor part
    ("App\\{Models\\User, Http\\Kernel}", ("app/Models/User.php", "app/Http/Kernel.php")),
    ("Illuminate\\Support\\Str", ()),
    ("../config/db.php", ("config/db.php",)),
    ("/app.php", ("bootstrap/app.php",)),  # what `__DIR__ . '/app.php'` leaves
])
def test_php_namespaces_and_paths(raw, expected):
    assert resolver(PHP, PHP_MANIFESTS).resolve("bootstrap/index.php", "php", raw) == expected


def test_swift_modules_are_package_directories():
    r = resolver("Package.swift Sources/Net/Client.swift Sources/Net/Impl/Socket.swift Sources/App/main.swift")
    assert r.resolve("Sources/App/main.swift", "swift", "Net") == ("Sources/Net/Client.swift", "Sources/Net/Impl/Socket.swift")
    assert r.resolve("Sources/App/main.swift", "swift", "Foundation") == ()


@pytest.mark.parametrize("importer, raw, expected", [
    ("scripts/build.sh", "./lib.sh", ("scripts/lib.sh",)),
    ("scripts/build.sh", "lib.sh", ("scripts/lib.sh",)),
    ("scripts/build.sh", '"$(dirname "$0")/lib.sh"', ("scripts/lib.sh",)),
    ("scripts/build.sh", "${ROOT}/common/env.sh", ("common/env.sh",)),
    ("scripts/build.sh", "common/env.sh", ("common/env.sh",)),  # from the repository root
    ("scripts/build.sh", "/etc/profile", ()),
    ("scripts/build.sh", "~/.bashrc", ()),
    ("scripts/build.sh", "$HOME", ()),
])
def test_shell_sourced_files(importer, raw, expected):
    assert resolver("scripts/build.sh scripts/lib.sh common/env.sh").resolve(importer, "bash", raw) == expected


# ---- the contract


def test_unknown_languages_and_odd_input_resolve_to_nothing():
    r = resolver(PYTHON)
    assert r.resolve("a.py", "cobol", "X") == ()
    assert r.resolve("a.py", "", "os") == ()
    assert r.resolve("a.py", "python", "   ") == ()
    for language in languages():
        for raw in ("", ".", "..", "/", "\\", "::", "{", "}", "*", "<", "relative:", "mod:", "a" * 500, "\0"):
            assert isinstance(r.resolve("x/y.z", language, raw), tuple)


def test_a_failing_reader_is_a_missing_manifest():
    def read(path):
        raise OSError("gone")

    r = Resolver(GO.split(), read=read)
    assert r.resolve("main.go", "go", "github.com/acme/svc/internal/db") == ()


def test_manifests_are_read_once():
    reads = []

    def read(path):
        reads.append(path)
        return GO_MANIFESTS.get(path, "").encode()

    r = Resolver(GO.split(), read=read)
    for _ in range(3):
        r.resolve("main.go", "go", "github.com/acme/svc/internal/db")
    assert sorted(reads) == ["go.mod", "tools/go.mod"]


def test_duplicate_paths_and_results_are_deterministic():
    files = ["b/x.h", "a/x.h", "a/x.h", "c/x.h"]
    first = Resolver(files).resolve("main.c", "c", "x.h")
    assert first == Resolver(reversed(files)).resolve("main.c", "c", "x.h") == ("a/x.h", "b/x.h", "c/x.h")
