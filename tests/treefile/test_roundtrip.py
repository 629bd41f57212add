"""Export writes a canonical tree file; importing it and exporting again gives the same file."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillCategory, SkillTree
from skilltree.treefile import service
from tests.factories import make_category, make_tree
from tests.treefile.sample import canonical_file, encode, skill, tree_file


def export_text(session: Session, slug: str = "frontend") -> str:
    """The tree `slug` exported as the API sends it."""
    return service.export_tree(session, slug, viewer=None, operator=True).model_dump_json()


def test_importing_a_canonical_file_then_exporting_gives_it_back(
    session: Session, category: SkillCategory
) -> None:
    make_tree(session, category, slug="html-basics")
    document = canonical_file()
    document["tree"]["prerequisites"] = ["html-basics"]
    service.import_tree(session, encode(document), author=None)
    assert json.loads(export_text(session)) == document


def test_export_import_export_is_identical(session: Session, category: SkillCategory) -> None:
    service.import_tree(session, encode(canonical_file()), author=None)
    first = export_text(session)
    session.execute(delete(SkillTree))
    assert session.scalars(select(Skill)).first() is None
    service.import_tree(session, first, author=None)
    assert export_text(session) == first


def test_a_copy_under_another_slug_exports_the_same_but_for_the_slug(
    session: Session, category: SkillCategory
) -> None:
    service.import_tree(session, encode(canonical_file()), author=None)
    original = json.loads(export_text(session))
    copy = json.loads(export_text(session))
    copy["tree"]["slug"] = "frontend-copy"
    service.import_tree(session, encode(copy), author=None)
    assert json.loads(export_text(session, "frontend-copy")) == copy
    assert copy | {"tree": original["tree"]} == original


def test_export_orders_skills_by_learning_order_then_position_then_key(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file(
        [
            skill("z", "b", position={"x": 0, "y": 100}),
            skill("b", position={"x": 5, "y": 0}),
            skill("a", position={"x": 5, "y": 0}),
            skill("c", "b", "a", position={"x": -5, "y": 100}),
            skill("root", position={"x": 0, "y": 0}),
        ]
    )
    service.import_tree(session, encode(document), author=None)
    exported = json.loads(export_text(session))
    assert [s["key"] for s in exported["skills"]] == ["root", "a", "b", "c", "z"]
    assert exported["skills"][3]["dependencies"] == ["a", "b"]


def test_placed_positions_are_exported_and_kept_on_reimport(
    session: Session, category: SkillCategory
) -> None:
    service.import_tree(session, encode(tree_file([skill("a"), skill("b", "a")])), author=None)
    first = export_text(session)
    assert [s["position"] for s in json.loads(first)["skills"]] == [
        {"x": 0, "y": 0},
        {"x": 0, "y": 200},
    ]
    service.import_tree(session, first, author=None)
    assert export_text(session) == first


def test_the_documented_example_is_canonical(session: Session) -> None:
    text = (Path(__file__).parents[2] / "docs" / "tree-format.md").read_text("utf-8")
    example = json.loads(text.split("```json\n", 1)[1].split("```", 1)[0])
    category = make_category(session, slug=example["tree"]["category"])
    make_tree(session, category, slug="computer-basics")
    service.import_tree(session, encode(example), author=None)
    assert json.loads(export_text(session, example["tree"]["slug"])) == example
