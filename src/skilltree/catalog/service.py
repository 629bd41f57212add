"""The catalog as learners browse it: categories, trees, one tree with its skills, one skill.
Drafts (unpublished trees) are seen only by their author and admins."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from skilltree.catalog import repository
from skilltree.catalog.document_cache import CachedDocument, DocumentCache
from skilltree.catalog.schemas import Category, CategoryRef, SkillDetail, TreePage, TreeSummary
from skilltree.catalog.visibility import may_view_tree
from skilltree.errors import NotAuthenticated, NotFound
from skilltree.models import DifficultyLevel, Skill, SkillProgressStatus, User
from skilltree.progress import states as progress_states


def list_categories(session: Session) -> list[Category]:
    """Every active category, in display order."""
    return [Category.model_validate(c) for c in repository.active_categories(session)]


def browse_trees(
    session: Session,
    *,
    category_slug: str | None = None,
    difficulty: DifficultyLevel | None = None,
    tag: str | None = None,
    viewer: User | None = None,
    mine: bool = False,
    include_unpublished: bool = False,
    page: int = 1,
    page_size: int = 20,
) -> TreePage:
    """One page of the trees that match the filters, featured trees first: published ones, or
    with `mine` only the viewer's own trees, drafts included; `include_unpublished` adds the
    drafts the viewer may see (an admin: all of them)."""
    if mine and viewer is None:
        raise NotAuthenticated("Sign in to list your own trees.")
    filters = repository.TreeFilters(
        category_slug=category_slug,
        difficulty=difficulty,
        tag=tag,
        viewer=viewer,
        mine=mine,
        include_unpublished=include_unpublished,
    )
    total = repository.count_trees(session, filters)
    rows = repository.list_trees(session, filters, offset=(page - 1) * page_size, limit=page_size)
    items = [
        TreeSummary(
            id=tree.id,
            name=tree.name,
            slug=tree.slug,
            short_description=tree.short_description,
            difficulty=tree.difficulty,
            estimated_hours=tree.estimated_hours,
            tags=tree.tags,
            version=tree.version,
            is_published=tree.is_published,
            is_featured=tree.is_featured,
            is_ai_generated=tree.is_ai_generated,
            category=CategoryRef.model_validate(category),
            skill_count=skill_count,
        )
        for tree, category, skill_count in rows
    ]
    return TreePage(items=items, total=total, page=page, page_size=page_size)


DOCUMENTS = DocumentCache()
"""Recent tree documents, kept by read-only requests (see catalog.document_cache)."""


def tree_document(
    session: Session, slug: str, viewer: User | None = None, *, from_cache: bool = False
) -> str:
    """Tree `slug` with all its active skills, and the signed-in viewer's progress, as JSON text
    (a TreeDocument); NotFound when there is no such tree or `viewer` may not see it.

    `from_cache`: use and keep a cached copy while the tree's version is unchanged; only for
    requests that wrote nothing (a copy must never hold uncommitted data).
    """
    known = DOCUMENTS.get(slug) if from_cache else None
    found = repository.tree_document(
        session,
        slug,
        viewer.id if viewer else None,
        (known.tree_id, known.version) if known else None,
    )
    if found is None or not may_view_tree(
        is_published=found.is_published, created_by=found.created_by, viewer=viewer
    ):
        raise NotFound(f"No skill tree has the slug {slug!r}.")
    if found.document is None and known is not None:
        document = known
    else:
        assert found.document is not None
        document = CachedDocument(found.tree_id, found.version, found.document)
        if from_cache:
            DOCUMENTS.put(slug, document)
    head = f"{document.text[:-1]},{document.learning_plan}"
    if viewer is None:
        return head + ',"progress":null,"skillStates":null}'
    states = _skill_states(document, found.learner_rows)
    return (
        f'{head},"progress":{found.tree_progress or "null"},'
        f'"skillStates":{json.dumps(states, separators=(",", ":"))}}}'
    )


def _skill_states(document: CachedDocument, learner_rows: str | None) -> dict[str, Any]:
    """Every active skill's state for the learner whose rows these are (LOCKED/AVAILABLE derived
    from the prerequisites when the learner has no row, as the progress engine decides)."""
    rows = {row.pop("skillId"): row for row in json.loads(learner_rows or "[]")}
    statuses = {
        skill_id: SkillProgressStatus(row["status"])
        for skill_id, row in rows.items()
        if skill_id in document.needs
    }
    result: dict[str, Any] = {}
    for skill_id in document.needs:
        state = progress_states.state_of(skill_id, document.needs, statuses, document.optional)
        result[skill_id] = {**rows.get(skill_id, {}), "status": state.value}
    return result


def skill_detail(session: Session, skill_id: str, viewer: User | None = None) -> SkillDetail:
    """The skill `skill_id` with every prerequisite edge, if `viewer` may see its tree."""
    found = repository.find_skill(session, skill_id)
    if found is None or not may_view_tree(
        is_published=found[1].is_published, created_by=found[1].created_by, viewer=viewer
    ):
        raise NotFound(f"No skill has the id {skill_id!r}.")
    return describe_skill(session, found[0])


def describe_skill(session: Session, skill: Skill) -> SkillDetail:
    """`skill` as stored now (its row is read again), with the ids of its direct prerequisites
    and of the skills that need it directly."""
    session.refresh(skill)
    dependencies, dependents = repository.skill_edges(session, skill.id)
    columns = SkillDetail.model_fields.keys() - {"dependencies", "dependents"}
    return SkillDetail(
        **{name: getattr(skill, name) for name in columns},
        dependencies=dependencies,
        dependents=dependents,
    )
