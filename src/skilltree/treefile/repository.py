"""Tree-file queries: the references a file names, bulk writes through COPY, and the export reads.

Skills go through a temporary table filled by COPY, then one statement each deletes, inserts and
updates what differs; new edges are one COPY, so a 100,000-skill import is a handful of statements
and the acyclic-prerequisites trigger checks the tree once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any, cast

import psycopg
from sqlalchemy import Engine, RowMapping, Table, select, text
from sqlalchemy.orm import Session, aliased

from skilltree.db.session import require_listener
from skilltree.models import Skill, SkillCategory, SkillDependency, SkillTree, SkillTreePrerequisite

logger = logging.getLogger("skilltree.treefile")

SKILL_COLUMNS = (
    "key",
    "parent_skill_id",
    "name",
    "short_name",
    "description",
    "learning_objectives",
    "skill_type",
    "difficulty",
    "estimated_minutes",
    "xp_value",
    "position_x",
    "position_y",
    "node_size",
    "content",
    "resources",
    "assessments",
    "completion_policy",
    "is_active",
    "is_optional",
    "is_milestone",
)
"""The columns of `skills` a tree file sets, in the order of `SkillRow` after `id`."""
JSON_COLUMNS = frozenset({"content", "resources", "assessments", "completion_policy"})

SkillRow = tuple[Any, ...]
"""`id`, then the values of SKILL_COLUMNS (JSON columns as Python values), then `is_new`."""

_columns = ", ".join(SKILL_COLUMNS)
_staged = ", ".join(f"i.{c}" for c in SKILL_COLUMNS)
_STAGE_SKILLS = f"""
CREATE TEMP TABLE import_skills ON COMMIT DROP AS
SELECT id, {_columns}, true AS is_new FROM skills WITH NO DATA
"""
# Delete first (their keys may come back as new skills), insert next (an updated skill's parent
# may be new), update last, and only the rows that differ, so unchanged skills keep updated_at.
_DELETE_SKILLS = """
DELETE FROM skills s
 WHERE s.skill_tree_id = :tree
   AND NOT EXISTS (SELECT FROM import_skills i WHERE i.id = s.id)
"""
_INSERT_SKILLS = f"""
INSERT INTO skills (id, skill_tree_id, {_columns}, created_by, updated_by)
SELECT i.id, :tree, {_staged}, :actor, :actor FROM import_skills i WHERE i.is_new
"""
_UPDATE_SKILLS = f"""
UPDATE skills s
   SET {", ".join(f"{c} = i.{c}" for c in SKILL_COLUMNS)}, updated_by = :actor
  FROM import_skills i
 WHERE s.id = i.id AND NOT i.is_new
   AND ({", ".join(f"s.{c}" for c in SKILL_COLUMNS)}) IS DISTINCT FROM ({_staged})
RETURNING s.id
"""
_DELETE_EDGES = """
DELETE FROM skill_dependencies d
 USING unnest(CAST(:skills AS text[]), CAST(:prerequisites AS text[])) AS gone(skill, prerequisite)
 WHERE d.skill_id = gone.skill AND d.depends_on_id = gone.prerequisite
"""
# Tree prerequisite edges reachable from `start`: the part of the graph a new edge could close.
_REACHABLE_TREE_PREREQUISITES = """
WITH RECURSIVE reach(id) AS (
    SELECT unnest(CAST(:start AS text[]))
    UNION
    SELECT p.prerequisite_id FROM skill_tree_prerequisites p JOIN reach r ON p.skill_tree_id = r.id
)
SELECT t.slug, pt.slug
  FROM reach r
  JOIN skill_tree_prerequisites p ON p.skill_tree_id = r.id
  JOIN skill_trees t ON t.id = p.skill_tree_id
  JOIN skill_trees pt ON pt.id = p.prerequisite_id
"""


def lock_slug(session: Session, slug: str) -> None:
    """Serialise imports of one slug until the transaction ends (two first imports would race)."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('skilltree.treefile'), hashtext(:slug))"),
        {"slug": slug},
    )


def find_tree(session: Session, slug: str) -> SkillTree | None:
    """The tree `slug`, locked for this transaction, or None."""
    return session.scalars(
        select(SkillTree).where(SkillTree.slug == slug).with_for_update()
    ).first()


def category_id(session: Session, slug: str) -> str | None:
    """The id of the category `slug`, or None."""
    return session.scalar(select(SkillCategory.id).where(SkillCategory.slug == slug))


