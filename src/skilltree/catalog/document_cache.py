"""An in-process copy of recent tree documents, each valid while its tree's version is unchanged.

The database bumps `skill_trees.structure_version` on every change to what a document shows
(migration 0011), and the one statement that serves a tree compares versions before it builds
anything: a stale copy is never served, from any writer. Only committed data is cached: copies are
made by read-only requests, which see nothing uncommitted.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import cached_property

from skilltree.graph import dag

MAX_TREES = 64


class CachedDocument:
    """A tree's document as JSON text at a version; the graph in it is read on first use."""

    def __init__(self, tree_id: str, version: int, text: str) -> None:
        self.tree_id = tree_id
        self.version = version
        self.text = text

    @cached_property
    def _skills(self) -> list[dict[str, object]]:
        skills: list[dict[str, object]] = json.loads(self.text)["skills"]
        return skills

    @cached_property
    def needs(self) -> dict[str, list[str]]:
        """Each active skill's active direct prerequisites."""
        return {str(s["id"]): list(s["dependencies"]) for s in self._skills}  # type: ignore[call-overload]

    @cached_property
    def optional(self) -> frozenset[str]:
        """The optional active skills."""
        return frozenset(str(s["id"]) for s in self._skills if s["isOptional"])

    @cached_property
    def learning_plan(self) -> str:
        """`"learningOrder":[...],"layers":[[...]]`: the skills in a valid learning order (ties by
        position y, then x, then id) and by topological layer, as JSON members, made once."""
        place = {str(s["id"]): (s["positionY"], s["positionX"], str(s["id"])) for s in self._skills}
        order = dag.learning_order(self.needs, sort_key=lambda s: place[s])
        layers = dag.topological_layers(self.needs)
        compact = (",", ":")
        return (
            f'"learningOrder":{json.dumps(order, separators=compact)},'
            f'"layers":{json.dumps(layers, separators=compact)}'
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
