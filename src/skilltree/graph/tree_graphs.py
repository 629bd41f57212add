"""An in-process copy of recent trees' graphs, each valid while its tree's version is unchanged.

The database bumps `skill_trees.structure_version` on every change to a tree's skills and edges,
whatever the writer (triggers in db/schema/graph.sql). Every graph request reads the version with
the facts it needs anyway (one cheap query) and uses a copy only at that version, so a stale copy is
never served; on a change, one statement reads the whole graph again with the version it matches.
Only requests that wrote nothing keep copies: an uncommitted version could be rolled back and later
reused by a different change.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import accumulate, chain, compress, repeat
from operator import eq, lt
from typing import Any, NamedTuple, cast

from skilltree.cache.memory import MemoryCache
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


# A kept graph holds nothing the cyclic garbage collector has to look at: its per-skill values
# are plain tuples of strings and numbers (which the collector stops tracking the first time it
# meets them) in dicts, never lists or objects of a class. So a tree of 100,000 skills kept in
# the cache adds nothing to each collection's work, and building one sets off few full
# collections of the whole process (a NamedTuple and a list per skill set off several while a
# 100,000-skill graph was built: 0.5-1 s of it on a 2-core machine; see gc_tuning).
SkillRow = tuple[str, float, float, int | None, bool, int, bool]
"""A SkillFacts as a plain tuple, in the same order."""


class Columns(NamedTuple):
    """A graph's active skills by place (their order by position), a column a fact: `ids`, then
    SkillFacts' fields in their order."""

    ids: list[str]
    names: Sequence[str]
    positions_y: Sequence[float]
    positions_x: Sequence[float]
    estimated_minutes: Sequence[int | None]
    optional: Sequence[int]
    """0 or 1 (bools, or the bytes stored: graph.packing), as `milestones`."""
    xp_values: Sequence[int]
    milestones: Sequence[int]


class Groups(NamedTuple):
    """A group of places for each active skill by place (its prerequisites, or its dependents),
    flat: the group of the skill at place p is `places[starts[p]:ends[p]]`."""

    places: Sequence[int]
    starts: Sequence[int]
    ends: Sequence[int]

    def each(self) -> list[tuple[int, ...]]:
        """The groups, a tuple each (a slice of a tuple is a tuple: the fastest way)."""
        flat = tuple(self.places)
        return [flat[start:end] for start, end in zip(self.starts, self.ends, strict=True)]


