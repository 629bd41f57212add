"""graph.ranks: after any sequence of tree writes, the ranks stored for a tree are those its graph
gives (chain ahead, direct dependents, direct prerequisites of each active skill, and the count
of its active skills: what enrolling records), and a change
of the graph by a writer that does not store them leaves the tree unranked, never stale."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.catalog import authoring
from skilltree.catalog.schemas import SkillCreate, SkillUpdate
from skilltree.graph import ranks, repository
from skilltree.graph.repository import Rank
from skilltree.models import SkillCategory, SkillTree, User
from skilltree.treefile import service as treefile
from tests.factories import Person, add_dependency, make_category, make_skill, make_tree

WRITES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def stored(session: Session, tree_id: str) -> tuple[dict[str, Rank], int] | None:
    """The tree's stored ranks and count of active skills, None when they are not current."""
    active = session.scalar(
        text("SELECT active_skills FROM skill_tree_ranks WHERE skill_tree_id = :t"),
        {"t": tree_id},
    )
    return None if active is None else (repository.stored_ranks(session, tree_id), active)


def from_graph(session: Session, tree_id: str) -> tuple[dict[str, Rank], int]:
    """The ranks the tree's graph gives, as "what next" computes them from a cached graph, and
    the count of its active skills."""
    graph = repository.tree_graph(session, tree_id)
    assert graph is not None
    ranked = {
        s: (graph.chain_ahead[s], len(graph.dependents[s]), len(graph.needs[s]))
        for s in graph.needs
    }
    return ranked, len(graph.needs)


@st.composite
def tree_files(draw: st.DrawFn, keys: list[str] | None = None) -> list[dict[str, Any]]:
    """The skills of a tree file: each needs some of the skills before it; some inactive."""
    keys = keys or [f"k{i}" for i in range(draw(st.integers(1, 9)))]
    skills = []
    for i, key in enumerate(keys):
        needs = draw(st.sets(st.sampled_from(keys[:i]), max_size=3)) if i else set()
        skills.append(
            {
                "key": key,
                "name": key.upper(),
                "dependencies": sorted(needs),
                "isActive": i % 4 != 3 or draw(st.booleans()),
            }
        )
    return skills


def import_file(session: Session, category: SkillCategory, skills: list[dict[str, Any]]) -> str:
    tree = {"slug": "ranked", "name": "Ranked", "category": category.slug}
    document = {"format": "skilltree.tree", "version": 1, "tree": tree, "skills": skills}
    treefile.import_tree(session, json.dumps(document), author=None, publish=True)
    found = session.scalar(text("SELECT id FROM skill_trees WHERE slug = 'ranked'"))
    assert isinstance(found, str)
    return found


NEW_KEYS = itertools.count()
Write = tuple[str, int, Any]
write = st.one_of(
    st.tuples(st.just("edges"), st.integers(0, 20), st.sets(st.integers(0, 20), max_size=3)),
    st.tuples(st.just("active"), st.integers(0, 20), st.booleans()),
    st.tuples(st.just("delete"), st.integers(0, 20), st.none()),
    st.tuples(st.just("create"), st.integers(0, 20), st.sets(st.integers(0, 20), max_size=3)),
    st.tuples(st.just("import"), st.integers(0, 20), tree_files()),
)
writes = st.lists(write, max_size=8)


def skill_ids(session: Session, tree_id: str) -> list[str]:
    """The tree's skills, in the order they were made (by key: k0, k1, ..., then new ones)."""
    return list(
        session.scalars(
            text("SELECT id FROM skills WHERE skill_tree_id = :t ORDER BY length(key), key"),
            {"t": tree_id},
        )
    )


