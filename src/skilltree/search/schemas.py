"""Search API shapes: the checked query text, ranked hits with snippets, type-ahead suggestions."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from skilltree.schemas import WHITE_SPACE, CamelModel, Page

MAX_QUERY_CHARS = 200
"""Longer query texts are refused (a search box never needs more)."""

ItemType = Literal["skill", "tree"]

_CONTROL = r"\x00-\x1f\x7f-\x9f"  # Unicode's control characters (Cc)
QUERY_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{WHITE_SPACE}][^{_CONTROL}]*$"
"""What `checked_query` takes, for the OpenAPI document: no control character, something other
than white space (a test proves both agree on every character)."""


def checked_query(text: str) -> str:
    """`text` without surrounding white space; refused when empty or holding control characters
    (tabs, line breaks and NUL included: a search box sends none)."""
    if any(unicodedata.category(char) in ("Cc", "Cs") for char in text):
        raise ValueError("must not contain control characters")
    stripped = text.strip()
    if not stripped:
        raise ValueError("must contain something to search for")
    return stripped


QueryText = Annotated[
    str,
    Field(max_length=MAX_QUERY_CHARS, description="What to look for (1 to 200 characters)."),
    AfterValidator(checked_query),
]


class Segment(CamelModel):
    """A piece of a snippet; `match` pieces are the words the query found (clients highlight
    them, escaping every piece: the API sends plain text, never HTML)."""

    text: str
    match: bool


class SearchItem(CamelModel):
    """One hit: a skill, or a tree (whose `treeSlug` and `treeName` are then its own)."""

    type: ItemType
    id: str
    name: str
    tree_slug: str
    tree_name: str
    difficulty: str | None
    category: str | None
    """The slug of the tree's category."""
    tags: list[str]
    """The tree's tags (skills carry none of their own)."""
    snippet: list[Segment]
    score: float
    matched_by: Literal["fulltext", "similarity"]


class SearchPage(Page[SearchItem]):
    """One page of hits, best first, and how many there are in all."""

    query: str


class Suggestion(CamelModel):
    """A type-ahead completion: the name of a skill or tree."""

    text: str
    type: ItemType
    id: str
    tree_slug: str


class SuggestionList(CamelModel):
    """Completions for what has been typed so far, best first."""

    query: str
    suggestions: list[Suggestion]
