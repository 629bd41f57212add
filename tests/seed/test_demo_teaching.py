"""The demo teaches (issue 14, part 9): articles and a video, question banks of every kind, a
PROJECT skill with a rubric and a pending submission, a TIME_BASED skill, each with its policy,
written through the services the API uses. (That loading the demo twice changes nothing, these
included, is test_demo.test_loading_the_demo_twice_changes_nothing.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from skilltree.assessments import service as assessments
from skilltree.assessments.schemas import QuestionBank
from skilltree.db.rls import act_as_learner
from skilltree.documents import CompletionPolicy, SkillContent, validate_document
from skilltree.models import Skill, SkillTree, SkillType, User, UserRole
from skilltree.reviews import service as reviews
from skilltree.reviews.schemas import QueueOrder
from skilltree.schemas import PageParams
from skilltree.seed import load_demo
from skilltree.seed.learners import LEARNERS
from skilltree.seed.teaching import AUTHOR, BANKS, PROJECT_SKILL, TIME_BASED_SKILL, TREE
from tests.seed.loading import loaded_once, session_on

KINDS = {"SINGLE_CHOICE", "MULTIPLE_CHOICE", "NUMERIC", "SHORT_TEXT", "ORDERING"}
KEY_FIELDS = ("correct", "answer", "tolerance", "accepted", "pattern", "order", "explanation")


@pytest.fixture(scope="module")
def demo(engine: Engine) -> Iterator[Connection]:
    """A connection that sees the demo data, loaded once for this module."""
    with loaded_once(engine, load_demo) as connection:
        yield connection


def _skills(session: Session) -> dict[str, Skill]:
    tree_id = session.execute(select(SkillTree.id).where(SkillTree.slug == TREE)).scalar_one()
    return {
        skill.short_name or skill.name: skill
        for skill in session.scalars(select(Skill).where(Skill.skill_tree_id == tree_id))
    }


def _author(session: Session) -> User:
    return session.execute(select(User).where(User.email == AUTHOR["email"])).scalar_one()


def test_the_demo_trees_have_an_author_who_may_author(demo: Connection) -> None:
    with session_on(demo) as session:
        author = _author(session)
        assert author.role is UserRole.AUTHOR
        authored = session.scalars(
            select(SkillTree.slug).where(SkillTree.created_by == author.id)
        ).all()
    assert TREE in authored
    assert len(authored) == 6


def test_at_least_five_banked_skills_whose_banks_validate_and_use_every_kind(
    demo: Connection,
) -> None:
    banked = demo.execute(text("SELECT count(*) FROM question_banks")).scalar_one()
    assert banked >= 5
    kinds: set[str] = set()
    with session_on(demo) as session:
        author, skills = _author(session), _skills(session)
        for short_name in BANKS:
            skill = skills[short_name]
            bank = assessments.get_bank(session, skill.id, author)  # keys and all, as stored
            assert QuestionBank.model_validate(bank.model_dump(by_alias=True)) == bank
            assert len(bank.questions) >= 3
            kinds |= {question.kind for question in bank.questions}
            policy = validate_document(CompletionPolicy, skill.completion_policy)
            assert "ASSESSMENT" in policy
    assert kinds == KINDS


def test_a_demo_learner_starts_an_attempt_and_sees_no_key(demo: Connection) -> None:
    with session_on(demo) as session:
        skill = _skills(session)["Python Basics"]  # a root: open to every learner
        learner = session.execute(select(User).where(User.email == LEARNERS[1].email)).scalar_one()
        act_as_learner(session, learner.id)
        attempt = assessments.start_attempt(session, learner, skill.id)
        shown: dict[str, Any] = attempt.model_dump(by_alias=True)
    assert len(shown["questions"]) == len(BANKS["Python Basics"]["questions"])
    for question in shown["questions"]:
        assert not set(question) & set(KEY_FIELDS), question
    explanations = [q["explanation"] for q in BANKS["Python Basics"]["questions"]]
    assert not any(explanation in attempt.model_dump_json() for explanation in explanations)


def test_the_project_has_a_rubric_and_a_pending_submission_in_its_authors_queue(
    demo: Connection,
) -> None:
    with session_on(demo) as session:
        author, project = _author(session), _skills(session)[PROJECT_SKILL]
        assert project.skill_type is SkillType.PROJECT
        assert "PROJECT" in validate_document(CompletionPolicy, project.completion_policy)
        assert reviews.get_rubric(session, project.id, author).criteria
        act_as_learner(session, author.id)
        queue = reviews.queue(session, author, QueueOrder.OLDEST, PageParams())
    pending = [item for item in queue.items if item.skill_id == project.id]
    assert len(pending) == 1
    assert pending[0].status == "PENDING"
    assert pending[0].user_id in {
        demo.execute(text("SELECT id FROM users WHERE email = :e"), {"e": learner.email}).scalar()
        for learner in LEARNERS
    }


def test_one_skill_is_completed_by_time(demo: Connection) -> None:
    with session_on(demo) as session:
        skill = _skills(session)[TIME_BASED_SKILL]
        policy = validate_document(CompletionPolicy, skill.completion_policy)
    assert policy["TIME_BASED"]["minutes"] >= 1
    others = demo.execute(
        text("SELECT count(*) FROM skills WHERE completion_policy ? 'TIME_BASED'")
    ).scalar_one()
    assert others == 1


def test_the_featured_tree_teaches_with_articles_and_an_embeddable_video(
    demo: Connection,
) -> None:
    with session_on(demo) as session:
        skills = _skills(session)
        contents = {
            name: validate_document(SkillContent, skill.content) for name, skill in skills.items()
        }
    for name, content in contents.items():
        articles = [m for m in content["modules"] if m["type"] == "article"]
        assert articles, name
        assert all(m["body"].strip() for m in articles), name
        assert any(r["type"] == "link" for m in articles for r in m["resources"]), name
    videos = [m for c in contents.values() for m in c["modules"] if m["type"] == "video"]
    assert videos
    for video in videos:
        for resource in video["resources"]:
            url = urlsplit(resource["url"])
            assert url.scheme == "https"
            assert url.hostname in {"www.youtube-nocookie.com", "player.vimeo.com"}
