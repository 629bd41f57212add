"""Tree files carry each skill's completion policy (issue 14, part 1): a skill without one gets
the default; export writes every skill's, and the file is the truth on a re-import."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from skilltree.errors import InvalidInput
from skilltree.models import Skill, SkillCategory
from skilltree.treefile import service
from tests.treefile.sample import encode, skill, tree_file

QUIZ = [{"type": "quiz", "title": "Quiz", "passingScore": 80}]


def policies(session: Session) -> dict[str, Any]:
    session.expire_all()
    return {s.key: s.completion_policy for s in session.scalars(select(Skill))}


def exported(session: Session) -> dict[str, Any]:
    document = service.export_tree(session, "frontend", viewer=None, operator=True)
    return json.loads(document.model_dump_json())  # type: ignore[no-any-return]


def test_a_file_without_policies_gets_the_defaults_and_exports_them(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file([skill("plain"), skill("quiz", assessments=QUIZ)])
    service.import_tree(session, encode(document), author=None)

    assert policies(session) == {"plain": {"MANUAL": {}}, "quiz": {"ASSESSMENT": {}}}
    written = exported(session)
    assert [s["completionPolicy"] for s in written["skills"]] == [
        {"MANUAL": {}},
        {"ASSESSMENT": {}},
    ]
    again = service.import_tree(session, encode(written), author=None)
    assert (again.updated, again.unchanged) == (0, 2)
    same = service.import_tree(session, encode(document), author=None)
    assert (same.updated, same.unchanged) == (0, 2)


def test_policies_round_trip_and_a_reimport_sets_them_as_the_file_says(
    session: Session, category: SkillCategory
) -> None:
    policy = {"ASSESSMENT": {"passingScore": 75}, "TIME_BASED": {"minutes": 45}, "EXTERNAL": {}}
    document = tree_file(
        [skill("a", completionPolicy=policy, assessments=QUIZ), skill("b", completionPolicy=None)]
    )
    service.import_tree(session, encode(document), author=None)
    assert policies(session) == {"a": policy, "b": {"MANUAL": {}}}
    first = exported(session)
    assert first["skills"][0]["completionPolicy"] == policy

    # Left out in the file: the default again, whatever the tree had.
    del document["skills"][0]["completionPolicy"]
    summary = service.import_tree(session, encode(document), author=None)
    assert (summary.updated, summary.unchanged) == (1, 1)
    assert policies(session)["a"] == {"ASSESSMENT": {}}
    service.import_tree(session, encode(first), author=None)
    assert exported(session) == first


def test_a_policy_is_checked_where_it_is_in_the_file(
    session: Session, category: SkillCategory
) -> None:
    document = tree_file(
        [
            skill("a", completionPolicy={}),
            skill("b", completionPolicy={"TIME_BASED": {"minutes": 0}, "QUIZ": {}}),
            skill("c", completionPolicy="MANUAL"),
        ]
    )
    with pytest.raises(InvalidInput) as caught:
        service.import_tree(session, encode(document), author=None)
    found = {(service.describe_location(e.loc), e.type) for e in caught.value.errors}
    assert found == {
        ("skills[0].completionPolicy", "value_error"),
        ("skills[1].completionPolicy.TIME_BASED.minutes", "greater_than_equal"),
        ("skills[1].completionPolicy.QUIZ", "extra_forbidden"),
        ("skills[2].completionPolicy", "model_type"),
    }
    assert session.scalars(select(Skill)).first() is None