def tree_ids(session: Session, slugs: Iterable[str]) -> dict[str, str]:
    """The ids of the trees among `slugs` that exist, by slug."""
    query = select(SkillTree.slug, SkillTree.id).where(SkillTree.slug.in_(set(slugs)))
    return dict(session.execute(query).tuples().all())


def reachable_tree_prerequisites(session: Session, start: Sequence[str]) -> list[tuple[str, str]]:
    """(tree slug, prerequisite slug) of every edge reachable from the trees with ids `start`."""
    rows = session.execute(text(_REACHABLE_TREE_PREREQUISITES), {"start": list(start)})
    return [(tree, prerequisite) for tree, prerequisite in rows.tuples()]


def skill_ids_by_key(session: Session, tree_id: str) -> dict[str, str]:
    """The ids of the tree's skills, by key."""
    query = select(Skill.key, Skill.id).where(Skill.skill_tree_id == tree_id)
    return dict(session.execute(query).tuples().all())


def edges_of(session: Session, tree_id: str) -> set[tuple[str, str]]:
    """The tree's dependency edges as (skill id, prerequisite id)."""
    query = select(SkillDependency.skill_id, SkillDependency.depends_on_id).where(
        SkillDependency.skill_tree_id == tree_id
    )
    return {(skill, prerequisite) for skill, prerequisite in session.execute(query).tuples()}


def write_skills(
    session: Session, tree_id: str, rows: Sequence[SkillRow], actor_id: str | None, *, fresh: bool
) -> tuple[int, set[str], int]:
    """Make the tree's skills exactly `rows` (matched by id); `fresh`: the tree has none yet.

    Returns how many were created, the ids of those whose fields changed, and how many were
    removed (with their edges and learners' progress, by cascade).
    """
    json_at = [1 + SKILL_COLUMNS.index(c) for c in sorted(JSON_COLUMNS)]
    encoded = (_with_json(row, json_at) for row in rows)
    if fresh:  # nothing to match: straight into the table
        _copy(
            session,
            f"COPY skills (id, skill_tree_id, {_columns}, created_by, updated_by) FROM STDIN",
            ((row[0], tree_id, *row[1:-1], actor_id, actor_id) for row in encoded),
        )
        return len(rows), set(), 0
    session.execute(text(_STAGE_SKILLS))
    _copy(session, f"COPY import_skills (id, {_columns}, is_new) FROM STDIN", encoded)
    parameters = {"tree": tree_id, "actor": actor_id}
    removed = _rowcount(session, _DELETE_SKILLS, parameters)
    created = _rowcount(session, _INSERT_SKILLS, parameters)
    changed = set(session.scalars(text(_UPDATE_SKILLS), parameters))
    session.execute(text("DROP TABLE import_skills"))
    return created, changed, removed


def delete_edges(session: Session, edges: Iterable[tuple[str, str]]) -> None:
    """Delete these (skill id, prerequisite id) edges, where they still exist."""
    pairs = list(edges)
    if pairs:
        skills, prerequisites = zip(*pairs, strict=True)
        session.execute(
            text(_DELETE_EDGES), {"skills": list(skills), "prerequisites": list(prerequisites)}
        )


def insert_edges(session: Session, tree_id: str, edges: Iterable[tuple[str, str]]) -> None:
    """Insert these (skill id, prerequisite id) edges in one COPY: the cycle check runs once."""
    _copy(
        session,
        "COPY skill_dependencies (skill_id, depends_on_id, skill_tree_id) FROM STDIN",
        ((skill, prerequisite, tree_id) for skill, prerequisite in edges),
    )


def write_tree_prerequisites(session: Session, tree_id: str, prerequisite_ids: list[str]) -> None:
    """Make the tree's prerequisite trees exactly `prerequisite_ids`."""
    table = SkillTreePrerequisite.__table__
    assert isinstance(table, Table)
    session.execute(
        table.delete().where(
            table.c.skill_tree_id == tree_id, table.c.prerequisite_id.not_in(prerequisite_ids)
        )
    )
    existing = set(
        session.scalars(
            select(SkillTreePrerequisite.prerequisite_id).where(
                SkillTreePrerequisite.skill_tree_id == tree_id
            )
        )
    )
    missing = [p for p in prerequisite_ids if p not in existing]
    if missing:
        session.execute(
            table.insert(), [{"skill_tree_id": tree_id, "prerequisite_id": p} for p in missing]
        )


