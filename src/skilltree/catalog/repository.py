"""Catalog queries: categories, trees as each viewer may see them, the tree document SQL, and the
reads and edge writes of authoring."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    and_,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.orm import Session

from skilltree.db.rls import fetch_all
from skilltree.models import (
    DifficultyLevel,
    Skill,
    SkillCategory,
    SkillDependency,
    SkillTree,
    SkillTreePrerequisite,
    User,
    UserRole,
)

# Written in psycopg's placeholder style and run as it is (exec_driver_sql), so the benchmark's
# floor executes exactly the same text through plain psycopg.
TREE_DOCUMENT_SQL = files("skilltree.catalog").joinpath("tree_document.sql").read_text("utf-8")

_ACTIVE_SKILL_COUNT = (
    select(func.count())
    .where(Skill.skill_tree_id == SkillTree.id, Skill.is_active)
    .correlate(SkillTree)
    .scalar_subquery()
)

# The skill and every skill above it through parent_skill_id (UNION: stops on a repeat).
_PARENT_CHAIN = text(
    """
    WITH RECURSIVE up(id) AS (
        SELECT CAST(:skill AS text)
        UNION
        SELECT s.parent_skill_id FROM skills s JOIN up ON s.id = up.id
         WHERE s.parent_skill_id IS NOT NULL
    )
    SELECT id FROM up
    """
)


@dataclass(frozen=True)
class TreeFilters:
    """Which trees a list shows. By default published ones only; `mine` keeps the viewer's own
    trees, and with `mine` or `include_unpublished` the drafts the viewer may see come too."""

    category_slug: str | None = None
    difficulty: DifficultyLevel | None = None
    tag: str | None = None
    viewer: User | None = None
    mine: bool = False
    include_unpublished: bool = False


def active_categories(session: Session) -> Sequence[SkillCategory]:
    """Active categories by sort order, then name."""
    query = (
        select(SkillCategory)
        .where(SkillCategory.is_active)
        .order_by(SkillCategory.sort_order, SkillCategory.name)
    )
    return session.scalars(query).all()


def _visible_to(viewer: User | None) -> ColumnElement[bool]:
    # The SQL form of skilltree.catalog.visibility.may_view_tree.
    if viewer is not None and viewer.role is UserRole.ADMIN:
        return true()
    if viewer is not None and viewer.role is UserRole.AUTHOR:
        return or_(SkillTree.is_published, SkillTree.created_by == viewer.id)
    return SkillTree.is_published.expression


def _tree_conditions(filters: TreeFilters) -> ColumnElement[bool]:
    drafts_too = filters.mine or filters.include_unpublished
    conditions = [_visible_to(filters.viewer) if drafts_too else SkillTree.is_published]
    if filters.mine:
        viewer = filters.viewer
        conditions.append(SkillTree.created_by == viewer.id if viewer else false())
    if filters.category_slug is not None:
        conditions.append(SkillCategory.slug == filters.category_slug)
    if filters.difficulty is not None:
        conditions.append(SkillTree.difficulty == filters.difficulty)
    if filters.tag is not None:
        # `tags @> ARRAY[tag]`, which the GIN index idx_tree_tags serves.
        conditions.append(SkillTree.tags.contains([filters.tag]))
    return and_(*conditions)


def count_trees(session: Session, filters: TreeFilters) -> int:
    """How many trees match the filters."""
    query = (
        select(func.count())
        .select_from(SkillTree)
        .join(SkillCategory, SkillCategory.id == SkillTree.category_id)
        .where(_tree_conditions(filters))
    )
    return session.scalar(query) or 0


def list_trees(
    session: Session, filters: TreeFilters, *, offset: int = 0, limit: int = 20
) -> Sequence[Row[tuple[SkillTree, SkillCategory, int]]]:
    """Trees matching the filters, featured first, then by name: (tree, category, active skill
    count) rows."""
    query = (
        select(SkillTree, SkillCategory, _ACTIVE_SKILL_COUNT)
        .join(SkillCategory, SkillCategory.id == SkillTree.category_id)
        .where(_tree_conditions(filters))
        .order_by(SkillTree.is_featured.desc(), SkillTree.name, SkillTree.id)
        .offset(offset)
        .limit(limit)
    )
    return session.execute(query).tuples().all()


@dataclass(frozen=True)
class TreeDocumentRow:
    """A tree's document and graph (None when the caller's copy is current), the facts that say
    who may see it, and the learner's rows and enrolment in it (JSON text; None for nobody)."""

    slug: str
    tree_id: str
    version: int
    document: str | None
    graph: str | None
    """The tree's graph as tree_document.sql gives it (`catalog.service.graph_of`)."""
    is_published: bool
    created_by: str | None
    learner_rows: str | None
    tree_progress: str | None


