"""Authors set how each skill may be completed (issue 14, part 1): its completion policy, through
the API, with a default for skills written without one; the database checks its shape."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from skilltree.documents import CompletionPolicy, default_completion_policy
from skilltree.models import SkillTree
from tests.factories import Person, make_category, make_skill, make_tree

QUIZ = [{"type": "quiz", "title": "Quiz", "passingScore": 80}]


@pytest.fixture
def tree(session: Session, author: Person) -> SkillTree:
    """A published tree of `author`, without skills."""
    return make_tree(session, make_category(session), slug="frontend", created_by=author.id)


def add_skill(client: TestClient, person: Person, **fields: Any) -> Any:
    return client.post(
        "/api/v1/trees/frontend/skills", json={"name": "HTML"} | fields, headers=person.headers
    )


def test_a_skill_without_a_policy_is_completed_by_assessment_if_it_has_one_else_manually(
    client: TestClient, tree: SkillTree, author: Person
) -> None:
    plain = add_skill(client, author, key="plain").json()
    assessed = add_skill(client, author, key="assessed", assessments=QUIZ).json()
    nulled = add_skill(client, author, key="nulled", completionPolicy=None).json()

    assert plain["completionPolicy"] == {"MANUAL": {}}
    assert assessed["completionPolicy"] == {"ASSESSMENT": {}}
    assert nulled["completionPolicy"] == {"MANUAL": {}}
    document = client.get("/api/v1/trees/frontend").json()
    assert {s["key"]: s["completionPolicy"] for s in document["skills"]} == {
        "plain": {"MANUAL": {}},
        "assessed": {"ASSESSMENT": {}},
        "nulled": {"MANUAL": {}},
    }


def test_an_author_sets_methods_and_their_parameters(
    client: TestClient, tree: SkillTree, author: Person
) -> None:
    policy = {
        "MANUAL": {},
        "ASSESSMENT": {"passingScore": 72.5},
        "PROJECT": {},
        "TIME_BASED": {"minutes": 90},
        "EXTERNAL": {},
    }
    created = add_skill(client, author, completionPolicy=policy | {"PROJECT": None})
    assert created.status_code == 201, created.text
    del policy["PROJECT"]  # null: left out
    assert created.json()["completionPolicy"] == policy
    fetched = client.get(f"/api/v1/skills/{created.json()['id']}").json()
    assert fetched["completionPolicy"] == policy


def test_patch_changes_the_policy_and_null_brings_back_the_default(
    client: TestClient, tree: SkillTree, author: Person
) -> None:
    skill = add_skill(client, author).json()
    path = f"/api/v1/skills/{skill['id']}"

    def patch(**body: Any) -> Any:
        response = client.patch(path, json=body, headers=author.headers)
        assert response.status_code == 200, response.text
        return response.json()["completionPolicy"]

    assert patch(completionPolicy={"PROJECT": {}}) == {"PROJECT": {}}
    # New assessments alone leave the policy as the author set it.
    assert patch(assessments=QUIZ) == {"PROJECT": {}}
    assert patch(name="HTML5") == {"PROJECT": {}}
    assert patch(completionPolicy=None) == {"ASSESSMENT": {}}
    assert patch(completionPolicy=None, assessments=None) == {"MANUAL": {}}


@pytest.mark.parametrize(
    ("policy", "loc"),
    [
        ({}, ["body", "completionPolicy"]),
        ({"MANUAL": None}, ["body", "completionPolicy"]),
        ({"QUIZ": {}}, ["body", "completionPolicy", "QUIZ"]),
        ({"MANUAL": {"evidence": True}}, ["body", "completionPolicy", "MANUAL", "evidence"]),
        ({"TIME_BASED": {}}, ["body", "completionPolicy", "TIME_BASED", "minutes"]),
        ({"TIME_BASED": {"minutes": 0}}, ["body", "completionPolicy", "TIME_BASED", "minutes"]),
        ({"TIME_BASED": {"minutes": 1.5}}, ["body", "completionPolicy", "TIME_BASED", "minutes"]),
        (
            {"ASSESSMENT": {"passingScore": 101}},
            ["body", "completionPolicy", "ASSESSMENT", "passingScore"],
        ),
        (
            {"ASSESSMENT": {"passingScore": "80"}},
            ["body", "completionPolicy", "ASSESSMENT", "passingScore"],
        ),
        (["MANUAL"], ["body", "completionPolicy"]),
    ],
)
def test_a_malformed_policy_is_refused_naming_its_place(
    client: TestClient, tree: SkillTree, author: Person, policy: Any, loc: list[Any]
) -> None:
    created = add_skill(client, author, completionPolicy=policy)
    assert created.status_code == 422
    assert loc in [e["loc"] for e in created.json()["errors"]]
    skill = add_skill(client, author, key="other").json()
    patched = client.patch(
        f"/api/v1/skills/{skill['id']}", json={"completionPolicy": policy}, headers=author.headers
    )
    assert patched.status_code == 422


def test_the_database_gives_any_writer_the_same_default_as_python(
    session: Session, tree: SkillTree
) -> None:
    for assessments in (None, [], QUIZ):
        skill = make_skill(session, tree, assessments=assessments)
        session.refresh(skill)
        assert skill.completion_policy == default_completion_policy(assessments)


# Candidate policies: each method's parameters are well-formed more often than not, so that
# both sides of the rule are exercised.
JUNK = st.one_of(
    st.integers(-5, 100_005),
    st.floats(-1, 101, allow_nan=False),
    st.sampled_from([True, None, "80", [], {}]),
)
GOOD_PARAMETERS = {
    "MANUAL": st.just({}),
    "PROJECT": st.just({}),
    "EXTERNAL": st.just({}),
    "ASSESSMENT": st.one_of(
        st.just({}),
        st.builds(lambda s: {"passingScore": s}, st.integers(0, 100) | st.floats(0, 100)),
    ),
    "TIME_BASED": st.builds(lambda m: {"minutes": m}, st.integers(1, 100_000)),
}
BAD_PARAMETERS = st.one_of(
    st.dictionaries(st.sampled_from(["passingScore", "minutes", "other"]), JUNK, max_size=2),
    JUNK,
)


@st.composite
def candidate_policies(draw: st.DrawFn) -> Any:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from([None, [], "MANUAL", 1, {}]))
    methods = draw(st.sets(st.sampled_from([*GOOD_PARAMETERS, "QUIZ"]), max_size=4))
    return {
        method: draw(
            GOOD_PARAMETERS[method]
            if method in GOOD_PARAMETERS and draw(st.integers(0, 3))
            else BAD_PARAMETERS
        )
        for method in methods
    }


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(candidate=candidate_policies())
def test_the_databases_check_agrees_with_the_model(connection: Connection, candidate: Any) -> None:
    """What the model refuses, the database's check refuses; what it accepts, normalised, the
    check accepts, and as sent too unless it holds nulls (which the model leaves out)."""
    valid = connection.execute(
        text("SELECT completion_policy_is_valid(CAST(:policy AS jsonb))"),
        {"policy": json.dumps(candidate)},
    ).scalar_one()
    try:
        normalised = CompletionPolicy.model_validate(candidate).model_dump(mode="json")
    except ValidationError:
        assert valid is False
        return
    stored = connection.execute(
        text("SELECT completion_policy_is_valid(CAST(:policy AS jsonb))"),
        {"policy": json.dumps(normalised)},
    ).scalar_one()
    assert stored is True
    assert valid is True or _has_nulls(candidate)


def _has_nulls(value: Any) -> bool:
    return isinstance(value, dict) and any(
        v is None or (isinstance(v, dict) and None in v.values()) for v in value.values()
    )
