"""Graph API shapes (camelCase JSON)."""

from __future__ import annotations

from typing import TypedDict

from skilltree.schemas import CamelModel


class RelatedSkill(CamelModel):
    """A skill reached through prerequisites, `depth` edges away (1 = directly)."""

    id: str
    name: str
    depth: int


class RelatedSkillJson(TypedDict):
    """A RelatedSkill as its JSON object: answers built from trusted data (the tree graph) are
    serialised as is, since validating one model per skill would cost more than the search."""

    id: str
    name: str
    depth: int


class PathSkill(CamelModel):
    """A skill on a path, with its estimated minutes."""

    id: str
    name: str
    estimated_minutes: int | None


class CriticalPath(CamelModel):
    """The longest chain of prerequisites (by estimated minutes) that ends at a skill."""

    skills: list[PathSkill]
    total_minutes: int


class LearningPlan(CamelModel):
    """A tree's skills in a valid learning order, and grouped by topological layer."""

    order: list[str]
    layers: list[list[str]]