def tree_document(
    session: Session,
    slug: str,
    learner_id: str | None = None,
    known: tuple[str, int] | None = None,
    *,
    build: bool = True,
) -> TreeDocumentRow | None:
    """Tree `slug` (published or not): its document, built by PostgreSQL unless `known` (tree id,
    version) is still current or `build` is false, and `learner_id`'s rows in it; one
    statement; None: no such tree."""
    known_id, known_version = known or (None, None)
    parameters: dict[str, Any] = {
        "build": build,
        "slug": slug,
        "user_id": learner_id,
        "known_id": known_id,
        "known_version": known_version,
    }
    # Through psycopg itself (db.rls.fetch_all): the statement shares its round trip with its
    # work_mem, and with the learner switch when it is the transaction's first.
    rows = fetch_all(session, TREE_DOCUMENT_SQL, parameters, settings=DOCUMENT_SETTINGS)
    return TreeDocumentRow(slug, *rows[0]) if rows else None


TREE_MAP_SQL = files("skilltree.catalog").joinpath("tree_map.sql").read_text("utf-8")


@dataclass(frozen=True)
class TreeMapRow:
    """A tree's map (None when the caller's copy is current) and the facts that say who may
    see it."""

    slug: str
    tree_id: str
    version: int
    map: str | None
    is_published: bool
    created_by: str | None


def tree_map(
    session: Session, slug: str, known: tuple[str, int] | None = None
) -> TreeMapRow | None:
    """Tree `slug` (published or not): its map, built by PostgreSQL unless `known` (tree id,
    version) is still current; one statement; None: no such tree."""
    known_id, known_version = known or (None, None)
    parameters = {"slug": slug, "known_id": known_id, "known_version": known_version}
    rows = fetch_all(session, TREE_MAP_SQL, parameters, settings=DOCUMENT_SETTINGS)
    return TreeMapRow(slug, *rows[0]) if rows else None


DOCUMENT_SETTINGS = {"work_mem": "64MB"}
"""What the tree document's statement runs with, for the rest of its transaction: sorting a
tree's skills by position for the document takes about 0.8 MB a thousand skills (EXPLAIN ANALYZE:
7.9 MB for the 10,000 of benchmarks/bench_tree_document.py), and the default work_mem (4 MB)
sent trees from about 5,000 skills to temporary files ("external merge"). 64 MB keeps trees of up
to about 80,000 skills in memory; one statement a request, so one such sort at a time, and only
while a document is built; a larger tree still spills, correctly."""


# --- authoring ---


def find_tree(session: Session, slug: str) -> SkillTree | None:
    """The tree with `slug`, published or not, as stored now (its structure_version current)."""
    return session.scalars(
        select(SkillTree).where(SkillTree.slug == slug).execution_options(populate_existing=True)
    ).one_or_none()


def find_skill(session: Session, skill_id: str) -> tuple[Skill, SkillTree] | None:
    """The skill `skill_id` and its tree, as stored now."""
    query = (
        select(Skill, SkillTree)
        .join(SkillTree, SkillTree.id == Skill.skill_tree_id)
        .where(Skill.id == skill_id)
        .execution_options(populate_existing=True)
    )
    return session.execute(query).tuples().one_or_none()


def category_id(session: Session, *, slug: str | None = None, id: str | None = None) -> str | None:
    """The id of the category with this slug or id, if there is one."""
    condition = SkillCategory.slug == slug if slug is not None else SkillCategory.id == id
    return session.scalar(select(SkillCategory.id).where(condition))


def trees_by_slug(session: Session, slugs: Sequence[str]) -> dict[str, SkillTree]:
    """The trees among `slugs`, by slug."""
    found = session.scalars(select(SkillTree).where(SkillTree.slug.in_(slugs)))
    return {tree.slug: tree for tree in found}


