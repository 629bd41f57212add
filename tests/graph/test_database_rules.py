"""The database itself keeps prerequisite graphs acyclic and inside one tree, for any writer."""

from __future__ import annotations

import itertools
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError

from tests.locks import Writer, wait_until_blocked


def make_tree(conn: Connection, skills: int, tree: str | None = None) -> tuple[str, list[str]]:
    """A category, a tree and `skills` skills named `<tree>-0`, `<tree>-1`, ...; no edges."""
    tree = tree or f"t{uuid.uuid4().hex[:12]}"
    names = {"t": tree, "n": tree, "s": tree}
    conn.execute(text("INSERT INTO skill_categories (id, name, slug) VALUES (:t, :n, :s)"), names)
    conn.execute(
        text("INSERT INTO skill_trees (id, category_id, name, slug) VALUES (:t, :t, :n, :s)"),
        names,
    )
    ids = [f"{tree}-{i}" for i in range(skills)]
    if not ids:
        return tree, ids
    conn.execute(
        text("INSERT INTO skills (id, skill_tree_id, key, name) VALUES (:id, :t, :key, :name)"),
        [{"id": i, "t": tree, "key": i, "name": i} for i in ids],
    )
    return tree, ids


def add_edges(conn: Connection, tree: str, edges: list[tuple[str, str]]) -> None:
    """Insert `(skill, prerequisite)` edges in one statement."""
    conn.execute(
        text(
            "INSERT INTO skill_dependencies (skill_id, depends_on_id, skill_tree_id) "
            "SELECT s, p, :t FROM unnest(CAST(:s AS text[]), CAST(:p AS text[])) AS e(s, p)"
        ),
        {"t": tree, "s": [s for s, _ in edges], "p": [p for _, p in edges]},
    )


def refused_cycle(conn: Connection, tree: str, edges: list[tuple[str, str]]) -> list[str]:
    """Insert `edges` expecting the cycle guard to refuse them; return the cycle it reports."""
    with pytest.raises(IntegrityError) as refused, conn.begin_nested():
        add_edges(conn, tree, edges)
    diag = refused.value.orig.diag  # type: ignore[union-attr]
    assert diag.constraint_name == "skill_dependencies_acyclic"
    cycle: list[str] = json.loads(diag.message_detail)
    return cycle


@pytest.mark.parametrize("depth", [1, 2, 11, 50, 500])
def test_an_edge_closing_a_cycle_at_any_depth_is_refused(
    connection: Connection, depth: int
) -> None:
    tree, s = make_tree(connection, depth + 1)
    add_edges(connection, tree, [(s[i + 1], s[i]) for i in range(depth)])  # s[k] needs s[k-1]
    cycle = refused_cycle(connection, tree, [(s[0], s[depth])])
    assert cycle == [s[0], *reversed(s[: depth + 1])]


def test_the_reported_cycle_is_made_of_real_edges(connection: Connection) -> None:
    tree, s = make_tree(connection, 6)
    # a diamond s0 <- s1, s2 <- s3, and a tail s3 <- s4 <- s5
    add_edges(connection, tree, [(s[1], s[0]), (s[2], s[0]), (s[3], s[1]), (s[3], s[2])])
    add_edges(connection, tree, [(s[4], s[3]), (s[5], s[4])])
    cycle = refused_cycle(connection, tree, [(s[0], s[5])])
    edges = set(connection.execute(text("SELECT skill_id, depends_on_id FROM skill_dependencies")))
    edges.add((s[0], s[5]))
    assert cycle[0] == cycle[-1] == s[0]
    assert all((a, b) in edges for a, b in itertools.pairwise(cycle))


def test_a_bulk_insert_with_a_cycle_is_refused_whole(connection: Connection) -> None:
    tree, s = make_tree(connection, 100)
    chain = [(s[i + 1], s[i]) for i in range(99)]
    cycle = refused_cycle(connection, tree, [*chain, (s[0], s[99])])
    assert len(cycle) == 101
    assert cycle[0] == cycle[-1]
    count = connection.execute(
        text("SELECT count(*) FROM skill_dependencies WHERE skill_tree_id = :t"), {"t": tree}
    )
    assert count.scalar_one() == 0


