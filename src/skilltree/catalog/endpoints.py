"""Catalog API: categories and trees for everyone; writing trees, skills and prerequisites for
authors (their own trees) and admins (any tree)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from skilltree import compression
from skilltree.catalog import authoring, service
from skilltree.catalog.schemas import (
    Category,
    DependencyList,
    PrerequisiteList,
    SkillCreate,
    SkillDetail,
    SkillUpdate,
    TreeCreate,
    TreeDocument,
    TreeMap,
    TreePage,
    TreePrerequisites,
    TreeStates,
    TreeUpdate,
)
from skilltree.compression import Compressible
from skilltree.dependencies import (
    AuthorUser,
    CurrentUser,
    DbSession,
    OptionalUser,
    Paging,
    finish_early,
    replica_reads,
)
from skilltree.models import DifficultyLevel, User
from skilltree.openapi import Answers
from skilltree.schemas import TreeRef

router = APIRouter(tags=["catalog"])

_TREE_NOT_FOUND: Answers = {
    404: {
        "description": "No tree has this slug that you may see (drafts: their author and admins)."
    }
}
_SKILL_NOT_FOUND: Answers = {404: {"description": "No skill has this id that you may see."}}
_NOT_MODIFIED: Answers = {
    304: {"description": "Your copy (If-None-Match names its ETag) is current."}
}
_IF_NONE_MATCH = Header(description="ETags of copies you hold.")
_ACCEPT_ENCODING = Header(description="`gzip` to get the answer compressed (Content-Encoding).")
_INVALID: Answers = {
    400: {
        "description": "The input breaks a rule (`InvalidInput`); `errors` gives each "
        "field's problem."
    }
}
_CYCLE: Answers = {
    409: {
        "description": "The list would close a cycle (code `DependencyCycle`): `detail` "
        "names it, and `cycle` lists it as [{id, name}], each needing the next, the first "
        "repeated last."
    }
}


def _document(
    session: DbSession,
    slug: str,
    viewer: User | None,
    status: int = 200,
    *,
    from_cache: bool = False,
    if_none_match: str | None = None,
    accept_encoding: str | None = None,
) -> Response:
    # PostgreSQL builds the whole document; sending its text as it is skips a parse and a
    # re-serialisation of up to thousands of skills (see benchmarks/RESULTS.md).
    answer = service.tree_document(
        session, slug, viewer, from_cache=from_cache, if_none_match=if_none_match
    )
    headers = {
        "ETag": answer.etag,
        # Always revalidated (a 304 costs one indexed look-up); a learner's copy is theirs only.
        "Cache-Control": "private, no-cache" if viewer else "no-cache",
        "Vary": "Authorization, Accept-Encoding",
    }
    if answer.body is None:
        return Response(status_code=304, headers=headers)
    if isinstance(answer.body, Compressible):  # a visitor's: the same for all, compressed once
        response, made = compression.respond(
            answer.body, accept_encoding, headers=headers, status_code=status
        )
        if made:
            service.document_compressed(slug, answer.body)
        return response
    # A learner's own: compressing it would cost every request as much as the read itself.
    return Response(answer.body, status_code=status, media_type="application/json", headers=headers)


@router.get("/categories", response_model=list[Category])
@replica_reads()
def list_categories(session: DbSession) -> list[Category]:
    """Active categories, in display order (sort order, then name)."""
    return service.list_categories(session)


@router.get(
    "/trees",
    response_model=TreePage,
    responses={401: {"description": "`mine` needs sign-in, or the token is not valid."}},
)
@replica_reads("anonymous")
def list_trees(
    session: DbSession,
    viewer: OptionalUser,
    paging: Paging,
    category: Annotated[str | None, Query(description="Only trees of this category slug.")] = None,
    difficulty: Annotated[DifficultyLevel | None, Query(description="Only this level.")] = None,
    tag: Annotated[str | None, Query(description="Only trees carrying this tag.")] = None,
    mine: Annotated[
        bool, Query(description="Only the trees you created, drafts included (sign in).")
    ] = False,
    include_unpublished: Annotated[
        bool,
        Query(
            alias="includeUnpublished",
            description="Drafts too: an admin's sees every draft, an author's their own.",
        ),
    ] = False,
) -> TreePage:
    """Published trees, featured first then by name, filtered and paginated; drafts only on
    request and only for their author and admins."""
    return service.browse_trees(
        session,
        paging,
        category_slug=category,
        difficulty=difficulty,
        tag=tag,
        viewer=viewer,
        mine=mine,
        include_unpublished=include_unpublished,
    )


@router.post(
    "/trees",
    status_code=201,
    response_model=TreeDocument,
    responses=_INVALID | {409: {"description": "A tree with this slug already exists."}},
)
def create_tree(body: TreeCreate, session: DbSession, author: AuthorUser) -> Response:
    """Create a tree (a draft unless `isPublished`); you may change it from now on. Answers the
    tree's document."""
    tree = authoring.create_tree(session, body, author)
    return _document(session, tree.slug, author, status=201)