def skills_in_tree(session: Session, tree_id: str, ids: Sequence[str]) -> set[str]:
    """Those of `ids` that are skills of tree `tree_id`."""
    query = select(Skill.id).where(Skill.skill_tree_id == tree_id, Skill.id.in_(ids))
    return set(session.scalars(query))


def skill_keys(session: Session, tree_id: str) -> set[str]:
    """The keys the skills of tree `tree_id` have taken."""
    return set(session.scalars(select(Skill.key).where(Skill.skill_tree_id == tree_id)))


def tree_edges(session: Session, tree_id: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Every skill id of tree `tree_id` (active or not), and its (skill, prerequisite) edges."""
    ids = list(session.scalars(select(Skill.id).where(Skill.skill_tree_id == tree_id)))
    pairs = session.execute(
        select(SkillDependency.skill_id, SkillDependency.depends_on_id).where(
            SkillDependency.skill_tree_id == tree_id
        )
    ).tuples()
    return ids, list(pairs)


def parent_chain(session: Session, skill_id: str) -> set[str]:
    """`skill_id` and every skill above it through its parents."""
    return set(session.scalars(_PARENT_CHAIN, {"skill": skill_id}))


def skill_edges(session: Session, skill_id: str) -> tuple[list[str], list[str]]:
    """The ids of the skills `skill_id` needs directly, and of those that need it (sorted)."""
    needs = session.scalars(
        select(SkillDependency.depends_on_id)
        .where(SkillDependency.skill_id == skill_id)
        .order_by(SkillDependency.depends_on_id)
    )
    needed_by = session.scalars(
        select(SkillDependency.skill_id)
        .where(SkillDependency.depends_on_id == skill_id)
        .order_by(SkillDependency.skill_id)
    )
    return list(needs), list(needed_by)


# Edges are inserted one statement each. Migration 0002's cycle report (skill_dependency_chain,
# and its twin for trees) can loop forever when one statement closes two cycles at once; with one
# new edge per statement, every cycle it finds runs through that edge and the report is sound.


def replace_dependencies(
    session: Session, skill_id: str, tree_id: str, depends_on: Sequence[str]
) -> None:
    """Make `depends_on` the whole list of `skill_id`'s prerequisites (delete, then insert)."""
    session.execute(delete(SkillDependency).where(SkillDependency.skill_id == skill_id))
    for prerequisite in depends_on:
        session.execute(
            insert(SkillDependency).values(
                skill_id=skill_id, depends_on_id=prerequisite, skill_tree_id=tree_id
            )
        )


def replace_tree_prerequisites(
    session: Session, tree_id: str, prerequisites: Sequence[str]
) -> None:
    """Make `prerequisites` the whole list of tree `tree_id`'s prerequisite trees."""
    session.execute(
        delete(SkillTreePrerequisite).where(SkillTreePrerequisite.skill_tree_id == tree_id)
    )
    for prerequisite in prerequisites:
        session.execute(
            insert(SkillTreePrerequisite).values(
                skill_tree_id=tree_id, prerequisite_id=prerequisite
            )
        )


def tree_prerequisites(session: Session, tree_id: str) -> Sequence[SkillTree]:
    """The prerequisite trees of tree `tree_id`, by name."""
    query = (
        select(SkillTree)
        .join(SkillTreePrerequisite, SkillTreePrerequisite.prerequisite_id == SkillTree.id)
        .where(SkillTreePrerequisite.skill_tree_id == tree_id)
        .order_by(SkillTree.name, SkillTree.id)
    )
    return session.scalars(query).all()


def skill_names(session: Session, ids: Sequence[str]) -> dict[str, str]:
    """The names of the skills `ids`, by id."""
    rows = session.execute(select(Skill.id, Skill.name).where(Skill.id.in_(ids)))
    return dict(rows.tuples().all())


def tree_names(session: Session, ids: Sequence[str]) -> dict[str, str]:
    """The names of the trees `ids`, by id."""
    rows = session.execute(select(SkillTree.id, SkillTree.name).where(SkillTree.id.in_(ids)))
    return dict(rows.tuples().all())
