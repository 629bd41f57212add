"""A tree with content modules: `intro` (a video with an id, an article without), `timed`
(TIME_BASED, 15 minutes, two modules of 10 minutes) and `locked` (needs `intro`); and a clock
the content service reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.content import service
from skilltree.models import Skill, SkillTree
from tests.factories import Person, add_dependency, make_category, make_skill, make_tree


def module(title: str, minutes: float, kind: str = "article", **extra: Any) -> dict[str, Any]:
    return {
        "title": title,
        "type": kind,
        "estimatedMinutes": minutes,
        "resources": [{"type": "link", "title": "MDN", "url": "https://developer.mozilla.org/"}],
        **extra,
    }


@dataclass
class Course:
    tree: SkillTree
    intro: Skill
    timed: Skill
    locked: Skill
    author: Person

    def beat(
        self, client: TestClient, skill: Skill, module_id: str, who: Person, **headers: str
    ) -> Any:
        return client.post(
            f"/api/v1/skills/{skill.id}/modules/{module_id}/heartbeat",
            headers=who.headers | headers,
        )


@dataclass
class Clock:
    """The time the content service reads; moved on by tests."""

    now: datetime = field(default_factory=lambda: datetime(2026, 12, 7, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    found = Clock()
    monkeypatch.setattr(service, "_now", found)
    return found


@pytest.fixture
def course(session: Session, author: Person) -> Course:
    tree = make_tree(session, make_category(session), created_by=author.id)
    intro = make_skill(
        session,
        tree,
        xp_value=10,
        content={
            "type": "structured",
            "modules": [module("Intro video", 10, "video", id="intro-video"), module("Read", 5)],
        },
    )
    timed = make_skill(
        session,
        tree,
        xp_value=30,
        completion_policy={"TIME_BASED": {"minutes": 15}},
        content={"type": "structured", "modules": [module("A", 10), module("B", 10)]},
    )
    locked = make_skill(
        session, tree, content={"type": "structured", "modules": [module("Later", 5)]}
    )
    add_dependency(session, locked, intro)
    return Course(tree, intro, timed, locked, author)