@router.get("/trees/{slug}", response_model=TreeDocument, responses=_TREE_NOT_FOUND | _NOT_MODIFIED)
@replica_reads("anonymous")
def get_tree(
    slug: str,
    session: DbSession,
    viewer: OptionalUser,
    if_none_match: Annotated[str | None, _IF_NONE_MATCH] = None,
    accept_encoding: Annotated[str | None, _ACCEPT_ENCODING] = None,
) -> Response:
    """A tree with its category, prerequisite trees and every active skill (ordered by
    positionY, positionX), each with the ids of its `dependencies` and `dependents`. Drafts are
    served to their author and admins only. Signed in, also your `progress` in the tree and
    `skillStates`: your state in every skill (LOCKED and AVAILABLE derived from prerequisites).
    The `ETag` changes with the tree and with your progress in it; send it back in
    `If-None-Match` to get 304 while your copy is current. Visitors' answers come in gzip when
    Accept-Encoding allows it. For drawing a tree, GET /trees/{slug}/map and
    GET /me/trees/{slug}/states are a tenth of this and the same for everyone."""
    answer = _document(
        session,
        slug,
        viewer,
        from_cache=True,
        if_none_match=if_none_match,
        accept_encoding=accept_encoding,
    )
    finish_early(session)  # it only read: its commit in this trip through the thread pool
    return answer


@router.get("/trees/{slug}/map", response_model=TreeMap, responses=_TREE_NOT_FOUND | _NOT_MODIFIED)
@replica_reads("anonymous")
def get_tree_map(
    slug: str,
    session: DbSession,
    viewer: OptionalUser,
    if_none_match: Annotated[str | None, _IF_NONE_MATCH] = None,
    accept_encoding: Annotated[str | None, _ACCEPT_ENCODING] = None,
) -> Response:
    """What draws a tree: its own fields and, per active skill, its id, name, short name,
    position, node size, XP, minutes, whether optional or a milestone, and its prerequisites
    (as indexes in `skills`); with the learning order. The same for every viewer (drafts: their
    author and admins only), so it is built once per version of the tree and compressed once
    (gzip, when Accept-Encoding allows it). A skill's details: GET /skills/{id}; your states:
    GET /me/trees/{slug}/states. The `ETag` changes with the tree; send it back in
    `If-None-Match` to get 304 while your copy is current."""
    answer = service.tree_map(session, slug, viewer, if_none_match=if_none_match)
    finish_early(session)  # it only read: its commit in this trip through the thread pool
    headers = {
        "ETag": answer.etag,
        "Cache-Control": "private, no-cache" if answer.draft else "no-cache",
        "Vary": "Authorization, Accept-Encoding",
    }
    if answer.body is None:
        return Response(status_code=304, headers=headers)
    response, made = compression.respond(answer.body, accept_encoding, headers=headers)
    if made:
        service.map_compressed(slug, answer.body)
    return response


@router.get(
    "/me/trees/{slug}/states",
    response_model=TreeStates,
    responses=_TREE_NOT_FOUND | _NOT_MODIFIED | {401: {"description": "Sign in first."}},
)
def get_tree_states(
    slug: str,
    session: DbSession,
    learner: CurrentUser,
    if_none_match: Annotated[str | None, _IF_NONE_MATCH] = None,
) -> Response:
    """Your progress in the tree (null when not enrolled) and your state in the skills where it
    differs from the tree's defaults: every skill not listed is AVAILABLE when it needs nothing,
    else LOCKED. `structureVersion` names the version of the tree's map it is of. The `ETag`
    changes with the tree and your progress in it (304 with If-None-Match)."""
    answer = service.tree_states(session, slug, learner, if_none_match=if_none_match)
    finish_early(session)  # it only read: its commit in this trip through the thread pool
    headers = {"ETag": answer.etag, "Cache-Control": "private, no-cache", "Vary": "Authorization"}
    if answer.body is None:
        return Response(status_code=304, headers=headers)
    assert isinstance(answer.body, bytes)
    return Response(answer.body, media_type="application/json", headers=headers)


