"""The catalog as learners browse it: categories, trees, one tree with its skills, one skill.
Drafts (unpublished trees) are seen only by their author and admins."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from sqlalchemy.orm import Session

from skilltree import metrics
from skilltree.cache import trees as trees_cache
from skilltree.cache.memory import MB
from skilltree.catalog import repository
from skilltree.catalog.document_cache import (
    AVAILABLE,
    CachedDocument,
    CachedMap,
    StatesTemplate,
    map_key,
    new_document_cache,
)
from skilltree.catalog.schemas import Category, CategoryRef, SkillDetail, TreePage, TreeSummary
from skilltree.catalog.visibility import may_view_tree
from skilltree.compression import Compressible
from skilltree.config import DEFAULT_CACHE_MB
from skilltree.errors import NotAuthenticated, NotFound
from skilltree.graph import service as graph_service
from skilltree.graph.tree_graphs import SkillRow, TreeGraph
from skilltree.models import DifficultyLevel, Skill, SkillProgressStatus, SkillTree, User
from skilltree.progress import states as progress_states
from skilltree.schemas import PageParams


def list_categories(session: Session) -> list[Category]:
    """Every active category, in display order."""
    return [Category.model_validate(c) for c in repository.active_categories(session)]


def visible_tree(session: Session, slug: str, viewer: User | None) -> SkillTree:
    """Tree `slug` as stored now, if `viewer` may see it (drafts: their author and admins);
    else NotFound."""
    tree = repository.find_tree(session, slug)
    if tree is None or not may_view_tree(
        is_published=tree.is_published, created_by=tree.created_by, viewer=viewer
    ):
        raise NotFound(f"No skill tree has the slug {slug!r}.")
    return tree


def browse_trees(
    session: Session,
    paging: PageParams,
    *,
    category_slug: str | None = None,
    difficulty: DifficultyLevel | None = None,
    tag: str | None = None,
    viewer: User | None = None,
    mine: bool = False,
    include_unpublished: bool = False,
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
    rows = repository.list_trees(session, filters, offset=paging.offset, limit=paging.page_size)
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
    return TreePage(items=items, total=total, page=paging.page, page_size=paging.page_size)


DOCUMENTS = new_document_cache(DEFAULT_CACHE_MB * MB // 2)
"""Recent tree documents and maps, kept by read-only requests (see catalog.document_cache); half
of CACHE_MEMORY_MB (`configure_caches`)."""


@dataclass(frozen=True)
class TreeAnswer:
    """GET /trees/{slug}'s answer: its ETag, and the JSON to send (None: the client's copy,
    named by If-None-Match, is current)."""

    etag: str
    body: bytes | Compressible | None
    """A visitor's answer is shared by every visitor (compressed once); a learner's is theirs."""


def tree_document(
    session: Session,
    slug: str,
    viewer: User | None = None,
    *,
    from_cache: bool = False,
    if_none_match: str | None = None,
) -> TreeAnswer:
    """Tree `slug` with all its active skills, and the signed-in viewer's progress, as JSON (a
    TreeDocument) with its ETag; NotFound when there is no such tree or `viewer` may not see it.

    One statement reads the tree's version (and the viewer's rows) and builds the document only
    when no cached copy has that version: the in-process copy, else Redis (when configured).
    `from_cache`: use and keep cached copies; only for requests that wrote nothing (a copy must
    never hold uncommitted data). The ETag names the tree's version and, for a signed-in viewer,
    their rows: it changes whenever the answer does.
    """
    learner_id = viewer.id if viewer else None
    kept = DOCUMENTS.get(slug) if from_cache else None
    known = kept if isinstance(kept, CachedDocument) else None
    store = trees_cache.tree_store() if from_cache else None
    if store is not None and store.paused:
        store = None
    # With Redis or a conditional request, first learn the version (cheap), then build if need be.
    defer = store is not None or if_none_match is not None
    found = _visible(
        repository.tree_document(
            session,
            slug,
            learner_id,
            (known.tree_id, known.version) if known else None,
            build=not defer,
        ),
        slug,
        viewer,
    )
    etag = _etag(found, viewer)
    if if_none_match is not None and _matches(if_none_match, etag):
        return TreeAnswer(etag, None)
    document, found, graph = _document_at_version(
        session, found, known, store, viewer, keep=from_cache
    )
    etag = _etag(found, viewer)  # `found` is read again when the document had to be built
    if viewer is None:
        return TreeAnswer(etag, document.anonymous)
    if graph is None:
        graph = _graph(
            session, document.tree_id, document.version, document.document, keep=from_cache
        )
    progress = found.tree_progress.encode() if found.tree_progress else b"null"
    states = skill_states(graph, document.states_template(graph), found.learner_rows)
    return TreeAnswer(etag, document.for_learner(progress, states))


def _document_at_version(
    session: Session,
    found: repository.TreeDocumentRow,
    known: CachedDocument | None,
    store: trees_cache.TreeStore | None,
    viewer: User | None,
    *,
    keep: bool,
) -> tuple[CachedDocument, repository.TreeDocumentRow, TreeGraph | None]:
    """The document at `found`'s version: `known` if it has it, else the one `found` carries,
    else Redis's, else built now (`found` then read again with it); kept when `keep`. With it,
    the graph when it came with the document (built: the statement's own, kept too when
    `keep`), else None."""
    if known is not None and (known.tree_id, known.version) == (found.tree_id, found.version):
        metrics.TREE_DOCUMENTS.hit()
        return known, found, None
    if keep:
        metrics.TREE_DOCUMENTS.miss()
    document, graph = None, None
    if found.document is None and store is not None:
        stored = store.get(found.tree_id, found.version)
        metrics.REDIS_TREES.found(stored is not None)
        if stored is not None:
            document = CachedDocument(found.tree_id, found.version, stored)
    if document is None:
        if found.document is None:
            again = repository.tree_document(session, found.slug, viewer.id if viewer else None)
            found = _visible(again, found.slug, viewer)
        assert found.document is not None
        assert found.graph is not None
        # The graph the document shows, from its own statement: no second read of the tree,
        # and the learning plan and states always of the document's version.
        graph = graph_of(found.tree_id, found.version, found.graph)
        if keep:
            graph_service.GRAPHS.put(graph.tree_id, graph)
        document = CachedDocument.built(
            found.tree_id, found.version, found.document.encode(), graph
        )
        if store is not None:
            store.put(found.tree_id, found.version, document.document)
    if keep:
        DOCUMENTS.put(found.slug, document)
    return document, found, graph


Found = TypeVar("Found", repository.TreeDocumentRow, repository.TreeMapRow)


def _visible(found: Found | None, slug: str, viewer: User | None) -> Found:
    if found is None or not may_view_tree(
        is_published=found.is_published, created_by=found.created_by, viewer=viewer
    ):
        raise NotFound(f"No skill tree has the slug {slug!r}.")
    return found


def _etag(found: repository.TreeDocumentRow, viewer: User | None) -> str:
    """The tree's id and version, and for a signed-in viewer a digest of their rows in it."""
    if viewer is None:
        return f'"{found.tree_id}.{found.version}"'
    rows = f"{found.learner_rows or ''}|{found.tree_progress or ''}".encode()
    return f'"{found.tree_id}.{found.version}.{hashlib.blake2b(rows, digest_size=12).hexdigest()}"'


