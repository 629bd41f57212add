"""Search queries: full-text hits, similar names, type-ahead, and the text-search configuration.

The queries live in this package's `.sql` files, written in psycopg's placeholder style and run as
they are through psycopg (`db.rls.fetch_all`: a request's first one goes in one round trip with
its learner switch and the search settings), so the benchmark's floor executes exactly the same
text through plain psycopg. Every piece of the query text reaches PostgreSQL as a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any, cast

from sqlalchemy import CursorResult, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from skilltree.db.rls import fetch_all

MARK_START, MARK_END = "\x02", "\x03"
"""What ts_headline puts around each match (the documents' own copies are removed first)."""
HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=30, MinWords=12, ShortWord=3"
)


def _query(name: str) -> str:
    package = files("skilltree.search")
    visible_trees = package.joinpath("visible_trees.sql").read_text("utf-8")
    return package.joinpath(name).read_text("utf-8").replace("{visible_trees}", visible_trees)


FULLTEXT_SQL = _query("fulltext.sql")
SIMILAR_SQL = _query("similar.sql")
SUGGEST_SQL = _query("suggest.sql")
# For the rest of the transaction: plans made for each query's own text (a generic plan, which
# PostgreSQL may switch to once psycopg prepares a repeated statement, ranks every row of a
# common word without the GIN index's help: 10 to 50 times slower), and the least word
# similarity of pg_trgm's `<%` operator. They go with the next search statement, in its round
# trip (db.rls.fetch_all); SEARCH_SETTINGS_SQL is the same as a statement of its own (the
# benchmark's floor).
PLAN_CACHE_MODE = "force_custom_plan"
SEARCH_SETTINGS_SQL = (
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
    "set_config('pg_trgm.word_similarity_threshold', %(threshold)s, true)"
)


@dataclass(frozen=True)
class Scope:
    """What a search may return: the viewer's draft rights (from catalog.visibility) and the
    filters. Every field is a bound parameter of the queries."""

    all_drafts: bool = False
    own_drafts: bool = False
    viewer: str | None = None
    type: str | None = None
    category: str | None = None
    difficulty: str | None = None
    tag: str | None = None

    def parameters(self) -> dict[str, Any]:
        """The queries' parameters for this scope."""
        return {
            "all_drafts": self.all_drafts,
            "own_drafts": self.own_drafts,
            "viewer": self.viewer,
            "type": self.type,
            "category": self.category,
            "difficulty": self.difficulty,
            "tag": self.tag,
            "headline": HEADLINE_OPTIONS,
        }


@dataclass(frozen=True)
class Hit:
    """One skill or tree found, with its score and its snippet (matches between the marks)."""

    type: str
    id: str
    name: str
    tree_slug: str
    tree_name: str
    difficulty: str | None
    category: str | None
    tags: list[str]
    score: float
    snippet: str


@dataclass(frozen=True)
class FulltextPage:
    """A page of full-text hits, how many there are, the best score among all of them, and
    whether the query held only negated words (then nothing is looked for)."""

    total: int
    best: float
    only_negations: bool
    hits: list[Hit]


_SETTINGS = "skilltree.search.settings"
"""session.info key: the settings the next search statement is to send first."""


def prepare_search(session: Session, *, similarity_threshold: float) -> None:
    """Settings the search statements need, for the rest of the transaction (see above): sent
    with the next search statement, in its round trip (and with the request's learner switch
    when that has not been sent yet)."""
    session.info[_SETTINGS] = {
        "plan_cache_mode": PLAN_CACHE_MODE,
        "pg_trgm.word_similarity_threshold": str(similarity_threshold),
    }


def _rows(session: Session, statement: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
    return fetch_all(session, statement, parameters, settings=session.info.pop(_SETTINGS, None))


def fulltext(session: Session, q: str, scope: Scope, *, offset: int, limit: int) -> FulltextPage:
    """Full-text hits for `q` (websearch syntax) in `scope`: the window [offset, offset+limit)."""
    parameters = scope.parameters() | {"q": q, "offset": offset, "limit": limit}
    rows = _rows(session, FULLTEXT_SQL, parameters)
    total, best, only_negations = rows[0][:3]
    hits = [Hit(*row[3:]) for row in rows if row[3] is not None]
    return FulltextPage(total, best, only_negations, hits)


def similar(session: Session, q: str, scope: Scope, *, limit: int) -> list[Hit]:
    """At most `limit` skills and trees in `scope` whose names are like `q` (word similarity at
    least the threshold `prepare_search` set) and that the full-text query does not find, most
    similar first."""
    parameters = scope.parameters() | {"q": q, "limit": limit}
    rows = _rows(session, SIMILAR_SQL, parameters)
    return [Hit(*row) for row in rows]


def suggestions(session: Session, q: str, scope: Scope, *, limit: int) -> list[tuple[str, ...]]:
    """(name, type, id, tree slug) of at most `limit` skills and trees in `scope` with a word of
    their name starting with `q`."""
    parameters = scope.parameters() | {"start": like_prefix(q), "limit": limit}
    return _rows(session, SUGGEST_SQL, parameters)


def like_prefix(q: str) -> str:
    """A LIKE pattern matching the texts that start with `q`, every character of it literal."""
    return q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def text_search_config(session: Session) -> str:
    """The text-search configuration the documents are built in."""
    return str(session.scalar(text("SELECT CAST(config AS text) FROM search_configuration")))


def config_exists(session: Session, name: str) -> bool:
    """Whether PostgreSQL has a text-search configuration `name` (as `regconfig` reads it)."""
    try:
        with session.begin_nested():  # a failed cast must not end the caller's transaction
            session.execute(text("SELECT CAST(:name AS regconfig)"), {"name": name})
    except DBAPIError:
        return False
    return True


# A rebuild changes no content, so it leaves updated_at alone (the trigger switch is undone with
# the transaction if the rebuild fails; its lock holds writers off until the commit).
_TIMESTAMP_TRIGGERS = (
    ("skills", "skills_set_updated_at"),
    ("skill_trees", "skill_trees_set_updated_at"),
)


def rebuild_documents(session: Session, config: str) -> tuple[int, int]:
    """Make `config` the configuration of queries and triggers (`search_use_config`,
    db/schema/search.sql), then rebuild every document with it (the triggers recompute a
    document whenever its row is written); returns how many skills and trees were rebuilt."""
    session.execute(
        text("SELECT search_use_config(CAST(:config AS regconfig))"), {"config": config}
    )
    for table, trigger in _TIMESTAMP_TRIGGERS:
        session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
    skills = session.execute(text("UPDATE skills SET search_vector = NULL"))
    trees = session.execute(text("UPDATE skill_trees SET search_vector = NULL"))
    for table, trigger in _TIMESTAMP_TRIGGERS:
        session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}"))
    return cast(CursorResult[Any], skills).rowcount, cast(CursorResult[Any], trees).rowcount