@router.patch(
    "/trees/{slug}",
    response_model=TreeDocument,
    responses=_INVALID | _TREE_NOT_FOUND | {409: {"description": "Another tree has the new slug."}},
)
def update_tree(slug: str, body: TreeUpdate, session: DbSession, author: AuthorUser) -> Response:
    """Change the fields given (e.g. `isPublished` to publish); answers the tree's document."""
    tree = authoring.update_tree(session, slug, body, author)
    return _document(session, tree.slug, author)


@router.delete("/trees/{slug}", status_code=204, responses=_TREE_NOT_FOUND)
def delete_tree(slug: str, session: DbSession, author: AuthorUser) -> Response:
    """Delete a tree with its skills, their prerequisite edges and learners' progress in it."""
    authoring.delete_tree(session, slug, author)
    return Response(status_code=204)


@router.put("/trees/{slug}/prerequisites", responses=_INVALID | _TREE_NOT_FOUND | _CYCLE)
def set_tree_prerequisites(
    slug: str, body: PrerequisiteList, session: DbSession, author: AuthorUser
) -> TreePrerequisites:
    """Replace the whole list of trees to learn before this one (by slug); a list that would
    close a cycle of trees is refused and the old list stays."""
    trees = authoring.set_tree_prerequisites(session, slug, body.prerequisites, author)
    return TreePrerequisites(prerequisites=[TreeRef.model_validate(t) for t in trees])


@router.post(
    "/trees/{slug}/skills",
    status_code=201,
    responses=_INVALID
    | _TREE_NOT_FOUND
    | {409: {"description": "Another skill of the tree has this key."}},
)
def create_skill(
    slug: str, body: SkillCreate, session: DbSession, author: AuthorUser
) -> SkillDetail:
    """Add a skill to the tree, with its dependencies (ids of skills of the same tree). Without
    `key`, one is made from the name; without a position, it is placed by its topological layer
    (the other skills do not move)."""
    skill = authoring.create_skill(session, slug, body, author)
    return service.describe_skill(session, skill)


@router.get(
    "/skills/{skill_id}",
    response_model=SkillDetail,
    responses=_SKILL_NOT_FOUND | _NOT_MODIFIED,
)
@replica_reads("anonymous")
def get_skill(
    skill_id: str,
    session: DbSession,
    viewer: OptionalUser,
    if_none_match: Annotated[str | None, _IF_NONE_MATCH] = None,
) -> Response:
    """A skill, active or not, with the ids of every skill it needs directly (`dependencies`)
    and of every skill that needs it directly (`dependents`): the details of a skill on a
    tree's map. The `ETag` changes with the skill's tree (304 with If-None-Match)."""
    answer = service.skill_answer(session, skill_id, viewer, if_none_match=if_none_match)
    headers = {"ETag": answer.etag, "Cache-Control": "no-cache", "Vary": "Authorization"}
    if answer.body is None:
        return Response(status_code=304, headers=headers)
    assert isinstance(answer.body, bytes)
    return Response(answer.body, media_type="application/json", headers=headers)


@router.patch(
    "/skills/{skill_id}",
    responses=_INVALID
    | _SKILL_NOT_FOUND
    | {409: {"description": "Another skill of the tree has the key."}},
)
def update_skill(
    skill_id: str, body: SkillUpdate, session: DbSession, author: AuthorUser
) -> SkillDetail:
    """Change the fields given; a skill stays in its tree, and its dependencies are replaced with
    PUT /skills/{id}/dependencies."""
    skill = authoring.update_skill(session, skill_id, body, author)
    return service.describe_skill(session, skill)


@router.delete("/skills/{skill_id}", status_code=204, responses=_SKILL_NOT_FOUND)
def delete_skill(skill_id: str, session: DbSession, author: AuthorUser) -> Response:
    """Delete a skill with its prerequisite edges and learners' progress on it; the skills that
    needed it keep their other dependencies."""
    authoring.delete_skill(session, skill_id, author)
    return Response(status_code=204)


@router.put("/skills/{skill_id}/dependencies", responses=_INVALID | _SKILL_NOT_FOUND | _CYCLE)
def set_dependencies(
    skill_id: str, body: DependencyList, session: DbSession, author: AuthorUser
) -> SkillDetail:
    """Replace the whole list of skills this skill needs directly (ids of skills of the same
    tree), all at once: a list that would close a cycle is refused and the old list stays."""
    skill = authoring.set_dependencies(session, skill_id, body.dependencies, author)
    return service.describe_skill(session, skill)
