"""Projects reviewed by people (issue 14, part 3), through HTTP: submit, the queue, claims,
decisions scored by the rubric, resubmission, mentors; a PROJECT completion only by review."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.metrics import REGISTRY
from skilltree.models import CompletionMethod, UserProfile, UserSkillProgress
from tests.factories import Person, make_person
from tests.reviews.conftest import GOOD, RUBRIC, WORK, Project, claim, review

PROBLEM = "application/problem+json"


def total_xp(session: Session, who: Person) -> int:
    session.expire_all()
    return session.execute(
        select(UserProfile.total_xp).where(UserProfile.user_id == who.id)
    ).scalar_one()


def submitted(client: TestClient, project: Project, learner: Person) -> str:
    project.ready(client, learner)
    made = project.submit(client, learner)
    assert made.status_code == 201, made.text
    return str(made.json()["id"])


def test_an_approved_submission_completes_the_skill_by_project_with_its_reviewer(
    client: TestClient, session: Session, project: Project, learner: Person
) -> None:
    submission = submitted(client, project, learner)
    mine = client.get(f"/api/v1/submissions/{submission}", headers=learner.headers).json()
    assert (mine["status"], mine["round"], mine["text"]) == ("PENDING", 1, "My page")
    assert mine["links"] == [{"url": "https://example.com/repo", "title": "code"}]

    claimed = claim(client, project.author)
    assert claimed.status_code == 200, claimed.text
    assert (claimed.json()["id"], claimed.json()["claimedBy"]) == (submission, project.author.id)
    assert claimed.json()["claimExpiresAt"] is not None
    approved = review(client, project.author, submission, feedback="Well done")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["status"], body["reviewedBy"], body["points"]) == (
        "APPROVED",
        project.author.id,
        5,
    )
    assert body["completion"]["changed"] is True
    assert body["completion"]["xpAwarded"] == 40
    assert total_xp(session, learner) == 50

    row = session.execute(
        select(UserSkillProgress).where(
            UserSkillProgress.user_id == learner.id,
            UserSkillProgress.skill_id == project.skill.id,
        )
    ).scalar_one()
    assert row.completion_method is CompletionMethod.PROJECT
    assert row.evidence_data is not None
    assert row.evidence_data["metadata"]["submissionId"] == submission
    assert row.evidence_data["metadata"]["reviewerId"] == project.author.id

    seen = client.get("/api/v1/me/submissions", headers=learner.headers).json()
    assert seen["total"] == 1
    assert (seen["items"][0]["status"], seen["items"][0]["feedback"]) == ("APPROVED", "Well done")

    again = review(client, project.author, submission, feedback="Well done")
    assert again.json()["repeated"] is True
    assert total_xp(session, learner) == 50


def test_changes_asked_then_a_resubmission_then_approval(
    client: TestClient, session: Session, project: Project, learner: Person
) -> None:
    first = submitted(client, project, learner)
    assert project.submit(client, learner).json()["code"] == "SubmissionPending"
    claim(client, project.author)
    no_feedback = review(client, project.author, first, "REQUEST_CHANGES", {})
    assert no_feedback.status_code == 400
    assert no_feedback.json()["errors"][0]["loc"] == ["feedback"]
    asked = review(client, project.author, first, "REQUEST_CHANGES", {"works": 0}, "Fix the nav")
    assert asked.status_code == 200, asked.text
    assert (asked.json()["status"], asked.json()["completion"]) == ("CHANGES_REQUESTED", None)
    assert total_xp(session, learner) == 10

    mine = client.get(
        f"/api/v1/skills/{project.skill.id}/submissions", headers=learner.headers
    ).json()
    assert [(s["status"], s["feedback"]) for s in mine["items"]] == [
        ("CHANGES_REQUESTED", "Fix the nav")
    ]
    second = project.submit(client, learner, {"text": "Nav fixed"})
    assert second.status_code == 201, second.text
    assert second.json()["round"] == 2
    assert claim(client, project.author).json()["id"] == second.json()["id"]
    assert review(client, project.author, second.json()["id"]).json()["status"] == "APPROVED"
    assert total_xp(session, learner) == 50
    done = project.submit(client, learner)
    assert (done.status_code, done.json()["code"]) == (409, "InvalidTransition")


def test_a_direct_project_completion_is_refused(
    client: TestClient, session: Session, project: Project, learner: Person
) -> None:
    project.ready(client, learner)
    url = f"/api/v1/skills/{project.skill.id}/complete"
    for body in (
        {"method": "PROJECT"},
        {
            "method": "PROJECT",
            "evidence": {"type": "text", "content": "x", "metadata": {"submissionId": "forged"}},
        },
    ):
        refused = client.post(url, json=body, headers=learner.headers)
        assert refused.status_code == 409
        assert refused.headers["content-type"] == PROBLEM
        assert refused.json()["code"] == "ProjectReviewRequired"
        assert refused.json()["submissionsUrl"].endswith(f"/skills/{project.skill.id}/submissions")
    assert total_xp(session, learner) == 10


def test_what_a_submission_is_refused_for(
    client: TestClient, session: Session, project: Project, learner: Person
) -> None:
    locked = project.submit(client, learner)
    assert (locked.status_code, locked.json()["code"]) == (409, "SkillLocked")
    project.ready(client, learner)
    for body, loc in (
        ({}, ["text"]),
        ({"text": "   "}, ["text"]),
        ({"links": [{"url": "javascript:alert(1)"}]}, ["links", 0, "url"]),
    ):
        refused = project.submit(client, learner, body)
        assert refused.status_code == 400, body
        assert refused.json()["errors"][0]["loc"] == loc
    assert project.submit(client, learner, {"links": "x"}).status_code == 422
    not_a_project = client.post(
        f"/api/v1/skills/{project.intro.id}/submissions", json=WORK, headers=learner.headers
    )
    assert not_a_project.status_code == 409
    assert not_a_project.json()["code"] == "CompletionMethodNotAllowed"
    assert not_a_project.json()["allowedMethods"] == ["MANUAL"]
    missing = client.post("/api/v1/skills/nope/submissions", json=WORK, headers=learner.headers)
    assert missing.status_code == 404


def test_an_approval_scores_every_criterion_at_its_minimum(
    client: TestClient, session: Session, project: Project, learner: Person
) -> None:
    submission = submitted(client, project, learner)
    claim(client, project.author)
    for scores, problem in (
        ({"works": 0, "style": 1}, ["scores", "works"]),  # below the minimum 2
        ({"works": 4}, ["scores", "style"]),  # not scored
        ({"works": 3, "style": 1}, ["scores", "works"]),  # not the points of a level
        ({"works": 4, "style": 1, "speed": 1}, ["scores", "speed"]),  # no such criterion
    ):
        refused = review(client, project.author, submission, scores=scores)
        assert refused.status_code == 400, scores
        assert [e["loc"] for e in refused.json()["errors"]] == [problem]
    assert total_xp(session, learner) == 10
    # Asking for changes may score some criteria, below their minimum too.
    asked = review(client, project.author, submission, "REQUEST_CHANGES", {"works": 0}, "Again")
    assert asked.status_code == 200


def test_only_the_reviewer_holding_the_claim_decides(
    client: TestClient, project: Project, learner: Person, admin: Person, other_author: Person
) -> None:
    submission = submitted(client, project, learner)
    unclaimed = review(client, project.author, submission)
    assert (unclaimed.status_code, unclaimed.json()["code"]) == (409, "ReviewNotClaimed")
    assert claim(client, admin).json()["id"] == submission
    taken = review(client, project.author, submission)
    assert (taken.status_code, taken.json()["code"]) == (409, "ReviewNotClaimed")
    stranger = review(client, other_author, submission)
    assert stranger.status_code == 404  # not a tree they review: not even said to exist
    assert claim(client, project.author).status_code == 204  # nothing else to claim
    assert review(client, admin, submission).status_code == 200
    again = review(client, admin, submission, "REQUEST_CHANGES", {}, "Too late")
    assert (again.status_code, again.json()["code"]) == (409, "AlreadyReviewed")


def test_an_abandoned_claim_returns_to_the_queue(
    client: TestClient, session: Session, project: Project, learner: Person, admin: Person
) -> None:
    submission = submitted(client, project, learner)
    assert claim(client, project.author).json()["id"] == submission
    assert claim(client, admin).status_code == 204
    session.execute(
        text(
            "UPDATE project_submissions SET claimable_at = now() - interval '1 second'"
            " WHERE id = :id"
        ),
        {"id": submission},
    )
    reclaimed = claim(client, admin)
    assert (reclaimed.json()["id"], reclaimed.json()["claimedBy"]) == (submission, admin.id)
    assert review(client, project.author, submission).json()["code"] == "ReviewNotClaimed"
    assert review(client, admin, submission).status_code == 200


def test_the_queue_in_priority_order_for_reviewers_only(
    client: TestClient,
    session: Session,
    project: Project,
    learner: Person,
    admin: Person,
    other_author: Person,
) -> None:
    learners = [learner, make_person(session), make_person(session)]
    ids = []
    for who in learners:
        ids.append(submitted(client, project, who))
        session.execute(
            text(
                "UPDATE project_submissions SET submitted_at = now() - make_interval(mins => :m)"
                " WHERE id = :id"
            ),
            {"m": 10 - len(ids), "id": ids[-1]},
        )
    oldest = client.get("/api/v1/reviews/queue", headers=project.author.headers).json()
    assert [s["id"] for s in oldest["items"]] == ids
    assert oldest["total"] == 3
    newest = client.get("/api/v1/reviews/queue?order=newest", headers=admin.headers).json()
    assert [s["id"] for s in newest["items"]] == ids[::-1]
    assert claim(client, project.author, "newest").json()["id"] == ids[2]
    assert claim(client, project.author).json()["id"] == ids[0]
    for outsider in (learner, other_author):
        assert client.get("/api/v1/reviews/queue", headers=outsider.headers).status_code == 403
        assert claim(client, outsider).status_code == 403
    bad = client.get("/api/v1/reviews/queue?order=random", headers=admin.headers)
    assert bad.status_code == 422


def test_a_mentor_reviews_the_trees_submissions_once_named(
    client: TestClient, project: Project, learner: Person, other_author: Person
) -> None:
    submission = submitted(client, project, learner)
    mentor = other_author
    url = f"/api/v1/trees/{project.tree.slug}/mentors"
    assert (
        client.post(
            url, json={"username": mentor.user.username}, headers=learner.headers
        ).status_code
        == 403
    )
    added = client.post(
        url, json={"username": mentor.user.username.upper()}, headers=project.author.headers
    )
    assert added.status_code == 201, added.text
    assert [m["userId"] for m in added.json()] == [mentor.id]
    assert [m["username"] for m in client.get(url, headers=project.author.headers).json()] == [
        mentor.user.username
    ]
    unknown = client.post(url, json={"username": "nobody-here"}, headers=project.author.headers)
    assert unknown.status_code == 400
    assert (
        client.get(f"/api/v1/submissions/{submission}", headers=mentor.headers).status_code == 200
    )
    assert claim(client, mentor).json()["id"] == submission
    assert review(client, mentor, submission).json()["reviewedBy"] == mentor.id

    removed = client.delete(f"{url}/{mentor.id}", headers=project.author.headers)
    assert removed.status_code == 204
    assert (
        client.get(f"/api/v1/submissions/{submission}", headers=mentor.headers).status_code == 404
    )
    assert client.get("/api/v1/reviews/queue", headers=mentor.headers).status_code == 403
    assert client.delete(f"{url}/{mentor.id}", headers=project.author.headers).status_code == 404


def test_the_rubric_is_written_by_the_author_and_read_by_learners(
    client: TestClient, project: Project, learner: Person, other_author: Person
) -> None:
    url = f"/api/v1/skills/{project.skill.id}/rubric"
    seen = client.get(url, headers=learner.headers)
    assert seen.status_code == 200
    assert [c["id"] for c in seen.json()["criteria"]] == ["works", "style"]
    assert seen.json()["criteria"][0]["minimum"] == 2
    assert client.put(url, json=RUBRIC, headers=other_author.headers).status_code == 403
    bad = {
        "criteria": [{"id": "x", "name": "X", "levels": [{"name": "A", "points": 1}], "minimum": 5}]
    }
    refused = client.put(url, json=bad, headers=project.author.headers)
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["loc"] == ["criteria", 0, "minimum"]
    twice = {"criteria": [RUBRIC["criteria"][0], RUBRIC["criteria"][0]]}
    doubled = client.put(url, json=twice, headers=project.author.headers)
    assert (doubled.status_code, doubled.json()["errors"][0]["loc"]) == (400, ["criteria", 1, "id"])
    shapeless = client.put(url, json={"criteria": []}, headers=project.author.headers)
    assert shapeless.status_code == 422
    assert client.delete(url, headers=project.author.headers).status_code == 204
    assert client.get(url, headers=learner.headers).status_code == 404


def test_without_a_rubric_an_approval_takes_no_scores(
    client: TestClient, session: Session, project: Project, learner: Person
) -> None:
    client.delete(f"/api/v1/skills/{project.skill.id}/rubric", headers=project.author.headers)
    submission = submitted(client, project, learner)
    claim(client, project.author)
    refused = review(client, project.author, submission, scores=GOOD)
    assert refused.status_code == 400
    approved = review(client, project.author, submission, scores={})
    assert (approved.json()["status"], approved.json()["points"]) == ("APPROVED", None)
    assert total_xp(session, learner) == 50


def test_an_approval_the_engine_refuses_leaves_the_submission_waiting(
    client: TestClient, session: Session, project: Project, learner: Person
) -> None:
    submission = submitted(client, project, learner)
    claim(client, project.author)
    project.skill.completion_policy = {"MANUAL": {}}
    session.flush()
    refused = review(client, project.author, submission)
    assert (refused.status_code, refused.json()["code"]) == (409, "CompletionMethodNotAllowed")
    still = client.get(f"/api/v1/submissions/{submission}", headers=learner.headers).json()
    assert (still["status"], still["reviewedBy"]) == ("PENDING", None)
    assert total_xp(session, learner) == 10


def test_an_author_never_reviews_their_own_submission(client: TestClient, project: Project) -> None:
    project.ready(client, project.author)
    assert project.submit(client, project.author).status_code == 201
    assert client.get("/api/v1/reviews/queue", headers=project.author.headers).json()["total"] == 0
    assert claim(client, project.author).status_code == 204


def test_an_approval_is_counted_in_the_metrics_progress_events(
    client: TestClient, project: Project, learner: Person
) -> None:
    def completes() -> float:
        found = REGISTRY.get_sample_value("skilltree_progress_events_total", {"kind": "COMPLETE"})
        return found or 0

    submission = submitted(client, project, learner)  # the intro's completion counted too
    before = completes()
    assert claim(client, project.author).status_code == 200
    asked = review(client, project.author, submission, "REQUEST_CHANGES", feedback="More")
    assert asked.status_code == 200, asked.text
    assert completes() == before  # asking for changes completes nothing

    again = project.submit(client, learner)
    assert again.status_code == 201, again.text
    assert claim(client, project.author).status_code == 200
    approved = review(client, project.author, again.json()["id"])
    assert approved.status_code == 200, approved.text
    assert completes() == before + 1
    repeated = review(client, project.author, again.json()["id"])
    assert repeated.json()["repeated"] is True
    assert completes() == before + 1  # a repeated decision is the first one, counted once
