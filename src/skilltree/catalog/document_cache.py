"""An in-process copy of recent tree documents, each valid while its tree's version is unchanged.

The database bumps `skill_trees.structure_version` on every change to what a document shows
(triggers in db/schema/graph.sql), and the one statement that serves a tree reads the version before
anything is used: a stale copy is never served, from any writer. Only committed data is cached:
copies are made by read-only requests, which see nothing uncommitted.

A copy keeps the bytes to send, not a parsed document: the graph that skill states and the
learning plan come from is the tree's one `TreeGraph` (graph.tree_graphs), per version, kept in the
graph cache. The copies are bounded by the bytes they take (cache.memory): a copy counts its
document twice, with the answer for visitors made from it (or the learners' `StatesTemplate`).

A signed-in learner's answer is the copy's bytes followed by their progress and their state in
every skill: the states of a learner with no rows (`StatesTemplate`, made once per version) with
the learner's own values put in the places of the skills where they differ. So a request's work
in Python follows the learner's rows, not the tree.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable
from functools import cached_property

import orjson

from skilltree.cache.memory import MemoryCache
from skilltree.compression import Compressible
from skilltree.graph.tree_graphs import SkillRow, TreeGraph
from skilltree.models import SkillProgressStatus

AVAILABLE = orjson.dumps({"status": SkillProgressStatus.AVAILABLE.value})
LOCKED = orjson.dumps({"status": SkillProgressStatus.LOCKED.value})


class StatesTemplate:
    """`skillStates` (a JSON object by skill id, in position order) for a learner with no rows
    in the tree: the skills that need nothing AVAILABLE, the others LOCKED; and where each
    skill's value lies in it, by its position rank, so that a learner's own values can be put in
    their places without serialising the rest again (`splice`)."""

    def __init__(self, graph: TreeGraph) -> None:
        self.version = graph.version
        roots = graph.roots
        pieces: list[bytes] = []
        # Offsets of each value's first byte and of the byte after it; arrays of machine
        # integers: compact, and nothing for the garbage collector to look at.
        self.starts = array("q")
        self.ends = array("q")
        at = 1  # after "{"
        for rank, skill in enumerate(graph.by_position):
            key = orjson.dumps(skill)
            value = AVAILABLE if skill in roots else LOCKED
            piece = (b"," if rank else b"") + key + b":" + value
            at += len(piece)
            self.starts.append(at - len(value))
            self.ends.append(at)
            pieces.append(piece)
        self.text = b"{" + b"".join(pieces) + b"}"
        """The JSON object itself."""

    def splice(self, values: Iterable[tuple[int, bytes]]) -> bytes:
        """The JSON object with each (position rank, JSON value) of `values` in its skill's place
        (each rank at most once)."""
        text = memoryview(self.text)
        pieces: list[bytes | memoryview] = []
        at = 0
        starts, ends = self.starts, self.ends
        for rank, value in sorted(values):
            pieces.append(text[at : starts[rank]])
            pieces.append(value)
            at = ends[rank]
        pieces.append(text[at:])
        return b"".join(pieces)


ANONYMOUS_TAIL = b',"progress":null,"skillStates":null}'
"""The end of the document for a visitor who is not signed in."""


class CachedDocument:
    """A tree's document at a version, with its learning plan, as bytes ready to send (and as
    Redis keeps it)."""

    def __init__(self, tree_id: str, version: int, document: bytes) -> None:
        self.tree_id = tree_id
        self.version = version
        self.document = document
        """The TreeDocument without the viewer's parts: a JSON object."""
        self._states: StatesTemplate | None = None
        self._lock = threading.Lock()

    @classmethod
    def built(cls, tree_id: str, version: int, text: bytes, graph: TreeGraph) -> CachedDocument:
        """The document PostgreSQL built (`text`), with the learning plan of `graph` added."""
        plan = graph.learning_order
        document = b"".join(
            (
                text[:-1],
                b',"learningOrder":',
                orjson.dumps(plan.order),
                b',"layers":',
                orjson.dumps(plan.layers),
                b"}",
            )
        )
        return cls(tree_id, version, document)

    @cached_property
    def anonymous(self) -> Compressible:
        """The whole answer for a visitor who is not signed in (compressed on demand, once)."""
        return Compressible(self.document[:-1] + ANONYMOUS_TAIL)

    def states_template(self, graph: TreeGraph) -> StatesTemplate:
        """The learners' `StatesTemplate` of this version, made from its `graph` on first use."""
        if graph.version != self.version:
            raise ValueError(f"graph of version {graph.version}, document of {self.version}")
        if self._states is None:
            with self._lock:
                if self._states is None:
                    self._states = StatesTemplate(graph)
        return self._states

    def for_learner(self, progress: bytes, states: bytes) -> bytes:
        """The whole answer for a signed-in learner: their tree `progress` and skill `states`
        (JSON) added to the document. One copy of the document (0.1 ms a MiB here): sending it
        in parts would not spare it, as the server's HTTP layer (h11) copies every part it is
        given but a lone bytes object, and a second part waits for the first to drain."""
        return b"".join(
            (
                memoryview(self.document)[:-1],
                b',"progress":',
                progress,
                b',"skillStates":',
                states,
                b"}",
            )
        )


