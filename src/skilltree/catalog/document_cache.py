"""An in-process copy of recent tree documents, each valid while its tree's version is unchanged.

The database bumps `skill_trees.structure_version` on every change to what a document shows
(triggers in db/schema/graph.sql), and the one statement that serves a tree reads the version before
anything is used: a stale copy is never served, from any writer. Only committed data is cached:
copies are made by read-only requests, which see nothing uncommitted.

A copy keeps the bytes to send, not a parsed document: the graph that skill states and the
learning plan come from is the tree's one `TreeGraph` (graph.tree_graphs), per version, kept in the
graph cache. The copies are bounded by the bytes they take (cache.memory): a copy counts its
document twice, with the answer for visitors made from it.
"""

from __future__ import annotations

from functools import cached_property

import orjson

from skilltree.cache.memory import MemoryCache
from skilltree.graph.tree_graphs import TreeGraph

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


def document_bytes(document: CachedDocument) -> int:
    """What a kept copy takes: its document, and the answer for visitors made from it."""
    return 2 * len(document.document)


def new_document_cache(budget: int) -> MemoryCache[CachedDocument]:
    """Documents by slug, within `budget` bytes."""
    return MemoryCache(budget, document_bytes)