def test_a_large_acyclic_bulk_insert_is_accepted(connection: Connection) -> None:
    tree, s = make_tree(connection, 2000)
    add_edges(connection, tree, [(s[i + 1], s[i]) for i in range(1999)] + [(s[1999], s[0])])
    count = connection.execute(
        text("SELECT count(*) FROM skill_dependencies WHERE skill_tree_id = :t"), {"t": tree}
    )
    assert count.scalar_one() == 2000


def test_a_self_dependency_is_refused(connection: Connection) -> None:
    tree, s = make_tree(connection, 1)
    with pytest.raises(IntegrityError) as refused, connection.begin_nested():
        add_edges(connection, tree, [(s[0], s[0])])
    assert refused.value.orig.diag.constraint_name == "skill_dependencies_not_self_check"  # type: ignore[union-attr]


def test_a_duplicate_edge_is_refused(connection: Connection) -> None:
    tree, s = make_tree(connection, 2)
    add_edges(connection, tree, [(s[1], s[0])])
    with pytest.raises(IntegrityError) as refused, connection.begin_nested():
        add_edges(connection, tree, [(s[1], s[0])])
    assert refused.value.orig.diag.constraint_name == "idx_skill_dependencies"  # type: ignore[union-attr]


@pytest.mark.parametrize("edge_tree", ["skill's tree", "prerequisite's tree"])
def test_an_edge_across_trees_is_refused(connection: Connection, edge_tree: str) -> None:
    tree_a, a = make_tree(connection, 1)
    tree_b, b = make_tree(connection, 1)
    with pytest.raises(IntegrityError) as refused, connection.begin_nested():
        add_edges(connection, tree_a if edge_tree == "skill's tree" else tree_b, [(a[0], b[0])])
    assert refused.value.orig.diag.constraint_name in {  # type: ignore[union-attr]
        "skill_dependencies_skill_fkey",
        "skill_dependencies_depends_on_fkey",
    }


def test_tree_prerequisite_cycles_are_refused(connection: Connection) -> None:
    trees = [make_tree(connection, 0)[0] for _ in range(4)]
    insert = text("INSERT INTO skill_tree_prerequisites VALUES (:tree, :prerequisite)")
    for later, earlier in zip(trees[1:], trees, strict=False):
        connection.execute(insert, {"tree": later, "prerequisite": earlier})
    with pytest.raises(IntegrityError) as refused, connection.begin_nested():
        connection.execute(insert, {"tree": trees[0], "prerequisite": trees[3]})
    diag = refused.value.orig.diag  # type: ignore[union-attr]
    assert diag.constraint_name == "skill_tree_prerequisites_acyclic"
    assert json.loads(diag.message_detail) == [trees[0], trees[3], trees[2], trees[1], trees[0]]
    with pytest.raises(IntegrityError), connection.begin_nested():
        connection.execute(insert, {"tree": trees[0], "prerequisite": trees[0]})


def reaches(edges: set[tuple[int, int]], start: int, goal: int) -> bool:
    """Whether `start` needs `goal` through `edges` (pure Python, for the property test)."""
    stack, seen = [start], {start}
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for skill, prerequisite in edges:
            if skill == node and prerequisite not in seen:
                seen.add(prerequisite)
                stack.append(prerequisite)
    return False


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    size=st.integers(2, 12),
    attempts=st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11)), min_size=1, max_size=40),
)
def test_random_edges_never_make_a_cycle_and_refusals_are_real(
    connection: Connection, size: int, attempts: list[tuple[int, int]]
) -> None:
    with connection.begin_nested() as example:
        tree, s = make_tree(connection, size)
        accepted: set[tuple[int, int]] = set()
        for a, b in attempts:
            a, b = a % size, b % size
            if a == b or (a, b) in accepted:
                continue
            if reaches(accepted, b, a):
                refused_cycle(connection, tree, [(s[a], s[b])])
            else:
                add_edges(connection, tree, [(s[a], s[b])])
                accepted.add((a, b))
        example.rollback()


