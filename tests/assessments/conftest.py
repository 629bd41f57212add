"""A tree by an author with a skill whose question bank has one question of every kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.models import Skill, SkillTree
from tests.factories import Person, add_dependency, make_category, make_skill, make_tree

KEY_MARK = "KEYMARK7f3a"
"""In every written answer key (accepted answers, patterns): never shown to a learner. (Which
option is right cannot carry a marker: options are shown; the scans check `correct` is not.)"""
EXPLAIN_MARK = "EXPLAINMARK9c1e"
"""In every explanation: shown only with the results."""


def bank(**settings: Any) -> dict[str, Any]:
    """A bank with one question of each kind; `settings` as given."""
    return {
        "settings": settings,
        "questions": [
            {
                "id": "single",
                "kind": "SINGLE_CHOICE",
                "prompt": "Which tag makes a link?",
                "points": 2,
                "explanation": f"An anchor. {EXPLAIN_MARK}",
                "options": [
                    {"id": "a", "text": "<a>"},
                    {"id": "p", "text": "<p>"},
                    {"id": "div", "text": "<div>"},
                ],
                "correct": "a",
            },
            {
                "id": "multi",
                "kind": "MULTIPLE_CHOICE",
                "prompt": "Which are block elements?",
                "explanation": f"div and p. {EXPLAIN_MARK}",
                "options": [
                    {"id": "div", "text": "<div>"},
                    {"id": "p", "text": "<p>"},
                    {"id": "span", "text": "<span>"},
                ],
                "correct": ["div", "p"],
            },
            {
                "id": "number",
                "kind": "NUMERIC",
                "prompt": "How many heading levels does HTML have?",
                "explanation": f"h1 to h6. {EXPLAIN_MARK}",
                "answer": 6,
                "tolerance": 0,
            },
            {
                "id": "text",
                "kind": "SHORT_TEXT",
                "prompt": "The markup language of the web?",
                "explanation": f"HyperText. {EXPLAIN_MARK}",
                "accepted": [f"HTML {KEY_MARK}", "Hypertext Markup Language"],
                "pattern": f"hyper ?text markup( language)?|{KEY_MARK.lower()}",
            },
            {
                "id": "order",
                "kind": "ORDERING",
                "prompt": "Order from outermost in",
                "explanation": f"html, body, p. {EXPLAIN_MARK}",
                "options": [
                    {"id": "html", "text": "<html>"},
                    {"id": "body", "text": "<body>"},
                    {"id": "para", "text": "<p>"},
                ],
            },
        ],
    }


RIGHT = {
    "single": "a",
    "multi": ["p", "div"],
    "number": " 6 ",
    "text": "  hypertext   MARKUP language ",
    "order": ["html", "body", "para"],
}


@dataclass
class Quiz:
    """`skill` (ASSESSMENT only, 40 XP, needs `intro`) in `tree` by `author`, with a bank."""

    tree: SkillTree
    intro: Skill
    skill: Skill
    author: Person

    def put_bank(self, client: TestClient, body: dict[str, Any]) -> Any:
        return client.put(
            f"/api/v1/skills/{self.skill.id}/question-bank", json=body, headers=self.author.headers
        )

    def start(self, client: TestClient, who: Person) -> Any:
        return client.post(f"/api/v1/skills/{self.skill.id}/attempts", headers=who.headers)


@pytest.fixture
def quiz(session: Session, author: Person, client: TestClient) -> Quiz:
    tree = make_tree(session, make_category(session), created_by=author.id)
    intro = make_skill(session, tree, xp_value=10)
    skill = make_skill(
        session, tree, xp_value=40, completion_policy={"ASSESSMENT": {}, "MANUAL": {}}
    )
    add_dependency(session, skill, intro)
    found = Quiz(tree, intro, skill, author)
    assert found.put_bank(client, bank()).status_code == 200
    return found
