"""An in-process copy of recent trees' graphs, each valid while its tree's version is unchanged.

The database bumps `skill_trees.structure_version` on every change to a tree's skills and edges,
whatever the writer (triggers in db/schema/graph.sql). Every graph request reads the version with
the facts it needs anyway (one cheap query) and uses a copy only at that version, so a stale copy is
never served; on a change, one statement reads the whole graph again with the version it matches.
Only requests that wrote nothing keep copies: an uncommitted version could be rolled back and later
reused by a different change.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

from skilltree.cache.memory import MemoryCache
from skilltree.gc_pause import cyclic_gc_paused
from skilltree.graph import dag


class SkillFacts(NamedTuple):
    """What graph answers and the progress engine need of an active skill."""

    name: str
    position_y: float
    position_x: float
    estimated_minutes: int | None
    is_optional: bool
    xp_value: int
    is_milestone: bool


@dataclass(frozen=True)
class LearningOrder:
    """A tree's active skills in learning order, and by topological layer."""

    order: list[str]
    layers: list[list[str]]


class TreeGraph:
    """A tree's active skills and the prerequisite edges between them, at one structure version.

    Shared between requests and threads: never mutated after construction (derived views are
    computed once, on first use, from the immutable parts).
    """

    def __init__(
        self,
        tree_id: str,
        version: int,
        skills: dict[str, SkillFacts],
        needs: dict[str, list[str]],
    ) -> None:
        self.tree_id = tree_id
        self.version = version
        self.skills = skills
        self.needs = needs
        """Each active skill's active direct prerequisites (every active skill is a key)."""

    @classmethod
    def from_document_skills(
        cls, tree_id: str, version: int, skills: list[dict[str, Any]]
    ) -> TreeGraph:
        """The graph a tree document at `version` shows: its `skills` (JSON objects, active
        skills with their active `dependencies`), as GET /trees/{slug} sends them."""
        facts = {
            s["id"]: SkillFacts(
                s["name"],
                s["positionY"],
                s["positionX"],
                s["estimatedMinutes"],
                s["isOptional"],
                s["xpValue"],
                s["isMilestone"],
            )
            for s in skills
        }
        return cls(tree_id, version, facts, {s["id"]: list(s["dependencies"]) for s in skills})

    @cached_property
    def by_position(self) -> list[str]:
        """The active skills by position: y, then x, then id (the document's order)."""
        skills = self.skills
        return sorted(skills, key=lambda s: (skills[s].position_y, skills[s].position_x, s))

    @cached_property
    def roots(self) -> frozenset[str]:
        """The active skills that need no other."""
        return frozenset(s for s, prerequisites in self.needs.items() if not prerequisites)

    @cached_property
    def optional(self) -> frozenset[str]:
        """The optional active skills."""
        return frozenset(s for s, facts in self.skills.items() if facts.is_optional)

    @cached_property
    def dependents(self) -> dict[str, list[str]]:
        """Each active skill's active direct dependents (sorted). Every prerequisite is an
        active skill, so a key of `needs`: no set of nodes to build first (dag.dependents_of)."""
        with cyclic_gc_paused():
            dependents: dict[str, list[str]] = {skill: [] for skill in self.needs}
            for skill, prerequisites in self.needs.items():
                for prerequisite in prerequisites:
                    dependents[prerequisite].append(skill)
            for skills in dependents.values():
                skills.sort()
            return dependents

    @cached_property
    @cyclic_gc_paused()
    def chain_ahead(self) -> dict[str, int]:
        """Each active skill's longest chain of dependents (0 for a skill nothing needs): the
        skills that must wait for it one after another, at any depth; linear in skills + edges.
        From the skills nothing needs back to the roots, each skill once all its dependents are
        done (no sorted order needed: a third of the time of the learning order's)."""
        needs = self.needs
        waiting = dict.fromkeys(needs, 0)  # dependents not yet done, per skill
        for prerequisites in needs.values():
            for prerequisite in prerequisites:
                waiting[prerequisite] += 1
        ahead = dict.fromkeys(needs, 0)
        ready = [skill for skill, count in waiting.items() if count == 0]
        while ready:
            skill = ready.pop()
            chain = ahead[skill] + 1
            for prerequisite in needs[skill]:
                if ahead[prerequisite] < chain:
                    ahead[prerequisite] = chain
                waiting[prerequisite] -= 1
                if waiting[prerequisite] == 0:
                    ready.append(prerequisite)
        return ahead

    @cached_property
    @cyclic_gc_paused()
    def learning_order(self) -> LearningOrder:
        """The skills in learning order (ties by position y, then x, then id) and by layer."""
        skills = self.skills
        order = dag.learning_order(
            self.needs, sort_key=lambda s: (skills[s].position_y, skills[s].position_x, s)
        )
        return LearningOrder(order=order, layers=dag.topological_layers(self.needs))


def graph_bytes(graph: TreeGraph) -> int:
    """An estimate of the memory a kept graph takes with everything derived from it (measured
    with tracemalloc: 580 to 670 bytes a skill, some 40 an edge, in both directions)."""
    edges = sum(len(prerequisites) for prerequisites in graph.needs.values())
    return 700 * len(graph.skills) + 40 * edges


def new_graph_cache(budget: int) -> MemoryCache[TreeGraph]:
    """Graphs by tree id, within `budget` bytes; a graph never replaces a newer one (a slower
    request read an older version)."""
    return MemoryCache(budget, graph_bytes, replaces=lambda kept, new: kept.version <= new.version)