def tree_with_category(session: Session, slug: str) -> tuple[SkillTree, str] | None:
    """The tree `slug` and its category's slug, or None."""
    query = (
        select(SkillTree, SkillCategory.slug)
        .join(SkillCategory, SkillCategory.id == SkillTree.category_id)
        .where(SkillTree.slug == slug)
        .execution_options(populate_existing=True)  # bulk writes bypass the identity map
    )
    return session.execute(query).tuples().first()


def prerequisite_slugs(session: Session, tree_id: str) -> list[str]:
    """The slugs of the tree's prerequisite trees, sorted."""
    query = (
        select(SkillTree.slug)
        .join(SkillTreePrerequisite, SkillTreePrerequisite.prerequisite_id == SkillTree.id)
        .where(SkillTreePrerequisite.skill_tree_id == tree_id)
        .order_by(SkillTree.slug)
    )
    return list(session.scalars(query))


def exported_skills(session: Session, tree_id: str) -> Sequence[RowMapping]:
    """Every skill of the tree (active or not): the SKILL_COLUMNS but the parent's id, and the
    parent's key as `parent_key`."""
    parent = aliased(Skill)
    skills = Skill.__table__.c
    query = (
        select(*(skills[c] for c in SKILL_COLUMNS if c != "parent_skill_id"))
        .add_columns(parent.key.label("parent_key"))
        .outerjoin(parent, parent.id == Skill.parent_skill_id)
        .where(Skill.skill_tree_id == tree_id)
    )
    return session.execute(query).mappings().all()


def dependency_keys(session: Session, tree_id: str) -> list[tuple[str, str]]:
    """(skill key, prerequisite key) of every dependency edge of the tree."""
    needer, needed = aliased(Skill), aliased(Skill)
    query = (
        select(needer.key, needed.key)
        .select_from(SkillDependency)
        .join(needer, needer.id == SkillDependency.skill_id)
        .join(needed, needed.id == SkillDependency.depends_on_id)
        .where(SkillDependency.skill_tree_id == tree_id)
    )
    return [(skill, prerequisite) for skill, prerequisite in session.execute(query).tuples()]


def _copy(session: Session, statement: str, rows: Iterable[Sequence[Any]]) -> None:
    # COPY on the session's own connection, so it is part of the unit of work's transaction.
    session.flush()
    connection = cast(psycopg.Connection[Any], session.connection().connection.driver_connection)
    with connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _with_json(row: SkillRow, json_at: list[int]) -> SkillRow:
    values = list(row)
    for at in json_at:
        if values[at] is not None:
            values[at] = json.dumps(values[at], ensure_ascii=False)
    return tuple(values)


def _rowcount(session: Session, statement: str, parameters: dict[str, Any]) -> int:
    result = session.execute(text(statement), parameters)
    return int(result.rowcount)  # type: ignore[attr-defined]


def row_estimates(session: Session) -> tuple[float, float]:
    """The planner's row counts of `skills` and `skill_dependencies` (pg_class.reltuples; -1
    before any analysis)."""
    query = text(
        "SELECT (SELECT reltuples FROM pg_class WHERE oid = 'skills'::regclass),"
        " (SELECT reltuples FROM pg_class WHERE oid = 'skill_dependencies'::regclass)"
    )
    skills, edges = session.execute(query).one()
    return float(skills), float(edges)


def analyze_catalog_after_commit(session: Session) -> None:
    """Once `session`'s transaction commits, refresh the planner's statistics of `skills` and
    `skill_dependencies` in a short transaction of its own (`analyze_catalog()`,
    db/schema/catalog.sql; nothing if it rolls back). A failure there is logged: the import has
    committed, and autovacuum will analyse."""
    require_listener("after_commit", analyze_committed)
    session.info[_ANALYZE_AFTER_COMMIT] = True


_ANALYZE_AFTER_COMMIT = "skilltree.treefile.analyze_after_commit"


def analyze_committed(session: Session) -> None:
    """Every session's `after_commit` (skilltree.listeners): the analysis asked for, if any."""
    if not session.info.pop(_ANALYZE_AFTER_COMMIT, False):
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT analyze_catalog()"))
            connection.commit()
    except Exception:
        logger.warning("refreshing the catalog's statistics after an import failed", exc_info=True)


def forget_analyze(session: Session) -> None:
    """Every session's `after_rollback` (skilltree.listeners): no import, nothing to analyse."""
    session.info.pop(_ANALYZE_AFTER_COMMIT, None)
