"""Tree graphs kept in process: never stale after any change, exact at depth, bounded."""

from __future__ import annotations

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, text
from sqlalchemy.orm import Session

from skilltree.cache.memory import MB
from skilltree.graph import repository, service
from skilltree.graph.tree_graphs import SkillFacts, TreeGraph, graph_bytes, new_graph_cache
from skilltree.models import Skill, SkillDependency
from tests.factories import make_category, make_skill, make_tree
from tests.graph.test_dag import dags
from tests.graph.test_endpoints import frontend


def names_and_depths(client: TestClient, url: str) -> list[tuple[str, int]]:
    response = client.get(url)
    assert response.status_code == 200
    return [(r["name"], r["depth"]) for r in response.json()]


def test_an_edge_removed_by_plain_sql_is_gone_from_the_next_answer(
    client: TestClient, session: Session
) -> None:
    tree, s = frontend(session)
    url = f"/api/v1/skills/{s['react'].id}/prerequisites"
    assert names_and_depths(client, url) == [("CSS", 1), ("JS", 1), ("HTML", 2)]
    assert service.GRAPHS.get(tree.id) is not None  # the answer came from a kept copy
    session.execute(
        text("DELETE FROM skill_dependencies WHERE skill_id = :s AND depends_on_id = :p"),
        {"s": s["react"].id, "p": s["js"].id},
    )
    assert names_and_depths(client, url) == [("CSS", 1), ("HTML", 2)]
    dependents = f"/api/v1/skills/{s['js'].id}/dependents"
    assert names_and_depths(client, dependents) == []


def test_a_skill_renamed_by_plain_sql_shows_its_new_name(
    client: TestClient, session: Session
) -> None:
    _, s = frontend(session)
    url = f"/api/v1/skills/{s['next'].id}/prerequisites"
    assert ("HTML", 3) in names_and_depths(client, url)
    session.execute(text("UPDATE skills SET name = 'HTML5' WHERE id = :s"), {"s": s["html"].id})
    assert names_and_depths(client, url)[-1] == ("HTML5", 3)


def test_a_skill_deactivated_by_plain_sql_leaves_every_answer(
    client: TestClient, session: Session
) -> None:
    tree, s = frontend(session)
    plan_url = f"/api/v1/trees/{tree.slug}/learning-plan"
    assert s["css"].id in client.get(plan_url).json()["order"]
    session.execute(text("UPDATE skills SET is_active = false WHERE id = :s"), {"s": s["css"].id})
    assert names_and_depths(client, f"/api/v1/skills/{s['react'].id}/prerequisites") == [
        ("JS", 1),
        ("HTML", 2),
    ]
    assert s["css"].id not in client.get(plan_url).json()["order"]
    assert client.get(f"/api/v1/skills/{s['css'].id}/prerequisites").status_code == 404


def test_a_deep_chain_has_exact_depths_every_way(client: TestClient, session: Session) -> None:
    tree = make_tree(session, make_category(session))
    length = 2_000
    ids = [f"deep-chain-{i:04d}" for i in range(length)]
    session.execute(
        insert(Skill),
        [
            {
                "id": i,
                "skill_tree_id": tree.id,
                "key": i,
                "name": f"S{n:04d}",
                "estimated_minutes": 1,
            }
            for n, i in enumerate(ids)
        ],
    )
    # One statement: the tree's acyclicity is checked once, as an import does.
    session.execute(
        insert(SkillDependency),
        [
            {"skill_id": later, "depends_on_id": earlier, "skill_tree_id": tree.id}
            for later, earlier in zip(ids[1:], ids, strict=False)
        ],
    )
    above = client.get(f"/api/v1/skills/{ids[-1]}/prerequisites").json()
    assert [(r["id"], r["depth"]) for r in above] == [
        (ids[length - 1 - d], d) for d in range(1, length)
    ]
    below = client.get(f"/api/v1/skills/{ids[0]}/dependents").json()
    assert [(r["id"], r["depth"]) for r in below] == [(ids[d], d) for d in range(1, length)]
    path = client.get(f"/api/v1/skills/{ids[-1]}/critical-path").json()
    assert [p["id"] for p in path["skills"]] == ids
    assert path["totalMinutes"] == length
    plan = client.get(f"/api/v1/trees/{tree.slug}/learning-plan").json()
    assert plan["order"] == ids
    assert plan["layers"] == [[i] for i in ids]


def test_only_read_only_callers_keep_copies(session: Session) -> None:
    tree, s = frontend(session)
    service.prerequisites(session, s["next"].id, None)
    assert service.GRAPHS.get(tree.id) is None
    service.prerequisites(session, s["next"].id, None, from_cache=True)
    kept = service.GRAPHS.get(tree.id)
    assert kept is not None
    service.dependents(session, s["html"].id, None, from_cache=True)
    assert service.GRAPHS.get(tree.id) is kept  # same version: the same copy, not read again


