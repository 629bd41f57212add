"""What each of a learner's skill rows costs beyond its bytes is paid once per root at enrolment
(issue 12; migration 0045): one referential check of its skill, not two, and no entry in the
completion and activity time indexes while the row has no such time. The rules those keys and
indexes served still hold."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from skilltree.db.base import new_id
from skilltree.graph import ranks
from tests.progress.conftest import Curriculum
from tests.progress.test_unlock_events import learner_id


def test_a_skill_row_is_checked_against_its_skill_by_one_foreign_key(session: Session) -> None:
    keys = session.execute(
        text(
            "SELECT conname FROM pg_constraint WHERE contype = 'f'"
            " AND conrelid = 'user_skill_progress'::regclass AND confrelid = 'skills'::regclass"
        )
    ).scalars()
    assert sorted(keys) == ["user_skill_progress_skill_tree_fkey"]


def test_the_composite_key_still_refuses_a_skill_that_does_not_exist(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    assert client.post("/api/v1/trees/frontend/enroll", headers=learner).status_code == 200
    with pytest.raises(IntegrityError) as refused:
        session.execute(
            text(
                "INSERT INTO user_skill_progress (id, user_id, skill_id, skill_tree_id, status)"
                " VALUES (:id, :user, 'no-such-skill', :tree, 'AVAILABLE')"
            ),
            {"id": new_id(), "user": learner_id(session), "tree": curriculum.tree.id},
        )
    assert refused.value.orig is not None
    assert refused.value.orig.diag.constraint_name == "user_skill_progress_skill_tree_fkey"  # type: ignore[attr-defined]


def test_deleting_a_skill_still_deletes_the_learners_rows_of_it(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    assert client.post("/api/v1/trees/frontend/enroll", headers=learner).status_code == 200
    html = curriculum.id("html")
    rows = "SELECT count(*) FROM user_skill_progress WHERE skill_id = :s"
    assert session.execute(text(rows), {"s": html}).scalar_one() == 1
    session.execute(text("DELETE FROM skills WHERE id = :s"), {"s": html})
    assert session.execute(text(rows), {"s": html}).scalar_one() == 0


@pytest.mark.parametrize(
    ("index", "column"),
    [("idx_skill_completion", "completed_at"), ("idx_skill_progress_activity", "last_activity_at")],
)
def test_rows_without_a_time_add_no_entry_to_its_index(
    session: Session, index: str, column: str
) -> None:
    predicate = session.execute(
        text(
            "SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i"
            " WHERE i.indexrelid = CAST(:index AS regclass)"
        ),
        {"index": index},
    ).scalar_one()
    assert predicate == f"({column} IS NOT NULL)"
    # A read of a time range still goes through it.
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = session.execute(
        text(f"EXPLAIN SELECT skill_id FROM user_skill_progress WHERE {column} >= now()")
    ).scalars()
    assert any(index in line for line in plan)


def test_enrolling_lists_the_roots_and_what_earlier_rows_free_by_id(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    """With the tree's ranks current, the roots are written without progress_unlock's checks and
    what the learner's rows from before enrolling free goes through them (0045): one list, by
    id, each with one UNLOCK event; a root already done stays as it is."""
    ranks.refresh(session, curriculum.tree.id)
    user_id = learner_id(session)
    session.execute(
        text(
            "INSERT INTO user_skill_progress (id, user_id, skill_id, skill_tree_id, status,"
            " completed_at, completion_method) VALUES (:id, :user, :skill, :tree, 'COMPLETED',"
            " now(), 'MANUAL')"
        ),
        {
            "id": new_id(),
            "user": user_id,
            "skill": curriculum.id("html"),
            "tree": curriculum.tree.id,
        },
    )
    session.commit()
    assert session.scalar(
        text("SELECT EXISTS (SELECT FROM skill_tree_ranks WHERE skill_tree_id = :t)"),
        {"t": curriculum.tree.id},
    )
    answer = client.post("/api/v1/trees/frontend/enroll", headers=learner)
    assert answer.status_code == 200, answer.text
    unlocked = [skill["id"] for skill in answer.json()["unlocked"]]
    # tips: a root; css, js, quiz: free once html is done (quiz's other prerequisite is inactive).
    assert unlocked == sorted(curriculum.id(key) for key in ("tips", "css", "js", "quiz"))
    events = session.execute(
        text("SELECT skill_id FROM progress_events WHERE user_id = :u AND kind = 'UNLOCK'"),
        {"u": user_id},
    ).scalars()
    assert sorted(events) == unlocked
    status = "SELECT status::text FROM user_skill_progress WHERE user_id = :u AND skill_id = :s"
    assert session.scalar(text(status), {"u": user_id, "s": curriculum.id("html")}) == "COMPLETED"


@pytest.mark.parametrize("ranked", [True, False])
def test_an_enrolment_counts_the_trees_active_skills_whether_or_not_its_ranks_are_current(
    client: TestClient,
    curriculum: Curriculum,
    learner: dict[str, str],
    session: Session,
    ranked: bool,
) -> None:
    """total_skills is the tree's active skills: read from the count its writers stored with
    its ranks when those are current (0046: counting them was most of enrolling in a tree of
    10,000 skills), counted when they are not (a change by plain SQL)."""
    tree_id = curriculum.tree.id
    ranks.refresh(session, tree_id)
    if not ranked:
        forget = "DELETE FROM skill_tree_ranks WHERE skill_tree_id = :t"
        session.execute(text(forget), {"t": tree_id})
    session.commit()
    active = session.scalar(
        text("SELECT count(*) FROM skills WHERE skill_tree_id = :t AND is_active"), {"t": tree_id}
    )
    inactive = session.scalar(
        text("SELECT count(*) FROM skills WHERE skill_tree_id = :t AND NOT is_active"),
        {"t": tree_id},
    )
    # The curriculum has both: the count must leave the inactive ones out.
    assert active
    assert inactive
    answer = client.post("/api/v1/trees/frontend/enroll", headers=learner)
    assert answer.status_code == 200, answer.text
    total = session.scalar(
        text(
            "SELECT total_skills FROM user_skill_tree_progress"
            " WHERE user_id = :u AND skill_tree_id = :t"
        ),
        {"u": learner_id(session), "t": tree_id},
    )
    assert total == active


def test_an_enrolment_in_a_ranked_tree_reads_the_stored_count_without_counting(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    """The count comes from skill_tree_ranks, not from a scan of the tree's skills: a stored
    count that differs (never so in use: test_ranks proves the writers keep it exact) is what
    the enrolment records."""
    tree_id = curriculum.tree.id
    ranks.refresh(session, tree_id)
    session.execute(
        text("UPDATE skill_tree_ranks SET active_skills = 1234 WHERE skill_tree_id = :t"),
        {"t": tree_id},
    )
    session.commit()
    answer = client.post("/api/v1/trees/frontend/enroll", headers=learner)
    assert answer.status_code == 200, answer.text
    total = session.scalar(
        text("SELECT total_skills FROM user_skill_tree_progress WHERE user_id = :u"),
        {"u": learner_id(session)},
    )
    assert total == 1234
