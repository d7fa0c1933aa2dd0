"""The shape of the package: imports point inward, and start-up imports stay light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import freehold

PACKAGE = Path(freehold.__file__).parent


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n.startswith("freehold")}


def modules_under(part: str) -> list[Path]:
    target = PACKAGE / part
    return sorted(target.rglob("*.py")) if target.is_dir() else [target.with_suffix(".py")]


@pytest.mark.parametrize("leaf", ["errors", "messages"])
def test_leaf_modules_import_nothing_of_ours(leaf):
    assert imports_of(PACKAGE / f"{leaf}.py") == set()


@pytest.mark.parametrize(
    "part, forbidden",
    [
        ("agent", ("freehold.ui", "freehold.cli", "freehold.app")),
        ("tools", ("freehold.ui", "freehold.cli", "freehold.app", "freehold.agent")),
        ("models", ("freehold.ui", "freehold.cli", "freehold.app", "freehold.agent")),
        ("policy", ("freehold.ui", "freehold.cli", "freehold.app", "freehold.agent")),
        ("protocol", ("freehold.ui", "freehold.cli", "freehold.agent", "freehold.tools")),
    ],
)
def test_imports_point_inward(part, forbidden):
    for path in modules_under(part):
        bad = {name for name in imports_of(path) if name.startswith(forbidden)}
        assert not bad, f"{path.relative_to(PACKAGE)} imports {bad}"


def test_only_the_sandbox_starts_processes():
    for path in PACKAGE.rglob("*.py"):
        if "sandbox" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert "subprocess" not in imported, f"{path.relative_to(PACKAGE)} starts processes itself"


def test_version_imports_nothing_heavy():
    code = "import sys; from freehold.cli import main; main(['--version']); print(sorted(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = out.splitlines()[-1]
    for heavy in ("httpx", "sqlite3", "freehold.tools", "freehold.agent", "argparse"):
        assert f"'{heavy}'" not in loaded


def test_the_edit_rules_in_the_docs_are_the_ones_in_the_code():
    from freehold.tools import edit_match

    rules = edit_match.__doc__.split("The line format Read uses")[0].strip()
    docs = (PACKAGE.parent.parent / "docs" / "tools.md").read_text()
    assert rules in docs


def test_every_test_named_in_the_security_doc_exists():
    """docs/security.md may only claim what a test proves: each `tests/...::name` must exist."""
    import re

    root = PACKAGE.parent.parent
    text = (root / "docs" / "security.md").read_text()
    current = None
    named = 0
    for path, name in re.findall(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`", text):
        if path:
            current = path
            assert (root / path).is_file(), path
        if name:
            assert current is not None
            assert re.search(rf"^def {name}\(", (root / current).read_text(), re.MULTILINE), f"{current}::{name}"
            named += 1
    assert named >= 25


def test_every_attack_case_is_documented_and_there_are_at_least_25():
    import re

    root = PACKAGE.parent.parent
    cases = re.findall(r"^def (test_\w+)\(", (root / "tests" / "sandbox" / "test_attacks.py").read_text(), re.MULTILINE)
    text = (root / "docs" / "security.md").read_text()
    assert len(cases) >= 25
    assert [c for c in cases if f"`::{c}`" not in text and f"test_attacks.py::{c}`" not in text] == []


def test_tools_do_not_depend_on_the_model_client():
    for path in modules_under("tools"):
        assert not {n for n in imports_of(path) if n.startswith("freehold.models")}, path
