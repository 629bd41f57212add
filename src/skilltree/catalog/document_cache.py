"""An in-process copy of recent tree documents, each valid while its tree's version is unchanged.

The database bumps `skill_trees.structure_version` on every change to what a document shows
(migration 0011), and the one statement that serves a tree reads the version before anything is
used: a stale copy is never served, from any writer. Only committed data is cached: copies are
made by read-only requests, which see nothing uncommitted.

A copy keeps the bytes to send, not a parsed document: the graph that skill states and the
learning plan come from is the tree's one `TreeGraph` (graph.tree_graphs), per version.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cached_property

import orjson

from skilltree.graph.tree_graphs import TreeGraph

MAX_TREES = 64
ANONYMOUS_TAIL = b',"progress":null,"skillStates":null}'
"""The end of the document for a visitor who is not signed in."""


class CachedDocument:
    """A tree's document at a version, with its learning plan, as bytes ready to send (and as
    Redis keeps it); the tree's graph is attached when first needed."""

    def __init__(
        self, tree_id: str, version: int, document: bytes, graph: TreeGraph | None = None
    ) -> None:
        self.tree_id = tree_id
        self.version = version
        self.document = document
        """The TreeDocument without the viewer's parts: a JSON object."""
        self.graph = graph
        """The tree's graph at this version, once a signed-in viewer needed it."""

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
        return cls(tree_id, version, document, graph)

    @cached_property
    def anonymous(self) -> bytes:
        """The whole answer for a visitor who is not signed in."""
        return self.document[:-1] + ANONYMOUS_TAIL

    def for_learner(self, progress: bytes, states: bytes) -> bytes:
        """The whole answer for a signed-in learner: their tree `progress` and skill `states`
        (JSON)."""
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


class DocumentCache:
    """The most recently used documents by slug (at most MAX_TREES), safe across threads."""

    def __init__(self, capacity: int = MAX_TREES) -> None:
        self._capacity = capacity
        self._documents: OrderedDict[str, CachedDocument] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, slug: str) -> CachedDocument | None:
        """The copy kept for `slug`, if any (it may be stale: compare versions)."""
        with self._lock:
            document = self._documents.get(slug)
            if document is not None:
                self._documents.move_to_end(slug)
            return document

    def put(self, slug: str, document: CachedDocument) -> None:
        """Keep `document` for `slug`, forgetting the least recently used beyond capacity."""
        with self._lock:
            self._documents[slug] = document
            self._documents.move_to_end(slug)
            while len(self._documents) > self._capacity:
                self._documents.popitem(last=False)

    def clear(self) -> None:
        """Forget every copy."""
        with self._lock:
            self._documents.clear()