def _matches(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match names `etag` (weak comparison, as RFC 9110 asks), or is `*`."""
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


def _graph(
    session: Session, tree_id: str, version: int, document: bytes, *, keep: bool
) -> TreeGraph:
    """The tree's one graph at the document's `version` (graph.service: the cached copy, else
    read in one statement, kept when `keep`); when the tree has changed since the document was
    read, the graph the document itself shows (parsing it costs more than the query)."""
    graph = graph_service.tree_graph(session, tree_id, version, from_cache=keep)
    if graph.version == version:
        return graph
    skills = orjson.loads(document)["skills"]
    return TreeGraph.from_document_skills(tree_id, version, skills)


def skill_states(graph: TreeGraph, template: StatesTemplate, learner_rows: str | None) -> bytes:
    """Every active skill's state for the learner whose rows these are (a JSON array of
    user_skill_progress objects with `skillId`), as a JSON object by skill id in position order:
    `template` (the graph's) with the learner's own values in the places where they differ
    (`state_changes`)."""
    rank = graph.position_rank
    return template.splice(
        (rank[skill], value) for skill, value in state_changes(graph, learner_rows)
    )


def state_changes(graph: TreeGraph, learner_rows: str | None) -> list[tuple[str, bytes]]:
    """The learner's states (skill id, JSON value) that differ from the tree's defaults (a skill
    that needs nothing is AVAILABLE, any other LOCKED), from their rows (a JSON array of
    user_skill_progress objects with `skillId`).

    The rules are progress.states'. Only the skills that could differ from the defaults are
    asked about: those with a row (whose value is their row), and the dependents of satisfied
    skills (a skill with a prerequisite that is not satisfied is LOCKED; one that needs nothing
    is AVAILABLE, as by default); so a request costs in proportion to the learner's rows, not
    the tree.
    """
    rows: dict[str, dict[str, Any]] = {}
    for row in orjson.loads(learner_rows) if learner_rows else ():
        if row["skillId"] in graph.skills:
            rows[row.pop("skillId")] = row
    statuses = {skill: SkillProgressStatus(row["status"]) for skill, row in rows.items()}
    optional, needs, dependents = graph.optional, graph.needs, graph.dependents
    satisfied = progress_states.satisfied_skills(statuses, optional)
    values: list[tuple[str, bytes]] = []
    for skill, row in rows.items():
        row["status"] = progress_states.state_given(skill, needs, statuses, satisfied).value
        values.append((skill, orjson.dumps(row)))
    unlocked: set[str] = set()
    for skill in satisfied:
        unlocked.update(dependents[skill])
    for skill in unlocked:
        if skill not in rows and satisfied.issuperset(needs[skill]):
            values.append((skill, AVAILABLE))
    return values


@dataclass(frozen=True)
class MapAnswer:
    """GET /trees/{slug}/map's answer: its ETag, the map (None: the client's copy is current),
    and whether only its author and admins may see it (a draft)."""

    etag: str
    body: Compressible | None
    draft: bool


def tree_map(
    session: Session, slug: str, viewer: User | None, *, if_none_match: str | None = None
) -> MapAnswer:
    """Tree `slug`'s map (catalog.document_cache.CachedMap) with its ETag; NotFound when there
    is no such tree or `viewer` may not see it. One statement reads the tree's version and
    builds the map only when this process keeps no copy of that version; the copy is kept (the
    request must have written nothing), with the graph the map shows."""
    key = map_key(slug)
    kept = DOCUMENTS.get(key)
    known = kept if isinstance(kept, CachedMap) else None
    found = _visible(
        repository.tree_map(session, slug, (known.tree_id, known.version) if known else None),
        slug,
        viewer,
    )
    etag = f'"map.{found.tree_id}.{found.version}"'
    draft = not found.is_published
    if if_none_match is not None and _matches(if_none_match, etag):
        return MapAnswer(etag, None, draft)
    if known is not None and (known.tree_id, known.version) == (found.tree_id, found.version):
        metrics.TREE_DOCUMENTS.hit()
        return MapAnswer(etag, known.body, draft)
    metrics.TREE_DOCUMENTS.miss()
    assert found.map is not None
    built, graph = CachedMap.built(found.tree_id, found.version, found.map.encode())
    graph_service.GRAPHS.put(graph.tree_id, graph)
    DOCUMENTS.put(key, built)
    return MapAnswer(etag, built.body, draft)


def map_compressed(slug: str, body: Compressible) -> None:
    """Count the compressed form just made of tree `slug`'s kept map in the cache's budget."""
    kept = DOCUMENTS.get(map_key(slug))
    if isinstance(kept, CachedMap) and kept.body is body:
        DOCUMENTS.recount(map_key(slug), kept)


def document_compressed(slug: str, body: Compressible) -> None:
    """Count the compressed form just made of tree `slug`'s kept visitors' document."""
    kept = DOCUMENTS.get(slug)
    if isinstance(kept, CachedDocument) and kept.__dict__.get("anonymous") is body:
        DOCUMENTS.recount(slug, kept)


def tree_states(
    session: Session, slug: str, learner: User, *, if_none_match: str | None = None
) -> TreeAnswer:
    """The learner's progress in tree `slug` and their skill states that differ from the tree's
    defaults, as JSON (a TreeStates) with its ETag; NotFound when they may not see the tree.
    One statement reads the tree's version and the learner's rows; the graph is the cached one
    of that version (kept by the map's read), else read once and kept."""
    found = _visible(
        repository.tree_document(session, slug, learner.id, build=False), slug, learner
    )
    etag = _etag(found, learner)
    if if_none_match is not None and _matches(if_none_match, etag):
        return TreeAnswer(etag, None)
    graph = graph_service.tree_graph(session, found.tree_id, found.version, from_cache=True)
    if graph.version != found.version:  # changed since the statement: the next read is exact
        found = _visible(
            repository.tree_document(session, slug, learner.id, build=False), slug, learner
        )
        etag = _etag(found, learner)
    changes = state_changes(graph, found.learner_rows)
    states = b"{" + b",".join(orjson.dumps(skill) + b":" + value for skill, value in changes) + b"}"
    body = b"".join(
        (
            b'{"structureVersion":',
            str(graph.version).encode(),
            b',"progress":',
            found.tree_progress.encode() if found.tree_progress else b"null",
            b',"skillStates":',
            states,
            b"}",
        )
    )
    return TreeAnswer(etag, body)


def skill_answer(
    session: Session, skill_id: str, viewer: User | None, *, if_none_match: str | None = None
) -> TreeAnswer:
    """GET /skills/{id}'s answer (a SkillDetail) with its ETag: the skill and its tree's
    structure version, bumped by any change to the tree's skills and edges (db/schema/graph.sql);
    NotFound when `viewer` may not see its tree."""
    found = repository.find_skill(session, skill_id)
    if found is None or not may_view_tree(
        is_published=found[1].is_published, created_by=found[1].created_by, viewer=viewer
    ):
        raise NotFound(f"No skill has the id {skill_id!r}.")
    skill, tree = found
    etag = f'"skill.{skill.id}.{tree.structure_version}"'
    if if_none_match is not None and _matches(if_none_match, etag):
        return TreeAnswer(etag, None)
    return TreeAnswer(etag, describe_skill(session, skill).model_dump_json(by_alias=True).encode())


def visible_skill(session: Session, skill_id: str, viewer: User | None) -> Skill:
    """The skill `skill_id`, if `viewer` may see its tree (else NotFound)."""
    found = repository.find_skill(session, skill_id)
    if found is None or not may_view_tree(
        is_published=found[1].is_published, created_by=found[1].created_by, viewer=viewer
    ):
        raise NotFound(f"No skill has the id {skill_id!r}.")
    return found[0]


def skill_detail(session: Session, skill_id: str, viewer: User | None = None) -> SkillDetail:
    """The skill `skill_id` with every prerequisite edge, if `viewer` may see its tree."""
    return describe_skill(session, visible_skill(session, skill_id, viewer))


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


def graph_of(tree_id: str, version: int, graph: str) -> TreeGraph:
    """The TreeGraph in tree_document.sql's `graph` column, at the document's `version`, its
    skills by position as the statement ordered them."""
    skills: dict[str, SkillRow] = {}
    needs: dict[str, tuple[str, ...]] = {}
    # One loop (measured: faster than building the dicts column by column with zip).
    for id_, name, y, x, minutes, optional, xp, milestone, dependencies in orjson.loads(graph):
        skills[id_] = (name, y, x, minutes, optional, xp, milestone)
        # Tuples, not lists, in the graph kept (tree_graphs.SkillRow says why).
        needs[id_] = tuple(dependencies)
    return TreeGraph(tree_id, version, skills, needs, by_position=list(skills))
