"""Graph API: transitive prerequisites and dependents, critical paths, learning plans."""

from __future__ import annotations

from fastapi import APIRouter

from skilltree.dependencies import DbSession, OptionalUser
from skilltree.graph import service
from skilltree.graph.schemas import CriticalPath, LearningPlan, RelatedSkill

router = APIRouter(tags=["graph"])


@router.get("/skills/{skill_id}/prerequisites", response_model=list[RelatedSkill])
def skill_prerequisites(
    skill_id: str, session: DbSession, viewer: OptionalUser
) -> list[RelatedSkill]:
    """Every skill this skill needs, at any depth, with its distance (1 = a direct prerequisite)."""
    return service.prerequisites(session, skill_id, viewer)


@router.get("/skills/{skill_id}/dependents", response_model=list[RelatedSkill])
def skill_dependents(skill_id: str, session: DbSession, viewer: OptionalUser) -> list[RelatedSkill]:
    """Every skill that needs this skill, at any depth, with its distance (1 = directly)."""
    return service.dependents(session, skill_id, viewer)


@router.get("/skills/{skill_id}/critical-path", response_model=CriticalPath)
def skill_critical_path(skill_id: str, session: DbSession, viewer: OptionalUser) -> CriticalPath:
    """The chain of prerequisites ending at this skill that takes longest (estimated minutes)."""
    return service.critical_path(session, skill_id, viewer)


@router.get("/trees/{slug}/learning-plan", response_model=LearningPlan)
def tree_learning_plan(slug: str, session: DbSession, viewer: OptionalUser) -> LearningPlan:
    """The tree's active skills in a valid learning order, and by topological layer."""
    return service.learning_plan(session, slug, viewer)
