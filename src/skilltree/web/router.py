"""The web app's page at `/` and its static files, shipped inside the package (no build step).

The page is plain HTML, CSS and JavaScript modules under `static/`; it talks to the API under
/api/v1 like any other client. Its Content-Security-Policy allows scripts, styles and requests
from this origin only, a second wall behind the front end's rule of never inserting markup.

A tree's own page, `/trees/{slug}`, is the same page with link-preview tags (Open Graph and
Twitter's) naming the tree, for whoever shares its address: the app shows it as `#/trees/{slug}`.
"""

from __future__ import annotations

import os
import re
import threading
from functools import cache
from html import escape
from os import PathLike
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

from skilltree.catalog import service
from skilltree.compression import Compressible, accepts_gzip
from skilltree.dependencies import DbSession
from skilltree.errors import NotFound

STATIC_DIR = Path(__file__).parent / "static"

EMBED_HOSTS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com")
"""The video players a content module may embed (static/js/embeds.js lists the same): frames
come from these only."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "frame-src " + " ".join(EMBED_HOSTS),
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The page is small and names its assets; revalidate so a new version is seen at once.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@router.api_route("/", methods=["GET", "HEAD"])
def page() -> FileResponse:
    """The web app's single page; its views live behind `#/...` addresses."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html", headers=PAGE_HEADERS)


SITE_NAME = "SkillTree"
DESCRIPTION_CHARS = 200


@cache
def _shell() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def _summary(text: str) -> str:
    """`text` on one line, cut at a word to about DESCRIPTION_CHARS characters."""
    words = " ".join(text.split())
    if len(words) <= DESCRIPTION_CHARS:
        return words
    return words[: DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0].rstrip(",.;:") + "…"


def preview_tags(title: str, description: str, url: str) -> str:
    """Link-preview tags (Open Graph, Twitter's card, the page's description), every value
    escaped for an HTML attribute."""
    tags = [
        ("name", "description", description),
        ("property", "og:type", "website"),
        ("property", "og:site_name", SITE_NAME),
        ("property", "og:title", title),
        ("property", "og:description", description),
        ("property", "og:url", url),
        ("name", "twitter:card", "summary"),
        ("name", "twitter:title", title),
        ("name", "twitter:description", description),
    ]
    lines = [f'<meta {kind}="{name}" content="{escape(value)}">' for kind, name, value in tags]
    lines.append(f'<link rel="canonical" href="{escape(url)}">')
    return "\n  ".join(lines)


@router.api_route("/trees/{slug}", methods=["GET", "HEAD"])
def tree_page(slug: str, request: Request, session: DbSession) -> HTMLResponse:
    """A tree's own page: the app's page with link-preview tags naming the tree. Only a published
    tree is named (the request is anonymous: a browser sends no bearer token on navigation); for
    another slug the page comes with status 404 and the site's own tags."""
    url = str(request.url.replace(query="", fragment=""))
    try:
        tree = service.visible_tree(session, slug, None)
    except NotFound:
        title, status = SITE_NAME, 404
        description = "Skill trees: learn a subject one skill at a time, in order."
    else:
        title, status = f"{tree.name} · {SITE_NAME}", 200
        description = _summary(tree.short_description or tree.description or tree.name)
    head = f"<title>{escape(title)}</title>\n  {preview_tags(title, description, url)}"
    body = re.sub(r"<title>[^<]*</title>", lambda _: head, _shell(), count=1)
    return HTMLResponse(body, status_code=status, headers=PAGE_HEADERS)


COMPRESSED_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
"""The media types worth compressing (images and fonts are compressed already)."""
_COMPRESSED_FILES: dict[str, tuple[tuple[int, int], Compressible]] = {}
"""Each asset's gzip form, by path, with the (mtime, size) it was made from: one per file of
the package (a few hundred kilobytes), made on the first request that accepts gzip."""
_compressing = threading.Lock()


def _compressed_file(path: str, stat_result: os.stat_result) -> Compressible:
    """The asset at `path` as it is now, its gzip form made once per content."""
    stamp = (stat_result.st_mtime_ns, stat_result.st_size)
    with _compressing:
        kept = _COMPRESSED_FILES.get(path)
        if kept is None or kept[0] != stamp:
            kept = (stamp, Compressible(Path(path).read_bytes()))
            _COMPRESSED_FILES[path] = kept
    return kept[1]


class _StaticAssets(StaticFiles):
    """The app's assets, revalidated on every load (they change with the package, not by name),
    in gzip when the client accepts it (compressed once per file)."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Vary"] = "Accept-Encoding"
        media_type = response.headers.get("content-type", "")
        if (
            response.status_code != 200
            or scope["method"] != "GET"
            or not media_type.startswith(COMPRESSED_TYPES)
            or not accepts_gzip(Headers(scope=scope).get("accept-encoding"))
        ):
            return response
        body = _compressed_file(str(full_path), stat_result)
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in ("content-length", "content-type")
        }
        headers["Content-Encoding"] = "gzip"
        # Weak: another representation than the file's own (If-None-Match matches either).
        headers["etag"] = "W/" + headers["etag"].removeprefix("W/")
        return Response(body.gzip(), 200, headers, media_type)


def install_web(app: FastAPI) -> None:
    """Serve the web app on `app`: the page at `/`, its assets under `/static`."""
    app.include_router(router)
    app.mount("/static", _StaticAssets(directory=STATIC_DIR), name="static")
