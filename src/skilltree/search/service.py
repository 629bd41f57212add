"""Search: ranked full-text hits with a typo-tolerant fallback on names, and type-ahead.

A query first runs as full text (websearch syntax). When that finds nothing, or only weak hits
(no query word in any hit's name, short name or tags), the names most like the query text by
trigram word similarity come first, then the weak full-text hits (docs/search.md).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from skilltree.catalog.visibility import may_view_tree
from skilltree.errors import InvalidInput
from skilltree.models import DifficultyLevel, User
from skilltree.schemas import PageParams
from skilltree.search import repository
from skilltree.search.repository import MARK_END, MARK_START, Hit, Scope
from skilltree.search.schemas import (
    ItemType,
    SearchItem,
    SearchPage,
    Suggestion,
    SuggestionList,
)

WEAK_SCORE = 0.2
"""Full-text hits scoring below this matched no query word in a name, short name or tag (one
word in a name scores 0.61, in a short name or tag 0.24, in a description 0.12)."""
SIMILARITY_THRESHOLD = 0.5
"""The least pg_trgm word similarity for a name to count as like the query (`reakt` and `React`
score 0.5, `javscript` and `JavaScript` 0.62)."""
MIN_PREFIX = 2
"""Type-ahead starts at this many characters: a word-start trigram index cannot narrow one."""
MAX_SIMILAR = 50
"""The most similar names a search adds; past them, only exact words are worth a look."""


def scope_for(
    viewer: User | None,
    *,
    type: ItemType | None = None,
    category: str | None = None,
    difficulty: DifficultyLevel | None = None,
    tag: str | None = None,
) -> Scope:
    """What `viewer` may find, narrowed by the filters. The viewer's draft rights are asked of
    catalog.visibility, the one place that says who sees which tree."""
    viewer_id = viewer.id if viewer else None
    return Scope(
        all_drafts=may_view_tree(is_published=False, created_by=None, viewer=viewer),
        own_drafts=may_view_tree(is_published=False, created_by=viewer_id, viewer=viewer),
        viewer=viewer_id,
        type=type,
        category=category,
        difficulty=difficulty.value if difficulty else None,
        tag=tag,
    )


def search(session: Session, q: str, scope: Scope, paging: PageParams) -> SearchPage:
    """The page `paging` of the skills and trees in `scope` that `q` finds, best first."""
    offset, page_size = paging.offset, paging.page_size
    repository.prepare_search(session, similarity_threshold=SIMILARITY_THRESHOLD)
    found = repository.fulltext(session, q, scope, offset=offset, limit=page_size)
    if found.best >= WEAK_SCORE or found.only_negations:
        return _page(q, paging, found.total, [], found.hits)
    similar = repository.similar(session, q, scope, limit=MAX_SIMILAR)
    # Similar names first, then the weak full-text hits: the window moves past the former.
    shown = similar[offset : offset + page_size]
    fulltext_offset = max(0, offset - len(similar))
    fulltext_limit = page_size - len(shown)
    hits = found.hits
    if (fulltext_offset, fulltext_limit) != (offset, page_size):
        hits = []
        if fulltext_limit > 0 and found.total > fulltext_offset:
            window = repository.fulltext(
                session, q, scope, offset=fulltext_offset, limit=fulltext_limit
            )
            hits = window.hits
    return _page(q, paging, found.total + len(similar), shown, hits)


def _page(
    q: str, paging: PageParams, total: int, similar: list[Hit], fulltext: list[Hit]
) -> SearchPage:
    items = [_item(hit, "similarity") for hit in similar]
    items += [_item(hit, "fulltext") for hit in fulltext]
    return SearchPage(
        items=items, total=total, page=paging.page, page_size=paging.page_size, query=q
    )


def _item(hit: Hit, matched_by: str) -> SearchItem:
    return SearchItem.model_validate(
        {
            "type": hit.type,
            "id": hit.id,
            "name": hit.name,
            "tree_slug": hit.tree_slug,
            "tree_name": hit.tree_name,
            "difficulty": hit.difficulty,
            "category": hit.category,
            "tags": hit.tags,
            "snippet": segments(hit.snippet),
            "score": round(hit.score, 6),
            "matched_by": matched_by,
        }
    )


def segments(snippet: str) -> list[dict[str, str | bool]]:
    """A marked snippet as plain-text segments (`Segment`'s fields), the marked ones flagged as
    matches. Plain dicts: the item's model checks them all at once, far cheaper than a model
    built per segment."""
    pieces: list[dict[str, str | bool]] = []
    for part_number, part in enumerate(snippet.split(MARK_START)):
        matched, _, rest = part.partition(MARK_END) if part_number else ("", "", part)
        if matched:
            pieces.append({"text": matched, "match": True})
        if rest:
            if pieces and not pieces[-1]["match"]:
                pieces[-1] = {"text": f"{pieces[-1]['text']}{rest}", "match": False}
            else:
                pieces.append({"text": rest, "match": False})
    return pieces


def suggest(session: Session, q: str, scope: Scope, *, limit: int) -> SuggestionList:
    """At most `limit` names in `scope` with a word starting with `q`, names starting with it
    first, then shorter ones; nothing for a single character (it would match most names)."""
    rows: list[tuple[str, ...]] = []
    if len(q) >= MIN_PREFIX:
        repository.prepare_search(session, similarity_threshold=SIMILARITY_THRESHOLD)
        rows = repository.suggestions(session, q, scope, limit=limit)
    suggestions = [
        Suggestion.model_validate({"text": text, "type": type, "id": id, "tree_slug": slug})
        for text, type, id, slug in rows
    ]
    return SuggestionList(query=q, suggestions=suggestions)


def reindex(session: Session, config: str) -> tuple[int, int]:
    """Make `config` the text-search configuration and rebuild every search document with it;
    returns how many skills and trees were rebuilt. InvalidInput for an unknown configuration."""
    if not repository.config_exists(session, config):
        raise InvalidInput(f"PostgreSQL has no text-search configuration named {config!r}.")
    return repository.rebuild_documents(session, config)


def current_config(session: Session) -> str:
    """The text-search configuration the search documents are built in."""
    return repository.text_search_config(session)
