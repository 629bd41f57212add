"""graph.snapshots (migrations 0047, 0048): a tree's graph as its writers store it is, at the tree's
version, exactly the graph its rows give; after any sequence of writes by the tree's writers it
is current; a change by any other writer (plain SQL) leaves it behind the tree's version, and
the graph is then read from the rows, never from the stale copy."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from skilltree.catalog import authoring
from skilltree.catalog.schemas import SkillUpdate, TreeUpdate
from skilltree.graph import repository, snapshots
from skilltree.graph.tree_graphs import TreeGraph
from tests.factories import Person, add_dependency, make_category, make_skill, make_tree
from tests.graph.test_ranks import WRITES, Write, apply, import_file, skill_ids, tree_files, write

CURRENT = """
    SELECT g.structure_version = t.structure_version FROM skill_trees t
    JOIN skill_tree_graphs g ON g.skill_tree_id = t.id WHERE t.id = :t
"""


def is_current(session: Session, tree_id: str) -> bool:
    """Whether the tree's stored graph is at the tree's version."""
    return bool(session.scalar(text(CURRENT), {"t": tree_id}))


def read_from_rows(session: Session, tree_id: str) -> TreeGraph:
    """The tree's graph read from its skills and edges (the stored copy set aside)."""
    with session.begin_nested() as aside:
        session.execute(
            text("DELETE FROM skill_tree_graphs WHERE skill_tree_id = :t"), {"t": tree_id}
        )
        graph = repository.tree_graph(session, tree_id)
        aside.rollback()
    assert graph is not None
    return graph


def facts(graph: TreeGraph) -> dict[str, Any]:
    """Everything a TreeGraph is made of (each skill's prerequisites as a set: their order is
    the reader's)."""
    return {
        "version": graph.version,
        # Each fact with its type: a stored flag is a bool, a position a float, as read.
        "skills": {
            skill: tuple((type(fact), fact) for fact in row)
            for skill, row in graph.skills.rows.items()
        },
        "columns": [list(column) for column in graph.columns],
        "optional": graph.optional,
        "roots": graph.roots,
        "chain_ahead": graph.chain_ahead,
        "chains_by_place": list(graph.chains_by_place),
        "dependents_by_place": graph.dependents_groups.each(),
        "root_places": list(graph.root_places),
        "edge_count": graph.edge_count,
        "needs": {skill: set(needs) for skill, needs in graph.needs.items()},
        "by_position": list(graph.by_position),
        "drawn_top_down": graph.drawn_top_down,
        "place_needs": [set(needs) for needs in graph.place_needs],
        "minutes_by_place": graph.minutes_by_place,
        "xp_by_place": graph.xp_by_place,
    }


def check_stored(session: Session, tree_id: str) -> None:
    """The stored graph is current and is the graph the rows give."""
    assert is_current(session, tree_id)
    stored = repository.tree_graph(session, tree_id)
    assert stored is not None
    assert facts(stored) == facts(read_from_rows(session, tree_id))


moves = st.tuples(
    st.just("move"),
    st.integers(0, 20),
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.text("abcXYZ ", min_size=1, max_size=6).map(str.strip).filter(bool),
            "positionX": st.integers(-3, 3).map(float),
            "positionY": st.integers(-3, 3).map(float),
            "xpValue": st.integers(0, 50),
            "estimatedMinutes": st.none() | st.integers(0, 90),
            "description": st.text("abc ", max_size=5),
        },
    ),
)


@WRITES
@given(first=tree_files(), sequence=st.lists(st.one_of(write, moves), max_size=8))
def test_the_stored_graph_is_the_rows_graph_after_any_sequence_of_tree_writes(
    session: Session, admin: Person, first: list[dict[str, Any]], sequence: list[Write]
) -> None:
    with session.begin_nested() as example:
        tree_id = import_file(session, make_category(session), first)
        check_stored(session, tree_id)
        for write in sequence:
            if write[0] == "move":  # a rename or a move: not a counted change
                ids = skill_ids(session, tree_id)
                if not ids:
                    continue
                change = SkillUpdate.model_validate(write[2])
                authoring.update_skill(session, ids[write[1] % len(ids)], change, admin.user)
            else:
                apply(session, tree_id, write, admin.user)
            check_stored(session, tree_id)
        example.rollback()