class SkillTable(Mapping[str, SkillFacts]):
    """A graph's skills by id: each skill's facts as a SkillFacts, made when asked for, from the
    plain tuple kept (`rows`, for loops over many skills)."""

    __slots__ = ("rows",)

    def __init__(self, rows: Mapping[str, tuple[Any, ...]]) -> None:
        self.rows = rows

    def __getitem__(self, skill: str) -> SkillFacts:
        return SkillFacts._make(self.rows[skill])

    def __contains__(self, skill: object) -> bool:
        return skill in self.rows

    def __iter__(self) -> Iterator[str]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


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

    _stored_needs: Groups | None = None
    """Each skill's prerequisites by place as the writers stored them (from_columns)."""
    _stored_dependents: Groups | None = None
    """Each skill's dependents by place as the writers stored them (from_columns)."""
    _stored_chains: Sequence[int] | None = None
    """Each skill's chain ahead by place as the writers stored it (from_columns)."""

    def __init__(
        self,
        tree_id: str,
        version: int,
        skills: Mapping[str, tuple[Any, ...]],
        needs: Mapping[str, Sequence[str]],
        *,
        by_position: list[str] | None = None,
        drawn_top_down: bool | None = None,
    ) -> None:
        self.tree_id = tree_id
        self.version = version
        # `skills` maps ids to SkillFacts, or to plain tuples in the same order (what the
        # database read makes); `needs`: each active skill's active direct prerequisites.
        self.__dict__["skills"] = SkillTable(skills)
        self.__dict__["needs"] = needs
        if by_position is not None:  # the caller has them in that order: `by_position` is it
            self.__dict__["by_position"] = by_position
        if drawn_top_down is not None:  # the caller found it out
            self.__dict__["drawn_top_down"] = drawn_top_down

    @classmethod
    def from_columns(
        cls,
        tree_id: str,
        version: int,
        columns: Columns,
        needs_by_place: Groups,
        dependents_by_place: Groups,
        *,
        drawn_top_down: bool,
        roots: Sequence[int],
        chains: Sequence[int],
        edge_count: int,
    ) -> TreeGraph:
        """The graph as its writers stored it (graph.snapshots): its skills' facts a column
        each, by place, with each skill's prerequisites and chain ahead by place. What is keyed
        by id (`skills`, `needs`, `chain_ahead`, ...) or made a skill at a time (`place_needs`)
        is built when first asked for: a learning path walks `place_needs` and reads a page of
        the columns, so the first path of a tree version costs the read, one pass making each
        skill's prerequisites a tuple and a few passes in C, not a dict of every skill."""
        graph = cls.__new__(cls)
        graph.tree_id, graph.version = tree_id, version
        graph._stored_needs, graph._stored_dependents = needs_by_place, dependents_by_place
        graph._stored_chains = chains
        graph.__dict__.update(
            columns=columns,
            by_position=columns.ids,
            drawn_top_down=drawn_top_down,
            root_places=roots,
            edge_count=edge_count,
        )
        return graph

    @cached_property
    def skills(self) -> SkillTable:
        """Each active skill's facts by id (`rows`: plain tuples, in SkillFacts' order)."""
        ids, names, ys, xs, minutes, optional, xp, milestones = self.columns
        optional_, milestones_ = map(bool, optional), map(bool, milestones)
        facts = zip(names, ys, xs, minutes, optional_, xp, milestones_, strict=True)
        return SkillTable(dict(zip(ids, facts, strict=True)))

    @cached_property
    def needs(self) -> Mapping[str, Sequence[str]]:
        """Each active skill's active direct prerequisites (every active skill is a key)."""
        ids = self.by_position
        place = ids.__getitem__
        # Tuples, not lists, in the graph kept (SkillRow says why).
        return dict(zip(ids, (tuple(map(place, mine)) for mine in self.place_needs), strict=True))

    @cached_property
    def edge_count(self) -> int:
        """How many prerequisite edges join the active skills."""
        return sum(map(len, self.needs.values()))

    @cached_property
    def columns(self) -> Columns:
        """The active skills' facts a column each, by place in `by_position`."""
        by_position, rows = self.by_position, self.skills.rows
        if not by_position:
            return Columns([], [], [], [], [], [], [], [])
        facts = zip(*map(rows.__getitem__, by_position), strict=True)
        return Columns(by_position, *map(list, facts))

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
        rows = self.skills.rows
        return sorted(rows, key=lambda s: (rows[s][1], rows[s][2], s))

    @cached_property
    def position_rank(self) -> dict[str, int]:
        """Each active skill's place in `by_position` (0 first): orders as its position does."""
        return dict(zip(self.by_position, range(len(self.by_position)), strict=True))

    @cached_property
    def place_needs(self) -> list[tuple[int, ...]]:
        """Each active skill's active direct prerequisites, skill and prerequisites by their
        place in `by_position` (ints hash and compare faster than ids, and a list is indexed
        without hashing)."""
        if self._stored_needs is not None:  # from_columns
            return self._stored_needs.each()
        needs, place = self.needs, self.position_rank.__getitem__
        return [tuple(map(place, needs[skill])) for skill in self.by_position]

    @cached_property
    def needs_groups(self) -> Groups:
        """`place_needs` flat (Groups): what "what next" reads a few skills of, without a
        tuple made for every skill of the tree."""
        if self._stored_needs is not None:  # from_columns
            return self._stored_needs
        return _grouped(self.place_needs)

    @cached_property
    def dependents_groups(self) -> Groups:
        """Each active skill's active direct dependents by place, ascending, flat (Groups)."""
        if self._stored_dependents is not None:  # from_columns
            return self._stored_dependents
        found: list[list[int]] = [[] for _ in self.by_position]
        for skill, prerequisites in enumerate(self.place_needs):
            for prerequisite in prerequisites:
                found[prerequisite].append(skill)  # skills in ascending order: sorted
        return _grouped(found)

    @cached_property
    def root_places(self) -> Sequence[int]:
        """The places of the active skills that need no other, ascending."""
        _, starts, ends = self.needs_groups
        return list(compress(range(len(starts)), map(eq, starts, ends)))

    @cached_property
    def minutes_by_place(self) -> list[int]:
        """Each active skill's estimated minutes (0 when unknown), by place in `by_position`."""
        minutes = self.columns.estimated_minutes
        if None not in minutes:  # (a test in C)
            return list(cast(Sequence[int], minutes))
        return [m or 0 for m in minutes]

    @cached_property
    def xp_by_place(self) -> list[int]:
        """Each active skill's XP value, by place in `by_position`."""
        return list(self.columns.xp_values)

    @cached_property
    def roots(self) -> frozenset[str]:
        """The active skills that need no other."""
        return frozenset(s for s, prerequisites in self.needs.items() if not prerequisites)

    @cached_property
    def optional(self) -> frozenset[str]:
        """The optional active skills."""
        return frozenset(compress(self.by_position, self.columns.optional))

    @cached_property
    def dependents(self) -> dict[str, tuple[str, ...]]:
        """Each active skill's active direct dependents (sorted). Every prerequisite is an
        active skill, so a key of `needs`: no set of nodes to build first (dag.dependents_of)."""
        found: dict[str, list[str]] = {skill: [] for skill in self.needs}
        for skill, prerequisites in self.needs.items():
            for prerequisite in prerequisites:
                found[prerequisite].append(skill)
        # Kept as tuples, which the collector forgets (see SkillRow); the lists go now.
        return {skill: tuple(sorted(skills)) for skill, skills in found.items()}

    @cached_property
    def chain_ahead(self) -> dict[str, int]:
        """Each active skill's longest chain of dependents (`chains_ahead`)."""
        if self._stored_chains is not None:  # as the writer stored them (from_columns)
            return dict(zip(self.by_position, self._stored_chains, strict=True))
        return chains_ahead(self.needs)

    @cached_property
    def chains_by_place(self) -> Sequence[int]:
        """Each active skill's chain ahead, by place in `by_position` (what the writers store)."""
        if self._stored_chains is not None:
            return self._stored_chains
        chains = self.chain_ahead
        return [chains[skill] for skill in self.by_position]

    @cached_property
    def learning_order(self) -> LearningOrder:
        """The skills in learning order (ties by position y, then x, then id) and by layer
        (dag.topological_layers: layer k needs something of layer k-1, each sorted by id).

        When every skill comes after its prerequisites by position (a map drawn top-down), the
        order by position is the learning order: the first skill by position not yet taken
        always has its prerequisites taken, so it is the one `ordered` would take. That is found
        out on the way, in the pass that finds each skill's layer, without the heap."""
        needs = self.needs
        try:
            return _layered(list(self.by_position), needs)
        except KeyError:  # a prerequisite after its skill by position
            return _layered(self.ordered(needs), needs)

    @cached_property
    def drawn_top_down(self) -> bool:
        """Whether every skill comes after all its prerequisites by position (maps are usually
        drawn so): then the order by position is a learning order of any part of the graph."""
        place, needs = self.position_rank.__getitem__, self.needs
        # Each edge's prerequisite and skill side by side, without a Python step per edge.
        before = map(place, chain.from_iterable(needs.values()))
        after = map(place, chain.from_iterable(map(repeat, needs, map(len, needs.values()))))
        return all(map(lt, before, after))

    def ordered(self, skills: Collection[str]) -> list[str]:
        """`skills` (some of this graph's) in learning order, each after those of its
        prerequisites among them, ties by position (y, then x, then id): dag.learning_order of
        the graph they make, with each skill's place by position as its key (ints compare
        faster than tuples of position and id).

        In a graph drawn top down that is their order by position: Kahn's algorithm, taking the
        first by position of the skills whose prerequisites are taken, always finds the first
        skill by position not yet taken ready (its prerequisites come before it), so it takes
        them by position; one sort does it (a path of 66,000 steps: the heap took most of it)."""
        needs, rank, by_position = self.needs, self.position_rank, self.by_position
        if self.drawn_top_down:
            return sorted(skills, key=rank.__getitem__)
        missing: dict[str, int] = {}
        ready: list[int] = []
        for skill in skills:
            count = 0
            for prerequisite in needs[skill]:
                if prerequisite in skills:
                    count += 1
            if count:
                missing[skill] = count
            else:
                ready.append(rank[skill])
        heapq.heapify(ready)
        order: list[str] = []
        dependents = self.dependents
        while ready:
            skill = by_position[heapq.heappop(ready)]
            order.append(skill)
            for dependent in dependents[skill]:
                if dependent in missing:
                    missing[dependent] -= 1
                    if missing[dependent] == 0:
                        heapq.heappush(ready, rank[dependent])
        if len(order) < len(skills):
            raise dag.CycleFound(dag.find_cycle({s: needs[s] for s in skills}) or [])
        return order


