"""Migrations are frozen: each carries the whole text of what it installs and restores.

No migration loads, reads or patches another one's text, so editing one migration can never
change what another installs (issue 13). A change to a rule is a new migration with whole copies.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from skilltree.db.migrate import MIGRATIONS_DIR

VERSIONS = sorted((MIGRATIONS_DIR / "versions").glob("*.py"))

# What loading or reading another file takes.
FORBIDDEN = (
    "importlib",
    "import_module",
    "__import__",
    "spec_from_file_location",
    "exec_module",
    "__file__",
    "open(",
    "read_text",
    "read_bytes",
    "runpy",
    "exec(",
)
# Another migration's file or module name ("0014_progress_engine").
MIGRATION_NAME = re.compile(r"\d{4}_[a-z]")


def test_every_migration_is_checked() -> None:
    assert len(VERSIONS) >= 27
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", path.name) for path in VERSIONS)


@pytest.mark.parametrize("path", VERSIONS, ids=lambda path: path.stem)
def test_a_migration_reads_no_file(path: Path) -> None:
    source = path.read_text()
    assert [word for word in FORBIDDEN if word in source] == []


@pytest.mark.parametrize("path", VERSIONS, ids=lambda path: path.stem)
def test_a_migration_names_no_other_migration(path: Path) -> None:
    source = path.read_text()
    assert MIGRATION_NAME.findall(source) == []
    imports = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    modules = [
        module
        for node in imports
        for module in (
            [alias.name for alias in node.names]
            if isinstance(node, ast.Import)
            else [("." * node.level) + (node.module or "")]
        )
    ]
    assert [m for m in modules if m.startswith(".") or "migrations" in m or "versions" in m] == []
