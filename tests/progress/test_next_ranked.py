"""What next from the stored ranks (one query over the candidates) answers exactly what the
ranking from the tree's graph answers, for random trees and random learner rows."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree.catalog import repository as catalog_repository
from skilltree.models import SkillProgressStatus as Status
from skilltree.models import User
from skilltree.progress import paths, repository
from skilltree.progress.service import learner_tree
from skilltree.treefile import service as treefile
from tests.factories import make_category, make_person

EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@st.composite
def trees(draw: st.DrawFn) -> list[dict[str, Any]]:
    """The skills of a tree file: each needs some of the skills before it; some optional, some
    milestones, some inactive; positions from a small grid, so that ties go down to the id."""
    size = draw(st.integers(1, 14))
    skills = []
    for i in range(size):
        needs = draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set()
        skills.append(
            {
                "key": f"k{i}",
                "name": f"K{i}",
                "dependencies": [f"k{n}" for n in sorted(needs)],
                "position": {"x": draw(st.integers(0, 2)), "y": draw(st.integers(0, 2))},
                "isActive": draw(st.integers(0, 5)) > 0,
                "isOptional": draw(st.booleans()),
                "isMilestone": draw(st.integers(0, 4)) == 0,
            }
        )
    return skills


def import_with_rows(
    session: Session, skills: list[dict[str, Any]], rows: dict[int, Status]
) -> tuple[str, User]:
    """The tree imported (so ranked, as by any tree writer) and a learner with `rows` in it;
    the tree's id and the learner."""
    category = make_category(session)
    tree = {"slug": "next-ranked", "name": "Next", "category": category.slug}
    document = {"format": "skilltree.tree", "version": 1, "tree": tree, "skills": skills}
    treefile.import_tree(session, json.dumps(document), author=None, publish=True)
    tree_id = session.scalar(text("SELECT id FROM skill_trees WHERE slug = 'next-ranked'"))
    assert isinstance(tree_id, str)
    ids = dict(
        session.execute(text("SELECT key, id FROM skills WHERE skill_tree_id = :t"), {"t": tree_id})
        .tuples()
        .all()
    )
    learner = make_person(session).user
    for index, status in rows.items():
        if index < len(skills):  # any status, as rows may be stale after the tree changed
            session.execute(
                text(
                    "INSERT INTO user_skill_progress (id, user_id, skill_id, skill_tree_id,"
                    " status, completed_at, completion_method) VALUES (md5(:s), :u, :s, :t,"
                    " :status, now(), 'MANUAL')"
                ),
                {"s": ids[f"k{index}"], "u": learner.id, "t": tree_id, "status": status.value},
            )
    return tree_id, learner


ROWS = st.dictionaries(st.integers(0, 13), st.sampled_from(list(Status)), max_size=10)


@EXAMPLES
@given(skills=trees(), rows=ROWS, limit=st.sampled_from([1, 3, 50]))
def test_next_from_stored_ranks_is_next_from_the_graph(
    session: Session, skills: list[dict[str, Any]], rows: dict[int, Status], limit: int
) -> None:
    with session.begin_nested() as example:
        tree_id, learner = import_with_rows(session, skills, rows)
        assert repository.next_facts(session, learner.id, tree_id) is not None
        stored = paths.next_skills(session, learner, "next-ranked", limit)
        found = catalog_repository.find_tree(session, "next-ranked")
        assert found is not None
        from_graph = paths.ranked_next(learner_tree(session, learner.id, found), limit)
        assert stored.model_dump(mode="json") == from_graph.model_dump(mode="json")
        example.rollback()


ENROL = "SELECT progress_enrol(:u, 'next-ranked', '2026-12-07T00:00:00Z')::text"
WRITTEN = """
SELECT (SELECT json_agg(json_build_array(skill_id, status, unlocked_at) ORDER BY skill_id)
        FROM user_skill_progress WHERE user_id = :u),
       (SELECT json_agg(json_build_array(kind, skill_id, occurred_at)
                        ORDER BY kind, skill_id COLLATE "C")
        FROM progress_events WHERE user_id = :u)
"""


def enrolled(session: Session, user_id: str) -> tuple[Any, ...]:
    """The answer of enrolling `user_id`, and the rows and events it left."""
    answer = json.loads(str(session.scalar(text(ENROL), {"u": user_id})))
    rows, events = session.execute(text(WRITTEN), {"u": user_id}).one()
    return answer, rows, events


@EXAMPLES
@given(skills=trees(), rows=ROWS)
def test_enrolling_unlocks_the_same_from_stored_ranks_as_from_the_skills(
    session: Session, skills: list[dict[str, Any]], rows: dict[int, Status]
) -> None:
    # progress_enrol_learner writes the roots itself, unchecked, when the stored ranks are
    # current (0045), and passes the rest through progress_unlock's checks: the same answer,
    # rows and events as every candidate checked (the learner's rows from before enrolling
    # included: AVAILABLE or further stay as they are, LOCKED ones of roots unlock).
    with session.begin_nested() as example:
        tree_id, learner = import_with_rows(session, skills, rows)
        with session.begin_nested() as ranked:
            from_ranks = enrolled(session, learner.id)
            ranked.rollback()
        session.execute(
            text("DELETE FROM skill_tree_ranks WHERE skill_tree_id = :t"), {"t": tree_id}
        )
        from_skills = enrolled(session, learner.id)
        assert from_ranks == from_skills
        example.rollback()
