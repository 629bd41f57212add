"""Question banks in tree files: written by an import, exported with their keys only to the
tree's author, admins and the command line."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.models import SkillCategory, UserRole
from skilltree.treefile import service as treefile
from tests.assessments.conftest import EXPLAIN_MARK, KEY_MARK, bank
from tests.factories import Person, make_category, make_person

IMPORT = "/api/v1/trees/import"


def tree_file(category: SkillCategory, **quiz: Any) -> dict[str, Any]:
    return {
        "format": "skilltree.tree",
        "version": 1,
        "tree": {"slug": "quizzed", "name": "Quizzed", "category": category.slug},
        "skills": [
            {"key": "intro", "name": "Intro", "dependencies": []},
            {
                "key": "quiz",
                "name": "Quiz",
                "dependencies": ["intro"],
                "completionPolicy": {"ASSESSMENT": {}},
            }
            | quiz,
        ],
    }


def put_file(client: TestClient, who: Person, document: dict[str, Any]) -> Any:
    return client.post(
        IMPORT + "?publish=true",
        content=json.dumps(document),
        headers=who.headers | {"content-type": "application/json"},
    )


def test_a_bank_goes_in_with_the_file_and_comes_back_to_its_author_only(
    client: TestClient, session: Session, author: Person, learner: Person
) -> None:
    category = make_category(session)
    imported = put_file(client, author, tree_file(category, questionBank=bank(passingScore=50)))
    assert imported.status_code == 201, imported.text
    exported = client.get("/api/v1/trees/quizzed/export", headers=author.headers).json()
    quiz = exported["skills"][1]
    assert quiz["questionBank"]["settings"]["passingScore"] == 50
    assert EXPLAIN_MARK in json.dumps(quiz["questionBank"])
    # The export imports again as it is (keys included), and changes nothing.
    again = put_file(client, author, exported)
    assert again.status_code == 200, again.text
    assert client.get("/api/v1/trees/quizzed/export", headers=author.headers).json() == exported
    # Learners and strangers get the tree without any bank.
    for who in (learner.headers, {}):
        theirs = client.get("/api/v1/trees/quizzed/export", headers=who)
        assert theirs.status_code == 200
        assert [s["questionBank"] for s in theirs.json()["skills"]] == [None, None]
        assert KEY_MARK.lower() not in theirs.text.lower()
        assert EXPLAIN_MARK.lower() not in theirs.text.lower()
    # Learners can attempt it.
    quiz_id = client.get("/api/v1/trees/quizzed", headers=learner.headers).json()
    assert quiz_id is not None
    # The command line exports the keys as well.
    by_operator = treefile.export_tree(session, "quizzed", viewer=None, operator=True)
    assert by_operator.skills[1].questionBank is not None


def test_a_file_without_the_bank_removes_it(
    client: TestClient, session: Session, author: Person
) -> None:
    category = make_category(session)
    put_file(client, author, tree_file(category, questionBank=bank()))
    put_file(client, author, tree_file(category))
    exported = client.get("/api/v1/trees/quizzed/export", headers=author.headers).json()
    assert exported["skills"][1]["questionBank"] is None


def test_a_bank_that_cannot_be_graded_is_refused_at_its_place(
    client: TestClient, session: Session, author: Person
) -> None:
    broken = bank()
    broken["questions"][0]["correct"] = "nope"
    refused = put_file(client, author, tree_file(make_category(session), questionBank=broken))
    assert refused.status_code == 400
    locations = [e["loc"] for e in refused.json()["errors"]]
    assert any(loc[:3] == ["skills", 1, "questionBank"] for loc in locations), locations


def test_an_admin_exports_another_authors_keys(
    client: TestClient, session: Session, author: Person
) -> None:
    put_file(client, author, tree_file(make_category(session), questionBank=bank()))
    admin = make_person(session, UserRole.ADMIN)
    exported = client.get("/api/v1/trees/quizzed/export", headers=admin.headers).json()
    assert exported["skills"][1]["questionBank"] is not None
