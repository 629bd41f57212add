"""Domains call each other through services: a repository speaks to the database only, so it
imports the models, `skilltree.db`, its own domain and the shared top-level modules (errors,
schemas, ...), never another domain (read from the source, nothing imported)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import skilltree

PACKAGE = Path(skilltree.__file__).parent
REPOSITORIES = sorted(PACKAGE.glob("*/repository.py"))
SHARED = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
"""The top-level modules (`skilltree.errors`, `skilltree.schemas`, ...): no domain's."""


def imported_modules(source: str) -> list[str]:
    """Every `skilltree` module `source` imports, wherever the import stands (relative imports
    as written, with their dots)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if module == "skilltree":  # `from skilltree import errors`: the modules named
                found += [f"skilltree.{alias.name}" for alias in node.names]
            else:
                found.append(module)
    return [m for m in found if m.startswith(("skilltree.", "."))]


def allowed(module: str, domain: str) -> bool:
    """Whether the repository of `domain` may import `module`."""
    if module.startswith("."):
        return not module.startswith("..")  # its own package
    top = module.split(".")[1]
    return top in {"models", "db", domain} or top in SHARED


def test_every_domain_has_its_repository_checked() -> None:
    assert {path.parent.name for path in REPOSITORIES} >= {
        "accounts",
        "analytics",
        "catalog",
        "gamification",
        "graph",
        "progress",
        "search",
        "treefile",
    }


@pytest.mark.parametrize("path", REPOSITORIES, ids=lambda path: path.parent.name)
def test_a_repository_imports_no_other_domain(path: Path) -> None:
    domain = path.parent.name
    others = [m for m in imported_modules(path.read_text()) if not allowed(m, domain)]
    assert others == [], f"{domain}/repository.py reaches into another domain: use its service"


def test_the_rule_sees_every_kind_of_import() -> None:
    source = """
import skilltree.catalog.service
from skilltree import graph
from skilltree.progress.service import learner_tree
from ..catalog import service
from . import queries
from skilltree.models import User
from skilltree import errors
def late() -> None:
    from skilltree.search import repository
"""
    others = [m for m in imported_modules(source) if not allowed(m, "accounts")]
    assert others == [
        "skilltree.catalog.service",
        "skilltree.graph",
        "skilltree.progress.service",
        "..catalog",
        "skilltree.search",
    ]