@pytest.mark.parametrize("ring", [2, 5])
def test_racing_transactions_cannot_close_a_cycle_together(engine: Engine, ring: int) -> None:
    """Each transaction adds one edge of a ring: the second waits for the first's lock (without
    it both would commit) and, once the first has committed, is refused."""
    with engine.begin() as conn:
        tree, s = make_tree(conn, ring)
        add_edges(conn, tree, [(s[i + 1], s[i]) for i in range(ring - 2)])
    closing = (
        [(s[ring - 1], s[ring - 2]), (s[0], s[ring - 1])]
        if ring > 2
        else [(s[1], s[0]), (s[0], s[1])]
    )
    insert = text(
        "INSERT INTO skill_dependencies (skill_id, depends_on_id, skill_tree_id) "
        "VALUES (:skill, :needs, :tree)"
    )
    edges = [{"skill": skill, "needs": needs, "tree": tree} for skill, needs in closing]
    try:
        with engine.connect() as first:
            first.execute(insert, edges[0])
            racer = Writer(engine, lambda session: session.execute(insert, edges[1])).start()
            wait_until_blocked(engine, racer.pid)
            first.commit()
            racer.finish()
        assert isinstance(racer.error, IntegrityError)
        assert racer.error.orig.diag.constraint_name == "skill_dependencies_acyclic"  # type: ignore[union-attr]
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM skill_trees WHERE id = :t"), {"t": tree})
            conn.execute(text("DELETE FROM skill_categories WHERE id = :t"), {"t": tree})


def test_deleting_a_skill_removes_its_edges_and_keeps_dependents_valid(
    connection: Connection,
) -> None:
    tree, s = make_tree(connection, 3)
    add_edges(connection, tree, [(s[1], s[0]), (s[2], s[1])])
    connection.execute(text("DELETE FROM skills WHERE id = :id"), {"id": s[1]})
    left = connection.execute(
        text("SELECT count(*) FROM skill_dependencies WHERE skill_tree_id = :t"), {"t": tree}
    ).scalar_one()
    assert left == 0
    add_edges(connection, tree, [(s[2], s[0])])


def test_one_statement_closing_two_cycles_is_refused_promptly(connection: Connection) -> None:
    tree, s = make_tree(connection, 4)
    a, p, q, skill = s
    add_edges(connection, tree, [(p, skill), (q, a), (a, skill)])
    connection.execute(text("SET LOCAL statement_timeout = '5s'"))
    cycle = refused_cycle(connection, tree, [(skill, p), (skill, q)])
    edges = {(p, skill), (q, a), (a, skill), (skill, p), (skill, q)}
    assert cycle[0] == cycle[-1]
    assert all(pair in edges for pair in itertools.pairwise(cycle))


def test_tree_prerequisites_closing_two_cycles_are_refused_promptly(
    connection: Connection,
) -> None:
    a, p, q, t = (make_tree(connection, 0)[0] for _ in range(4))
    insert = text("INSERT INTO skill_tree_prerequisites VALUES (:tree, :prerequisite)")
    for tree, prerequisite in [(p, t), (q, a), (a, t)]:
        connection.execute(insert, {"tree": tree, "prerequisite": prerequisite})
    connection.execute(text("SET LOCAL statement_timeout = '5s'"))
    with pytest.raises(IntegrityError) as refused, connection.begin_nested():
        connection.execute(insert, [{"tree": t, "prerequisite": p}, {"tree": t, "prerequisite": q}])
    cycle = json.loads(refused.value.orig.diag.message_detail)  # type: ignore[union-attr]
    assert cycle[0] == cycle[-1] == t
