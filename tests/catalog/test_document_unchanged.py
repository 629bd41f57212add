"""GET /trees/{slug} answers, byte for byte, what it answered before the graph came with the
document's statement and a learner's states were spliced into a template: the document as
PostgreSQL builds it, the learning plan of the graph read on its own (dag's reference
algorithms), and every active skill's state by the rules (progress.states), in position order.
On the demo trees with the demo learners, and on a generated tree with a learner in every state,
read when the tree has just changed (the document built) and again from the kept copy."""

from __future__ import annotations

import random
from typing import Any

import orjson
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.catalog import repository
from skilltree.catalog.service import DOCUMENTS
from skilltree.graph import dag
from skilltree.graph import repository as graph_repository
from skilltree.graph.service import GRAPHS
from skilltree.models import SkillProgressStatus, SkillTree, User
from skilltree.progress import states
from skilltree.seed import load_demo
from tests.api import bearer
from tests.factories import make_category, make_skill, make_token, make_tree, make_user


def expected_answer(session: Session, slug: str, learner: User | None) -> bytes:
    """The answer as the API made it before: computed here from independent reads."""
    found = repository.tree_document(session, slug, learner.id if learner else None)
    assert found is not None
    assert found.document is not None
    graph = graph_repository.tree_graph(session, found.tree_id)
    assert graph is not None
    assert graph.version == found.version
    rows = graph.skills.rows

    def position(skill: str) -> tuple[float, float, str]:
        return (rows[skill][1], rows[skill][2], skill)

    order = dag.learning_order(graph.needs, sort_key=position)
    layers = dag.topological_layers(graph.needs)
    plan = b',"learningOrder":' + orjson.dumps(order) + b',"layers":' + orjson.dumps(layers)
    if learner is None:
        tail = b',"progress":null,"skillStates":null}'
    else:
        mine = {row.pop("skillId"): row for row in orjson.loads(found.learner_rows or "[]")}
        statuses = {
            skill: SkillProgressStatus(row["status"])
            for skill, row in mine.items()
            if skill in rows
        }
        every: dict[str, Any] = {}
        for skill in sorted(rows, key=position):
            state = states.state_of(skill, graph.needs, statuses, graph.optional).value
            every[skill] = mine.get(skill, {}) | {"status": state}
        progress = (found.tree_progress or "null").encode()
        tail = b',"progress":' + progress + b',"skillStates":' + orjson.dumps(every) + b"}"
    return found.document.encode()[:-1] + plan + tail


def assert_unchanged(
    client: TestClient, session: Session, slug: str, learner: User | None = None
) -> None:
    headers = bearer(make_token(session, learner)) if learner else {}
    expected = expected_answer(session, slug, learner)
    DOCUMENTS.clear()
    GRAPHS.clear()
    for read in ("just changed", "kept copy"):
        answer = client.get(f"/api/v1/trees/{slug}", headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.content == expected, (slug, read)


def test_the_demo_trees_and_learners_get_the_same_bytes(
    client: TestClient, session: Session
) -> None:
    load_demo(session)
    session.flush()
    slugs = session.scalars(select(SkillTree.slug).where(SkillTree.is_published)).all()
    learners = session.execute(
        text(
            "SELECT DISTINCT t.slug, p.user_id FROM user_skill_progress p "
            "JOIN skill_trees t ON t.id = p.skill_tree_id WHERE t.is_published"
        )
    ).all()
    assert len(slugs) >= 5
    assert len(learners) >= 5
    for slug in slugs:
        assert_unchanged(client, session, slug)
    for slug, user_id in learners:
        assert_unchanged(client, session, slug, session.get(User, user_id))


def test_a_generated_tree_and_a_learner_in_every_state_get_the_same_bytes(
    client: TestClient, session: Session
) -> None:
    rng = random.Random(16)
    tree = make_tree(session, make_category(session), slug="generated")
    skills = [
        make_skill(
            session,
            tree,
            # Few distinct positions: many ties, broken by id.
            position_x=float(rng.randrange(4)),
            position_y=float(rng.randrange(6)),
            is_optional=rng.random() < 0.2,
            is_active=rng.random() < 0.9,
        )
        for _ in range(120)
    ]
    for n, skill in enumerate(skills[1:], 1):
        for needed in rng.sample(skills[:n], min(n, rng.randint(0, 3))):
            session.execute(
                text(
                    "INSERT INTO skill_dependencies (skill_id, depends_on_id, skill_tree_id) "
                    "VALUES (:s, :d, :t)"
                ),
                {"s": skill.id, "d": needed.id, "t": tree.id},
            )
    learner = make_user(session)
    session.execute(
        text(
            "INSERT INTO user_skill_tree_progress (id, user_id, skill_tree_id, status) "
            "VALUES (md5(:u), :u, :t, 'IN_PROGRESS')"
        ),
        {"u": learner.id, "t": tree.id},
    )
    for skill in rng.sample(skills, 60):
        status = rng.choice(list(SkillProgressStatus))
        session.execute(
            text(
                "INSERT INTO user_skill_progress (id, user_id, skill_id, skill_tree_id, status, "
                "progress_percent, completed_at, completion_method) "
                'VALUES (md5(:s || :u), :u, :s, :t, CAST(:status AS "SkillProgressStatus"), '
                ":percent, CASE WHEN :status = 'COMPLETED' THEN now() END, "
                "CASE WHEN :status = 'COMPLETED' THEN 'MANUAL'::\"CompletionMethod\" END)"
            ),
            {
                "s": skill.id,
                "u": learner.id,
                "t": tree.id,
                "status": status.value,
                "percent": rng.choice([0, 12.5, 100 / 3, 100]),
            },
        )

    assert_unchanged(client, session, "generated")
    assert_unchanged(client, session, "generated", learner)
