"""A small fixed corpus for search, people to search as, and a helper that asks the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.models import DifficultyLevel, Skill, SkillTree
from tests.factories import Person, make_category, make_skill, make_tree


@dataclass(frozen=True)
class Corpus:
    """The fixed corpus: trees and skills by a short name."""

    trees: dict[str, SkillTree]
    skills: dict[str, Skill]
    author: Person


@pytest.fixture
def corpus(session: Session, author: Person) -> Corpus:
    """Two published trees and a draft, with skills that mention React in different fields."""
    web = make_category(session, slug="web", name="Web")
    data = make_category(session, slug="data", name="Data")
    trees = {
        "frontend": make_tree(
            session,
            web,
            slug="frontend",
            name="Frontend Development",
            tags=["javascript", "css"],
            difficulty=DifficultyLevel.BEGINNER,
            description="Pages and apps in the browser.",
        ),
        "frameworks": make_tree(
            session,
            web,
            slug="frameworks",
            name="Frameworks Tour",
            tags=["react", "vue"],
            difficulty=DifficultyLevel.INTERMEDIATE,
            description="A tour of component frameworks.",
        ),
        "pandas": make_tree(
            session,
            data,
            slug="pandas",
            name="Python Data Analysis",
            tags=["python"],
            short_description="Tables with pandas",
            description="Clean, reshape and plot data.",
        ),
        "draft": make_tree(
            session,
            web,
            slug="draft",
            name="Secret React Patterns",
            is_published=False,
            created_by=author.user.id,
        ),
    }
    spec: dict[str, tuple[str, dict[str, Any]]] = {
        "react": ("frontend", {"name": "React", "description": "Components and state."}),
        "react-hooks": (
            "frontend",
            {"name": "React Hooks in Depth", "difficulty": DifficultyLevel.ADVANCED},
        ),
        "jsx": ("frontend", {"name": "JSX Syntax", "short_name": "React JSX"}),
        "state": (
            "frontend",
            {"name": "State Management", "description": "Share state between React components."},
        ),
        "testing": (
            "frontend",
            {"name": "Testing Components", "learning_objectives": ["Test a React form"]},
        ),
        "javascript": (
            "frontend",
            {"name": "JavaScript Basics", "description": "Variables, functions, the DOM."},
        ),
        "html": ("frontend", {"name": "HTML Forms", "description": "Inputs and validation."}),
        "xhtml": ("frontend", {"name": "XHTML History", "description": "Strict markup."}),
        "vue": ("frameworks", {"name": "Vue Components", "description": "Single-file components."}),
        "retired": (
            "frontend",
            {"name": "React Class Components", "is_active": False},
        ),
        "dataframes": (
            "pandas",
            {"name": "DataFrames", "description": "Select, filter and group rows of a table."},
        ),
        "draft-skill": ("draft", {"name": "React Server Tricks"}),
    }
    skills = {
        key: make_skill(session, trees[tree], key=key, **values)
        for key, (tree, values) in spec.items()
    }
    return Corpus(trees, skills, author)


def search(
    client: TestClient, q: str, searcher: Person | None = None, **params: Any
) -> dict[str, Any]:
    """GET /search as `searcher` (nobody by default); the body of a 200."""
    response = client.get(
        "/api/v1/search",
        params={"q": q, **params},
        headers=searcher.headers if searcher else None,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def names(body: dict[str, Any]) -> list[str]:
    """The names of the items of a search answer, in order."""
    return [item["name"] for item in body["items"]]
