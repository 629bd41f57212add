"""What the browser tests put in the live server's database, and where their output goes."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree, User

ROOT = Path(__file__).resolve().parents[2]
RECORD = os.environ.get("SKILLTREE_RECORD_WEB") == "1"
"""Set to 1 to write the screenshots to benchmarks/screenshots/ and the timings to RESULTS.md."""

_serial = count(1)


def unique(prefix: str) -> str:
    """A name no other test of this session (or an earlier run on a kept database) uses."""
    return f"{prefix}-{os.getpid()}-{next(_serial)}"


@contextmanager
def committed(engine: Engine) -> Iterator[Session]:
    """A session whose work is committed at the end (the live server must see it)."""
    with Session(engine, expire_on_commit=False) as session:
        yield session
        session.commit()


def import_tree(engine: Engine, tree_file: dict[str, Any], author: User) -> dict[str, str]:
    """Import `tree_file` (published) as `author`, committed; answers its skills' ids by key."""
    from skilltree.treefile import service

    with committed(engine) as session:
        summary = service.import_tree(
            session, json.dumps(tree_file), author=session.merge(author), publish=True
        )
        tree = session.scalars(select(SkillTree).where(SkillTree.slug == summary.slug)).one()
        rows = session.execute(select(Skill.key, Skill.id).where(Skill.skill_tree_id == tree.id))
        return {key: id_ for key, id_ in rows}


def tree_file(category: str, slug: str, name: str, skills: list[dict[str, Any]]) -> dict[str, Any]:
    """A tree file (docs/tree-format.md) with `skills` (key, name, dependencies, ...)."""
    return {
        "format": "skilltree.tree",
        "version": 1,
        "tree": {"slug": slug, "name": name, "category": category, "shortDescription": name},
        "skills": skills,
    }


def output_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: benchmarks/screenshots/ when recording, else a temporary folder."""
    if RECORD:
        folder = ROOT / "benchmarks" / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")