def chains_ahead(needs: Mapping[str, Sequence[str]]) -> dict[str, int]:
    """Each skill's longest chain of dependents in the graph `needs` (every skill a key, its
    prerequisites among the keys): the skills that must wait for it one after another, at any
    depth (0 for a skill nothing needs); linear in skills + edges. From the skills nothing needs
    back to the roots, each skill once all its dependents are done (no sorted order needed: a
    third of the time of the learning order's). "What next" ranks by it: kept per tree version
    in each process (`TreeGraph.chain_ahead`) and in the database (graph.ranks)."""
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


def _layered(order: list[str], needs: Mapping[str, Sequence[str]]) -> LearningOrder:
    """`order` as the learning order, with its layers: KeyError when a skill of `order` comes
    before one of its prerequisites."""
    depth: dict[str, int] = {}
    of = depth.__getitem__
    layers: list[list[str]] = []
    for skill in order:  # each skill after its prerequisites
        prerequisites = needs[skill]
        d = depth[skill] = max(map(of, prerequisites)) + 1 if prerequisites else 1
        if d > len(layers):
            layers.append([])
        layers[d - 1].append(skill)
    return LearningOrder(order=order, layers=[sorted(layer) for layer in layers])


def _grouped(groups: Sequence[Sequence[int]]) -> Groups:
    ends = list(accumulate(map(len, groups)))
    return Groups(tuple(chain.from_iterable(groups)), [0, *ends][:-1], ends)


def graph_bytes(graph: TreeGraph) -> int:
    """An estimate of the memory a kept graph takes with everything derived from it (measured
    with tracemalloc: 580 to 670 bytes a skill, some 40 an edge, in both directions; the lists
    by place a path adds, some 100 a skill and 8 an edge more)."""
    return 800 * len(graph.by_position) + 48 * graph.edge_count


def new_graph_cache(budget: int) -> MemoryCache[TreeGraph]:
    """Graphs by tree id, within `budget` bytes; a graph never replaces a newer one (a slower
    request read an older version)."""
    return MemoryCache(budget, graph_bytes, replaces=lambda kept, new: kept.version <= new.version)