def apply(session: Session, tree_id: str, write: Write, actor: User) -> None:
    kind, at, value = write
    ids = skill_ids(session, tree_id)
    if kind == "import":
        import_file(session, _category(session, tree_id), value)
        return
    if kind == "create":
        key = f"n{next(NEW_KEYS)}"
        needs = sorted({ids[i % len(ids)] for i in value}) if ids else []
        create = SkillCreate.model_validate({"name": key, "key": key, "dependencies": needs})
        authoring.create_skill(session, "ranked", create, actor)
        return
    if not ids:
        return
    index = at % len(ids)
    skill = ids[index]
    if kind == "edges":  # only skills made before it: never a cycle
        needs = sorted({ids[i % len(ids)] for i in value if i % len(ids) < index})
        authoring.set_dependencies(session, skill, needs, actor)
    elif kind == "active":
        authoring.update_skill(
            session, skill, SkillUpdate.model_validate({"isActive": value}), actor
        )
    else:
        authoring.delete_skill(session, skill, actor)


def _category(session: Session, tree_id: str) -> SkillCategory:
    found = session.scalar(
        text("SELECT category_id FROM skill_trees WHERE id = :t"), {"t": tree_id}
    )
    category = session.get(SkillCategory, found)
    assert category is not None
    return category


@WRITES
@given(first=tree_files(), sequence=writes)
def test_stored_ranks_are_the_graphs_after_any_sequence_of_tree_writes(
    session: Session, admin: Person, first: list[dict[str, Any]], sequence: list[Write]
) -> None:
    with session.begin_nested() as example:
        tree_id = import_file(session, make_category(session), first)
        assert stored(session, tree_id) == from_graph(session, tree_id)
        for write in sequence:
            apply(session, tree_id, write, admin.user)
            assert stored(session, tree_id) == from_graph(session, tree_id), write
        example.rollback()


def test_a_change_by_a_writer_that_does_not_rank_leaves_the_tree_unranked(
    session: Session,
) -> None:
    tree_id = import_file(
        session,
        make_category(session),
        [{"key": "a", "name": "A"}, {"key": "b", "name": "B", "dependencies": ["a"]}],
    )
    a, b = skill_ids(session, tree_id)
    tree = session.get(SkillTree, tree_id)
    assert tree is not None
    assert stored(session, tree_id) is not None

    def sql(statement: str) -> Callable[[], object]:
        return lambda: session.execute(text(statement), {"a": a, "b": b})

    # A rename or a move changes no rank: still current.
    sql("UPDATE skills SET name = 'A2', position_x = 5, is_milestone = true WHERE id = :a")()
    assert stored(session, tree_id) is not None
    for change in (
        lambda: make_skill(session, tree),
        sql("UPDATE skills SET is_active = false WHERE id = :a"),
        sql("DELETE FROM skill_dependencies WHERE skill_id = :b"),
        sql(
            "INSERT INTO skill_dependencies SELECT :b, :a, skill_tree_id FROM skills WHERE id = :a"
        ),
        sql("UPDATE skill_dependencies SET depends_on_id = depends_on_id WHERE skill_id = :b"),
        sql("DELETE FROM skills WHERE id = :a"),
    ):
        session.execute(
            text("INSERT INTO skill_tree_ranks VALUES (:t, 2) ON CONFLICT DO NOTHING"),
            {"t": tree_id},
        )
        change()
        session.flush()
        assert stored(session, tree_id) is None


def test_trees_no_writer_ranked_are_ranked_by_rank_unranked(session: Session) -> None:
    # As after migration 0035 (`skilltree db upgrade` runs it): written by plain rows, unranked.
    tree = make_tree(session, make_category(session))
    first, second = make_skill(session, tree), make_skill(session, tree)
    add_dependency(session, second, first)
    assert stored(session, tree.id) is None
    assert ranks.rank_unranked(session) >= 1
    assert stored(session, tree.id) == from_graph(session, tree.id)
    assert stored(session, tree.id) == ({first.id: (1, 1, 0), second.id: (0, 0, 1)}, 2)
    assert ranks.rank_unranked(session) == 0
