"""What the API's role may do with submissions, in SQL: a learner reads only their own; a
reviewer reads only those of the trees they review; nobody writes them but the project_*
functions, which act only for the transaction's user; the engine completes PROJECT only for an
approved submission, whoever calls it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner, act_as_owner
from skilltree.models import UserRole
from tests.factories import Person, make_category, make_person, make_skill, make_tree
from tests.reviews.conftest import Project, claim

DENIED = "permission denied"


def submission_of(client: TestClient, project: Project, who: Person) -> str:
    project.ready(client, who)
    made = project.submit(client, who)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def seen_by(session: Session, who: Person) -> set[str]:
    act_as_learner(session, who.id)
    seen = set(session.execute(text("SELECT id FROM project_submissions")).scalars())
    act_as_owner(session)
    return seen


def test_learners_read_their_own_and_reviewers_their_trees(
    client: TestClient,
    session: Session,
    project: Project,
    learner: Person,
    admin: Person,
    other_author: Person,
) -> None:
    someone = make_person(session)
    mine = submission_of(client, project, learner)
    theirs = submission_of(client, project, someone)
    # Another author's tree, with a submission of its own.
    elsewhere_tree = make_tree(session, make_category(session), created_by=other_author.id)
    elsewhere = make_skill(session, elsewhere_tree, completion_policy={"PROJECT": {}})
    made = client.post(
        f"/api/v1/skills/{elsewhere.id}/submissions", json={"text": "x"}, headers=learner.headers
    )
    assert made.status_code == 201, made.text
    other = made.json()["id"]

    assert seen_by(session, learner) == {mine, other}
    assert seen_by(session, someone) == {theirs}
    assert seen_by(session, project.author) == {mine, theirs}
    assert seen_by(session, other_author) == {other}
    assert seen_by(session, admin) == {mine, theirs, other}
    session.execute(
        text("INSERT INTO tree_mentors (skill_tree_id, mentor_id) VALUES (:t, :m)"),
        {"t": elsewhere_tree.id, "m": someone.id},
    )
    assert seen_by(session, someone) == {theirs, other}
    act_as_learner(session, None)
    assert set(session.execute(text("SELECT id FROM project_submissions")).scalars()) == set()


@pytest.mark.parametrize(
    "write",
    [
        "UPDATE project_submissions SET status = 'APPROVED', reviewed_at = now()",
        "UPDATE project_submissions SET claimable_at = now() + interval '1 year'",
        "DELETE FROM project_submissions",
        "INSERT INTO project_submissions (user_id, id, skill_id, skill_tree_id, round, status,"
        " content, submitted_at, claimable_at) VALUES (:me, 'forged', :s, :t, 9, 'APPROVED',"
        " '{}', now(), now())",
    ],
)
def test_nobody_writes_submissions_but_the_functions(
    client: TestClient, session: Session, project: Project, learner: Person, write: str
) -> None:
    submission_of(client, project, learner)
    for who in (learner, project.author):
        act_as_learner(session, who.id)
        with pytest.raises(ProgrammingError, match=DENIED), session.begin_nested():
            session.execute(
                text(write), {"me": learner.id, "s": project.skill.id, "t": project.tree.id}
            )


def test_the_functions_act_only_for_the_transactions_user(
    client: TestClient, session: Session, project: Project, learner: Person, admin: Person
) -> None:
    mine = submission_of(client, project, learner)
    now = datetime.now(UTC)
    act_as_learner(session, learner.id)
    for call, args in (
        ("SELECT project_claim(:u, :now, false, 60)", {"u": admin.id}),
        ("SELECT project_decide(:u, :s, true, '{}', NULL, :now)", {"u": admin.id, "s": mine}),
        (
            'SELECT project_submit(:u, :s, \'{"text": "x"}\', :now)',
            {"u": admin.id, "s": project.skill.id},
        ),
    ):
        with pytest.raises(DBAPIError, match="only user"), session.begin_nested():
            session.execute(text(call), args | {"now": now})
    # A learner claiming as themselves is no reviewer.
    refused = session.execute(
        text("SELECT project_claim(:u, :now, false, 60)"), {"u": learner.id, "now": now}
    ).scalar_one()
    assert refused == {"refused": "NotAReviewer"}
    act_as_owner(session)
    status = session.execute(
        text("SELECT status, claimed_by FROM project_submissions WHERE id = :s"), {"s": mine}
    ).one()
    assert tuple(status) == ("PENDING", None)


def test_the_engine_refuses_project_without_an_approved_submission_whoever_calls(
    client: TestClient, session: Session, project: Project, learner: Person
) -> None:
    mine = submission_of(client, project, learner)
    claim(client, project.author)  # claimed, not approved
    evidence = {"type": "text", "content": "x", "metadata": {"submissionId": mine}}
    event = (
        "SELECT progress_skill_event('COMPLETE', :u, :s, now(), false, 'PROJECT', NULL, NULL,"
        " CAST(:e AS jsonb))"
    )
    values = {"u": learner.id, "s": project.skill.id, "e": json.dumps(evidence)}
    act_as_learner(session, learner.id)
    assert session.execute(text(event), values).scalar_one()["refused"] == "ReviewRequired"
    act_as_owner(session)  # the owner too
    assert session.execute(text(event), values).scalar_one()["refused"] == "ReviewRequired"


def test_the_api_role_manages_mentors_and_rubrics_but_reads_no_one_elses_submissions(
    session: Session, project: Project, learner: Person
) -> None:
    act_as_learner(session, learner.id)
    privileges = session.execute(
        text(
            "SELECT has_table_privilege('tree_mentors', 'INSERT'),"
            " has_table_privilege('project_rubrics', 'UPDATE'),"
            " has_table_privilege('project_submissions', 'INSERT'),"
            " has_table_privilege('project_submissions', 'UPDATE')"
        )
    ).one()
    assert tuple(privileges) == (True, True, False, False)
    reviewer_of_nothing = session.execute(
        text("SELECT project_reviewed_trees(:u)"), {"u": learner.id}
    ).scalar_one()
    assert reviewer_of_nothing == []
    act_as_owner(session)
    admin = make_person(session, UserRole.ADMIN)
    assert (
        session.execute(text("SELECT project_reviewed_trees(:u)"), {"u": admin.id}).scalar_one()
        is None
    )