class CachedMap:
    """A tree's map at a version (tree_map.sql's, with the learning plan added), as bytes ready
    to send to anyone, compressed on demand once."""

    def __init__(self, tree_id: str, version: int, body: bytes) -> None:
        self.tree_id = tree_id
        self.version = version
        self.body = Compressible(body)

    @classmethod
    def built(cls, tree_id: str, version: int, text: bytes) -> tuple[CachedMap, TreeGraph]:
        """The map PostgreSQL built (`text`), with the learning plan added, and the graph it
        shows (read from the map itself: no second query of the tree)."""
        skills = orjson.loads(text)["skills"]
        ids = [skill[0] for skill in skills]
        rows: dict[str, SkillRow] = {}
        needs: dict[str, tuple[str, ...]] = {}
        # [id, name, shortName, x, y, nodeSize, xp, minutes, optional, milestone, dependencies]
        for id_, name, _, x, y, _, xp, minutes, optional, milestone, dependencies in skills:
            rows[id_] = (name, y, x, minutes, optional, xp, milestone)
            needs[id_] = tuple(ids[rank] for rank in dependencies)
        graph = TreeGraph(tree_id, version, rows, needs, by_position=ids)
        rank = graph.position_rank
        plan = graph.learning_order
        body = b"".join(
            (
                text[:-1],
                b',"learningOrder":',
                orjson.dumps([rank[skill] for skill in plan.order]),
                b',"layers":',
                orjson.dumps([[rank[skill] for skill in layer] for layer in plan.layers]),
                b"}",
            )
        )
        return cls(tree_id, version, body), graph


Kept = CachedDocument | CachedMap
"""What the documents cache keeps: documents by slug, maps by `map_key(slug)`."""


def map_key(slug: str) -> str:
    """Where the documents cache keeps tree `slug`'s map (a slug holds no colon)."""
    return f"map:{slug}"


def document_bytes(kept: Kept) -> int:
    """What a kept copy takes: a document and the answer for visitors made from it, or a map;
    with their compressed forms once made."""
    if isinstance(kept, CachedMap):
        return kept.body.size
    anonymous = kept.__dict__.get("anonymous")  # cached_property: made or not yet
    gzipped = anonymous.gzipped if isinstance(anonymous, Compressible) else None
    return 2 * len(kept.document) + len(gzipped or b"")


def new_document_cache(budget: int) -> MemoryCache[Kept]:
    """Documents and maps by key, within `budget` bytes."""
    return MemoryCache(budget, document_bytes)