def test_the_cache_keeps_the_newer_of_two_copies_of_a_tree() -> None:
    cache = new_graph_cache(10 * MB)
    newer = TreeGraph("t", 7, {}, {})
    cache.put("t", newer)
    cache.put("t", TreeGraph("t", 6, {}, {}))  # read by a request that started before the change
    assert cache.get("t") is newer
    newest = TreeGraph("t", 8, {}, {})
    cache.put("t", newest)
    assert cache.get("t") is newest
    assert cache.used == graph_bytes(newest)


def test_a_graph_counts_its_skills_and_edges() -> None:
    facts = SkillFacts("A skill", 0.0, 0.0, None, False, 10, False)
    small = TreeGraph("t", 1, {"a": facts}, {"a": []})
    bigger = TreeGraph("t", 1, {"a": facts, "b": facts}, {"a": [], "b": ["a"]})
    assert 0 < graph_bytes(small) < graph_bytes(bigger)


def test_the_tree_document_and_the_database_give_the_same_graph(
    client: TestClient, session: Session
) -> None:
    tree, s = frontend(session)
    session.execute(text("UPDATE skills SET is_optional = true WHERE id = :s"), {"s": s["js"].id})
    document = client.get(f"/api/v1/trees/{tree.slug}").json()
    from_document = TreeGraph.from_document_skills(tree.id, 0, document["skills"])
    from_sql = repository.tree_graph(session, tree.id)
    assert from_sql is not None
    assert from_document.skills == from_sql.skills
    assert {k: sorted(v) for k, v in from_document.needs.items()} == {
        k: sorted(v) for k, v in from_sql.needs.items()
    }
    assert from_document.optional == {s["js"].id}


def test_one_graph_per_tree_version_serves_documents_and_graph_answers(
    client: TestClient, session: Session
) -> None:
    tree, s = frontend(session)
    service.GRAPHS.clear()
    document = client.get(f"/api/v1/trees/{tree.slug}").json()
    kept = service.GRAPHS.get(tree.id)
    assert kept is not None  # read with the document, kept for the graph answers
    assert document["learningOrder"] == kept.learning_order.order
    names_and_depths(client, f"/api/v1/skills/{s['next'].id}/prerequisites")
    assert service.GRAPHS.get(tree.id) is kept  # the graph answer used the same copy


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(dags(max_size=20), st.data())
def test_the_graph_read_is_the_graph_of_the_trees_rows_as_python_orders_it(
    session: Session, needs: dict[str, list[str]], data: st.DataObject
) -> None:
    """repository.tree_graph takes the skills' order by position and whether the tree is drawn
    top down from PostgreSQL: they are what Python makes of the same rows (positions tied, some
    skills inactive, edges touching them left out)."""
    coordinate = st.sampled_from([-100.0, 0.0, 0.5, 100.0])
    with session.begin_nested() as example:
        tree = make_tree(session, make_category(session))
        made = {
            name: make_skill(
                session,
                tree,
                position_y=data.draw(coordinate),
                position_x=data.draw(coordinate),
                estimated_minutes=data.draw(st.none() | st.integers(0, 90)),
                is_optional=data.draw(st.booleans()),
                xp_value=data.draw(st.integers(0, 50)),
                is_milestone=data.draw(st.booleans()),
                is_active=data.draw(st.integers(0, 4)) > 0,
            )
            for name in needs
        }
        for name, prerequisites in needs.items():
            for prerequisite in prerequisites:
                session.execute(
                    insert(SkillDependency).values(
                        skill_id=made[name].id,
                        depends_on_id=made[prerequisite].id,
                        skill_tree_id=tree.id,
                    )
                )
        session.flush()
        graph = repository.tree_graph(session, tree.id)
        assert graph is not None
        active = {name: skill for name, skill in made.items() if skill.is_active}
        rows = {
            s.id: (s.name, s.position_y, s.position_x, s.estimated_minutes, s.is_optional,
                   s.xp_value, s.is_milestone)
            for s in active.values()
        }  # fmt: skip
        edges = {
            s.id: sorted(active[p].id for p in needs[name] if p in active)
            for name, s in active.items()
        }
        made_here = TreeGraph(tree.id, graph.version, rows, edges)  # orders them itself
        assert dict(graph.skills.rows) == rows
        assert {s: sorted(p) for s, p in graph.needs.items()} == edges
        assert all(type(p) is tuple for p in graph.needs.values())
        assert graph.by_position == made_here.by_position
        assert graph.drawn_top_down is made_here.drawn_top_down
        assert graph.learning_order == made_here.learning_order
        example.rollback()


def test_a_tree_without_active_skills_has_an_empty_graph(session: Session) -> None:
    tree = make_tree(session, make_category(session))
    make_skill(session, tree, is_active=False)
    graph = repository.tree_graph(session, tree.id)
    assert graph is not None
    assert (dict(graph.skills.rows), dict(graph.needs), graph.by_position) == ({}, {}, [])
    assert repository.tree_graph(session, "no-such-tree") is None
