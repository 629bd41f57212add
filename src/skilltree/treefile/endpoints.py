"""Tree-file API: import a whole tree from its file, export a tree as one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.requests import ClientDisconnect

from skilltree.dependencies import AuthorUser, DbSession, OptionalUser
from skilltree.openapi import Answers
from skilltree.treefile import service
from skilltree.treefile.schemas import MAX_TREE_FILE_BYTES, ImportSummary, TreeFile

router = APIRouter(tags=["tree files"])

IMPORT_PATH = "/trees/import"

_IMPORT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": f"A tree file (docs/tree-format.md), at most {MAX_TREE_FILE_BYTES} bytes.",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TreeFile"}}},
    }
}
_IMPORT_ANSWERS: Answers = {
    201: {"description": "A new tree was created.", "model": ImportSummary},
    400: {"description": "The file breaks a rule; `errors` lists every problem and its place."},
    401: {"description": "No valid session token."},
    403: {"description": "Not an author, or the published tree belongs to another author."},
    404: {"description": "The slug is another author's draft (answered as GET and PATCH do)."},
    413: {"description": f"The file is larger than {MAX_TREE_FILE_BYTES} bytes."},
    422: {"description": "The body is not a tree file's JSON; `errors` gives each problem."},
}
_EXPORT_ANSWERS: Answers = {
    404: {"description": "No tree with this slug that you may export (drafts: author or admin)."}
}


async def tree_file_body(request: Request) -> bytes:
    """The raw request body (BodySizeLimit has already bounded it for this path)."""
    try:
        return await request.body()
    except ClientDisconnect:
        # The client left, or BodySizeLimit answered 413 and cut the body short: as FastAPI does.
        raise HTTPException(400, "The request body was not received in full.") from None


@router.post(
    IMPORT_PATH,
    response_model=ImportSummary,
    responses=_IMPORT_ANSWERS,
    openapi_extra=_IMPORT_BODY,
)
def import_tree(
    author: AuthorUser,
    body: Annotated[bytes, Depends(tree_file_body)],
    session: DbSession,
    response: Response,
    publish: Annotated[bool, Query(description="Publish the tree too.")] = False,
) -> ImportSummary:
    """Create a tree from a tree file (201), or update the tree of that slug in place (200):
    skills matched by key keep their ids and learners' progress. Nothing is written unless the
    whole file is valid."""
    try:
        summary = service.import_tree(session, body, author=author, publish=publish)
    except service.MalformedTreeFile as exc:
        raise RequestValidationError(
            [{"type": e.type, "loc": ("body", *e.loc), "msg": e.msg} for e in exc.errors]
            or [{"type": "json_invalid", "loc": ("body", exc.position), "msg": exc.message}]
        ) from None
    response.status_code = 201 if summary.tree_created else 200
    return summary


@router.get("/trees/{slug}/export", response_model=TreeFile, responses=_EXPORT_ANSWERS)
def export_tree(slug: str, session: DbSession, viewer: OptionalUser) -> Response:
    """The tree as a tree file: skills in learning order (ties by position y, x, then key)."""
    document = service.export_tree(session, slug, viewer=viewer)
    return Response(document.model_dump_json(), media_type="application/json")
