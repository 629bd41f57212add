"""A small curriculum and signed-in learners for progress tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree
from tests.api import bearer, sign_up
from tests.factories import add_dependency, make_category, make_skill, make_tree


@dataclass
class Curriculum:
    """html <- css <- layout (milestone); html <- js; (css, js) <- react; tips (optional) <- pro."""

    tree: SkillTree
    skills: dict[str, Skill]

    def id(self, key: str) -> str:
        return self.skills[key].id


@pytest.fixture
def curriculum(session: Session) -> Curriculum:
    tree = make_tree(session, make_category(session, slug="web"), slug="frontend")
    specs = {
        "html": {"xp_value": 50},
        "css": {"xp_value": 75},
        "js": {"xp_value": 100},
        "layout": {"xp_value": 30, "is_milestone": True},
        "react": {"xp_value": 200},
        "tips": {"xp_value": 10, "is_optional": True},
        "pro": {"xp_value": 20},
        "quiz": {
            "xp_value": 40,
            "assessments": [{"id": "final", "type": "quiz", "title": "Final", "passingScore": 70}],
        },
        "gone": {"xp_value": 999, "is_active": False},
    }
    skills = {
        key: make_skill(session, tree, key=key, name=key.upper(), **values)
        for key, values in specs.items()
    }
    for skill, needs in [
        ("css", "html"),
        ("js", "html"),
        ("layout", "css"),
        ("react", "css"),
        ("react", "js"),
        ("pro", "tips"),
        ("quiz", "html"),
        ("quiz", "gone"),
    ]:
        add_dependency(session, skills[skill], skills[needs])
    session.commit()
    return Curriculum(tree=tree, skills=skills)


@pytest.fixture
def learner(client: TestClient) -> dict[str, str]:
    """The Authorization header of a freshly registered learner."""
    token, _ = sign_up(client, email="learner@example.com", username="learner")
    return bearer(token)
