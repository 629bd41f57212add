"""Graph API: transitive prerequisites and dependents, critical paths, learning plans.

Every endpoint here only reads, so each may use and keep the in-process tree graphs
(`from_cache=True`). Answers are serialised straight to JSON (the service builds them from
trusted data, without a model per skill); `response_model` still documents them in OpenAPI.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from pydantic_core import to_json

from skilltree.dependencies import DbSession, OptionalUser
from skilltree.graph import service
from skilltree.graph.schemas import CriticalPath, LearningPlan, RelatedSkill

router = APIRouter(tags=["graph"])


def _json(content: bytes | str) -> Response:
    return Response(content=content, media_type="application/json")


@router.get("/skills/{skill_id}/prerequisites", response_model=list[RelatedSkill])
def skill_prerequisites(skill_id: str, session: DbSession, viewer: OptionalUser) -> Response:
    """Every skill this skill needs, at any depth, with its distance (1 = a direct prerequisite),
    nearest first. Only active skills count: an inactive skill is not a prerequisite, nor a step
    between two (its edges are left out), and asking about an inactive skill is a 404."""
    found = service.prerequisites(session, skill_id, viewer, from_cache=True)
    return _json(to_json(found))


@router.get("/skills/{skill_id}/dependents", response_model=list[RelatedSkill])
def skill_dependents(skill_id: str, session: DbSession, viewer: OptionalUser) -> Response:
    """Every skill that needs this skill, at any depth, with its distance (1 = directly), nearest
    first. Only active skills count, as for prerequisites; an inactive skill is a 404."""
    found = service.dependents(session, skill_id, viewer, from_cache=True)
    return _json(to_json(found))


@router.get("/skills/{skill_id}/critical-path", response_model=CriticalPath)
def skill_critical_path(skill_id: str, session: DbSession, viewer: OptionalUser) -> Response:
    """The chain of prerequisites ending at this skill that takes longest (estimated minutes),
    through active skills only; an inactive skill is a 404."""
    path = service.critical_path(session, skill_id, viewer, from_cache=True)
    return _json(path.model_dump_json(by_alias=True))


@router.get("/trees/{slug}/learning-plan", response_model=LearningPlan)
def tree_learning_plan(slug: str, session: DbSession, viewer: OptionalUser) -> Response:
    """The tree's active skills in a valid learning order, and by topological layer."""
    plan = service.learning_plan(session, slug, viewer, from_cache=True)
    return _json(plan.model_dump_json(by_alias=True))
