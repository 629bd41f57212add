"""Tree files carry each PROJECT skill's rubric (issue 14, part 3): criteria, levels, points and
the minimum per criterion go in with an import and come back out with an export, and a rubric
that breaks a rule is refused at its place in the file, as `PUT /skills/{id}/rubric` refuses it."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.assessments.schemas import QuestionBank
from skilltree.errors import InvalidInput
from skilltree.models import Skill, SkillCategory, UserRole
from skilltree.reviews.schemas import Rubric
from skilltree.treefile import service
from tests.assessments.conftest import bank as assessments_bank
from tests.factories import Person, make_category, make_person
from tests.treefile.sample import RUBRIC, encode, skill, tree_file

PROJECT = {"PROJECT": {}}


def project_file(rubric: Any = RUBRIC, **fields: Any) -> dict[str, Any]:
    """A tree `frontend` with an intro skill and a PROJECT skill `site` having `rubric`."""
    return tree_file(
        [skill("intro"), skill("site", "intro", completionPolicy=PROJECT, rubric=rubric) | fields]
    )


def exported(session: Session) -> dict[str, Any]:
    document = service.export_tree(session, "frontend", viewer=None, operator=True)
    return json.loads(document.model_dump_json())  # type: ignore[no-any-return]


def stored_rubrics(session: Session, slug: str = "frontend") -> dict[str, Any]:
    """The rubrics stored for the skills of tree `slug`, by skill key."""
    rows = session.execute(
        text(
            "SELECT s.key, r.rubric FROM project_rubrics r JOIN skills s ON s.id = r.skill_id"
            " JOIN skill_trees t ON t.id = s.skill_tree_id WHERE t.slug = :slug"
        ),
        {"slug": slug},
    ).tuples()
    return dict(rows.all())


def problems(session: Session, document: dict[str, Any]) -> set[tuple[str, str]]:
    """(location, type) of every problem an import of `document` reports; nothing written."""
    with pytest.raises(InvalidInput) as caught:
        service.import_tree(session, encode(document), author=None)
    assert session.scalars(select(Skill)).first() is None
    return {(service.describe_location(e.loc), e.type) for e in caught.value.errors}


def test_a_rubric_goes_in_with_the_file_and_comes_back_out(
    session: Session, category: SkillCategory
) -> None:
    service.import_tree(session, encode(project_file()), author=None)
    assert stored_rubrics(session) == {"site": RUBRIC}
    first = exported(session)
    assert [s["rubric"] for s in first["skills"]] == [None, RUBRIC]
    again = service.import_tree(session, encode(first), author=None)
    assert (again.updated, again.unchanged) == (0, 2)
    assert exported(session) == first


def test_a_reimport_sets_the_rubric_the_file_says_and_counts_the_skill_updated(
    session: Session, category: SkillCategory
) -> None:
    service.import_tree(session, encode(project_file()), author=None)
    changed = copy.deepcopy(RUBRIC)
    changed["criteria"][1]["minimum"] = 1
    summary = service.import_tree(session, encode(project_file(changed)), author=None)
    assert (summary.updated, summary.unchanged) == (1, 1)
    assert stored_rubrics(session)["site"]["criteria"][1]["minimum"] == 1

    # Left out, or null: the skill has no rubric any more (the file is the truth).
    without = project_file()
    del without["skills"][1]["rubric"]
    summary = service.import_tree(session, encode(without), author=None)
    assert (summary.updated, summary.unchanged) == (1, 1)
    assert stored_rubrics(session) == {}
    summary = service.import_tree(session, encode(project_file(None)), author=None)
    assert (summary.updated, summary.unchanged) == (0, 2)

    # A new skill with a rubric is created (placed after `intro`, which keeps its place), not
    # updated; a removed one takes its rubric along.
    grown = project_file()
    grown["skills"].append(skill("zine", completionPolicy=PROJECT, rubric=RUBRIC))
    summary = service.import_tree(session, encode(grown), author=None)
    assert (summary.created, summary.updated, summary.unchanged) == (1, 1, 1)
    assert set(stored_rubrics(session)) == {"site", "zine"}
    summary = service.import_tree(session, encode(project_file()), author=None)
    assert (summary.removed, summary.updated) == (1, 0)
    assert set(stored_rubrics(session)) == {"site"}


def test_a_reimport_leaves_the_rubrics_of_other_trees_alone(
    session: Session, category: SkillCategory
) -> None:
    service.import_tree(session, encode(project_file()), author=None)
    other = project_file() | {"tree": {"slug": "backend", "name": "B", "category": "web-dev"}}
    service.import_tree(session, encode(other), author=None)
    service.import_tree(session, encode(project_file(None)), author=None)
    assert stored_rubrics(session) == {}
    assert stored_rubrics(session, "backend") == {"site": RUBRIC}
    backend = service.export_tree(session, "backend", viewer=None, operator=True)
    assert backend.skills[1].rubric == RUBRIC


def test_whole_points_are_written_as_integers_and_defaults_filled_in(
    session: Session, category: SkillCategory
) -> None:
    short = {"criteria": [{"id": "a", "name": "A", "levels": [{"name": "L", "points": 3.0}]}]}
    service.import_tree(session, encode(project_file(short)), author=None)
    written = exported(session)["skills"][1]["rubric"]
    assert written == {
        "criteria": [
            {
                "id": "a",
                "name": "A",
                "description": "",
                "levels": [{"name": "L", "points": 3, "description": ""}],
                "minimum": 0,
            }
        ]
    }
    assert '"points":3,' in service.export_tree(
        session, "frontend", viewer=None, operator=True
    ).model_dump_json().replace(" ", "")


LEVELS = st.lists(
    st.floats(0, 1000, allow_nan=False).map(lambda p: round(p, 2)),
    min_size=1,
    max_size=4,
    unique=True,
)
TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=20)


@st.composite
def rubrics(draw: st.DrawFn) -> dict[str, Any]:
    """Any rubric the API would take: distinct ids, distinct points, a minimum of a level."""
    ids = draw(
        st.lists(
            st.from_regex(r"[a-z0-9_.:-]{1,8}", fullmatch=True), min_size=1, max_size=4, unique=True
        )
    )
    criteria = []
    for criterion_id in ids:
        points = draw(LEVELS)
        criterion: dict[str, Any] = {
            "id": criterion_id,
            "name": draw(TEXT.filter(str.strip)),
            "levels": [{"name": f"L{p}", "points": p} for p in points],
        }
        if draw(st.booleans()):
            criterion["minimum"] = draw(st.sampled_from(points))
        if draw(st.booleans()):
            criterion["description"] = draw(TEXT)
        criteria.append(criterion)
    return {"criteria": criteria}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rubric=rubrics())
def test_any_rubric_round_trips(
    session: Session, category: SkillCategory, rubric: dict[str, Any]
) -> None:
    with session.begin_nested() as example:
        service.import_tree(session, encode(project_file(rubric)), author=None)
        first = exported(session)
        written = first["skills"][1]["rubric"]
        # What the API would store and answer for the same rubric.
        assert written == Rubric.model_validate(rubric).stored()
        assert Rubric.model_validate(written) == Rubric.model_validate(rubric)
        again = service.import_tree(session, encode(first), author=None)
        assert (again.updated, again.unchanged) == (0, 2)
        assert exported(session) == first
        example.rollback()


def level(points: Any, name: str = "L") -> dict[str, Any]:
    return {"name": name, "points": points}


def criterion(id: str = "c", *levels: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"id": id, "name": id.upper(), "levels": list(levels) or [level(1)]} | fields


@pytest.mark.parametrize(
    ("rubric", "expected"),
    [
        ("works", {("skills[1].rubric", "dict_type")}),
        ({}, {("skills[1].rubric.criteria", "missing")}),
        ({"criteria": []}, {("skills[1].rubric.criteria", "too_short")}),
        ({"criteria": [criterion()] * 31}, {("skills[1].rubric.criteria", "too_long")}),
        (
            {"criteria": [criterion()], "total": 5},
            {("skills[1].rubric.total", "extra_forbidden")},
        ),
        (
            {"criteria": [criterion("no spaces")]},
            {("skills[1].rubric.criteria[0].id", "string_pattern_mismatch")},
        ),
        (
            {"criteria": [criterion("c", level("3"))]},
            {("skills[1].rubric.criteria[0].levels[0].points", "float_type")},
        ),
        (
            {"criteria": [criterion("c", level(True))]},
            {("skills[1].rubric.criteria[0].levels[0].points", "float_type")},
        ),
        (
            {"criteria": [criterion("c", level(1001))]},
            {("skills[1].rubric.criteria[0].levels[0].points", "less_than_equal")},
        ),
        (
            {"criteria": [criterion("c", level(-1))]},
            {("skills[1].rubric.criteria[0].levels[0].points", "greater_than_equal")},
        ),
        (
            {"criteria": [criterion("c", *[level(n) for n in range(11)])]},
            {("skills[1].rubric.criteria[0].levels", "too_long")},
        ),
        (
            {"criteria": [criterion("c", level(1, ""))]},
            {("skills[1].rubric.criteria[0].levels[0].name", "string_too_short")},
        ),
        (
            {"criteria": [criterion("a"), criterion("b"), criterion("a")]},
            {("skills[1].rubric.criteria[2].id", "duplicate_id")},
        ),
        (
            {"criteria": [criterion("a"), criterion("b", level(2, "x"), level(2.0, "y"))]},
            {("skills[1].rubric.criteria[1].levels", "duplicate_points")},
        ),
        (
            {"criteria": [criterion("a", level(0), level(2), minimum=3)]},
            {("skills[1].rubric.criteria[0].minimum", "minimum_above_levels")},
        ),
    ],
)
def test_each_rubric_rule_is_refused_at_its_place(
    session: Session, category: SkillCategory, rubric: Any, expected: set[tuple[str, str]]
) -> None:
    assert problems(session, project_file(rubric)) == expected


def test_rubric_problems_show_with_the_skills_other_problems(
    session: Session, category: SkillCategory
) -> None:
    document = project_file({"criteria": [criterion("a"), criterion("a")]}, xpValue="ten")
    document["skills"].append(skill("extra", rubric={"criteria": [criterion("b", minimum=5)]}))
    assert problems(session, document) == {
        ("skills[1].xpValue", "int_type"),
        ("skills[1].rubric.criteria[1].id", "duplicate_id"),
        ("skills[2].rubric.criteria[0].minimum", "minimum_above_levels"),
    }


IMPORT = "/api/v1/trees/import?publish=true"


def test_the_api_imports_a_rubric_that_learners_read_and_export(
    client: TestClient, session: Session, author: Person, learner: Person
) -> None:
    make_category(session, slug="web-dev")
    headers = author.headers | {"content-type": "application/json"}
    imported = client.post(IMPORT, content=encode(project_file()), headers=headers)
    assert imported.status_code == 201, imported.text
    site = client.get("/api/v1/trees/frontend", headers=learner.headers).json()
    site_id = next(s["id"] for s in site["skills"] if s["key"] == "site")
    assert client.get(f"/api/v1/skills/{site_id}/rubric", headers=learner.headers).json() == RUBRIC

    # A rubric written through the API is what the next export carries.
    changed = copy.deepcopy(RUBRIC)
    changed["criteria"][0]["name"] = "Runs"
    put = client.put(f"/api/v1/skills/{site_id}/rubric", json=changed, headers=author.headers)
    assert put.status_code == 200, put.text
    for who in (author, learner):
        export = client.get("/api/v1/trees/frontend/export", headers=who.headers)
        assert export.status_code == 200
        assert export.json()["skills"][1]["rubric"] == changed

    refused = client.post(
        IMPORT,
        content=encode(project_file({"criteria": [criterion("a", minimum=9)]})),
        headers=headers,
    )
    assert refused.status_code == 400
    assert refused.json()["errors"] == [
        {
            "loc": ["skills", 1, "rubric", "criteria", 0, "minimum"],
            "msg": "9 is above every level (1)",
            "type": "minimum_above_levels",
        }
    ]
    admin = make_person(session, UserRole.ADMIN)
    assert (
        client.get("/api/v1/trees/frontend/export", headers=admin.headers).json()["skills"][1][
            "rubric"
        ]
        == changed
    )


def test_a_skills_whole_verified_learning_setup_round_trips_through_another_database_copy(
    session: Session, category: SkillCategory
) -> None:
    # Policy, content modules (ids, bodies), question bank with its keys, and rubric together:
    # exported, imported as a copy under another slug, exported again, they are the same.
    quizzed = {"passingScore": 50, "questionsPerAttempt": 2}
    modules = {
        "type": "structured",
        "modules": [
            {"id": "read", "title": "Read", "type": "article", "estimatedMinutes": 10,
             "resources": [], "body": "# Links\n\nUse `<a>`."},
            {"title": "Watch", "type": "video", "estimatedMinutes": 2.5, "resources": []},
        ],
    }  # fmt: skip
    document = project_file(
        completionPolicy={"ASSESSMENT": {"passingScore": 50}, "PROJECT": {}, "TIME_BASED": {
            "minutes": 5}},
        content=modules,
        questionBank=assessments_bank(**quizzed),
    )  # fmt: skip
    service.import_tree(session, encode(document), author=None)
    first = exported(session)
    site = first["skills"][1]
    assert site["questionBank"] == QuestionBank.model_validate(
        document["skills"][1]["questionBank"]
    ).model_dump(mode="json", by_alias=True, exclude_none=True)
    assert (site["content"], site["rubric"]) == (modules, RUBRIC)
    assert site["completionPolicy"] == document["skills"][1]["completionPolicy"]

    copy_of = copy.deepcopy(first)
    copy_of["tree"]["slug"] = "frontend-copy"
    service.import_tree(session, encode(copy_of), author=None)
    again = service.export_tree(session, "frontend-copy", viewer=None, operator=True)
    assert json.loads(again.model_dump_json()) == copy_of
    assert stored_rubrics(session) == stored_rubrics(session, "frontend-copy") == {"site": RUBRIC}