def test_a_change_by_plain_sql_is_read_from_the_rows_never_from_the_stale_copy(
    session: Session,
) -> None:
    tree_id = import_file(
        session,
        make_category(session),
        [{"key": "a", "name": "A"}, {"key": "b", "name": "B", "dependencies": ["a"]}],
    )
    a, b = skill_ids(session, tree_id)
    assert is_current(session, tree_id)
    session.execute(text("UPDATE skills SET name = 'Renamed' WHERE id = :a"), {"a": a})
    session.execute(text("DELETE FROM skill_dependencies WHERE skill_id = :b"), {"b": b})
    assert not is_current(session, tree_id)
    graph = repository.tree_graph(session, tree_id)
    assert graph is not None
    assert graph.skills[a].name == "Renamed"
    assert graph.needs[b] == ()
    assert facts(graph) == facts(read_from_rows(session, tree_id))


def test_a_change_of_the_trees_own_row_stores_its_graph_at_the_new_version(
    session: Session, admin: Person
) -> None:
    tree_id = import_file(session, make_category(session), [{"key": "a", "name": "A"}])
    before = session.scalar(
        text("SELECT structure_version FROM skill_trees WHERE id = :t"), {"t": tree_id}
    )
    authoring.update_tree(
        session, "ranked", TreeUpdate.model_validate({"name": "Other"}), admin.user
    )
    after = session.scalar(
        text("SELECT structure_version FROM skill_trees WHERE id = :t"), {"t": tree_id}
    )
    assert after != before
    check_stored(session, tree_id)


def test_store_missing_stores_the_graph_of_every_tree_not_stored_at_its_version(
    session: Session,
) -> None:
    # As before 0047, or after a change by plain SQL: trees without a current stored graph.
    category = make_category(session)
    trees = [make_tree(session, category) for _ in range(2)]
    first, second = make_skill(session, trees[0]), make_skill(session, trees[0])
    add_dependency(session, second, first)
    session.execute(text("DELETE FROM skill_tree_graphs"))
    assert snapshots.store_missing(session) >= 2
    for tree in trees:
        check_stored(session, tree.id)
    stored = repository.tree_graph(session, trees[0].id)
    assert stored is not None
    assert stored.needs == {first.id: (), second.id: (first.id,)}
    assert snapshots.store_missing(session) == 0


def test_a_change_of_no_fact_the_graph_holds_keeps_it_without_rewriting_it(
    session: Session, admin: Person
) -> None:
    tree_id = import_file(session, make_category(session), [{"key": "a", "name": "A"}])
    (a,) = skill_ids(session, tree_id)
    row = text(
        "SELECT xmin::text, structure_version FROM skill_tree_graphs WHERE skill_tree_id = :t"
    )
    before = session.execute(row, {"t": tree_id}).one()
    update = SkillUpdate.model_validate({"description": "Now described"})
    authoring.update_skill(session, a, update, admin.user)
    check_stored(session, tree_id)
    after = session.execute(row, {"t": tree_id}).one()
    assert after.structure_version == before.structure_version + 1  # moved on, kept


def test_a_change_in_between_by_plain_sql_is_not_kept_but_stored_anew(
    session: Session, admin: Person
) -> None:
    tree_id = import_file(session, make_category(session), [{"key": "a", "name": "A"}])
    (a,) = skill_ids(session, tree_id)
    # A rename behind the writers' back: the stored graph is one version behind, and stale.
    session.execute(text("UPDATE skills SET name = 'Behind' WHERE id = :a"), {"a": a})
    authoring.update_tree(session, "ranked", TreeUpdate.model_validate({"name": "T"}), admin.user)
    check_stored(session, tree_id)
    graph = repository.tree_graph(session, tree_id)
    assert graph is not None
    assert graph.skills[a].name == "Behind"


@pytest.mark.parametrize(
    ("column", "value"),
    [("positions_y", b"\x00" * 7), ("prerequisites", b""), ("optional", b"\x01\x01\x01")],
)
def test_a_stored_column_of_the_wrong_length_is_refused(
    session: Session, column: str, value: bytes
) -> None:
    """The packed columns are checked against the counts of skills and edges they hold
    (migration 0048): a malformed stored graph cannot be written, so none can be misread."""
    tree_id = import_file(
        session,
        make_category(session),
        [{"key": "a", "name": "A"}, {"key": "b", "name": "B", "dependencies": ["a"]}],
    )
    with pytest.raises(IntegrityError, match="skill_tree_graphs_lengths_check"):
        with session.begin_nested():
            session.execute(
                text(f"UPDATE skill_tree_graphs SET {column} = :v WHERE skill_tree_id = :t"),
                {"v": value, "t": tree_id},
            )
