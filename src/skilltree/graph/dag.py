"""Pure prerequisite-graph algorithms, all linear in skills + edges, at any depth.

A graph is given as `needs`: each skill id mapped to the ids of its direct prerequisites. Skills
that appear only as prerequisites are nodes too. Nothing here touches the database.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Needs = Mapping[str, Iterable[str]]


class CycleFound(ValueError):
    """The prerequisites form a cycle; `cycle` lists it with its first skill repeated last."""

    def __init__(self, cycle: list[str]) -> None:
        self.cycle = cycle
        super().__init__("cycle: " + " -> ".join(cycle))


def nodes_of(needs: Needs) -> set[str]:
    """Every skill of the graph: those with prerequisites and the prerequisites themselves."""
    found = set(needs)
    for prerequisites in needs.values():
        found.update(prerequisites)
    return found


def dependents_of(needs: Needs) -> dict[str, list[str]]:
    """The reverse graph: each skill mapped to the skills that need it directly (sorted)."""
    reverse: dict[str, list[str]] = {node: [] for node in nodes_of(needs)}
    for skill, prerequisites in needs.items():
        for prerequisite in set(prerequisites):
            reverse[prerequisite].append(skill)
    for skills in reverse.values():
        skills.sort()
    return reverse


def find_cycle(needs: Needs) -> list[str] | None:
    """One cycle (first skill repeated last, each needing the next), or None for a DAG."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for root in sorted(nodes_of(needs)):
        if root in state:
            continue
        path: list[str] = [root]
        stack: list[Any] = [iter(sorted(needs.get(root, ())))]
        state[root] = 1
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(following) == 1:
                return [*path[path.index(following) :], following]
            elif following not in state:
                state[following] = 1
                path.append(following)
                stack.append(iter(sorted(needs.get(following, ()))))
    return None


def topological_layers(needs: Needs) -> list[list[str]]:
    """Skills by layer: layer 0 needs nothing, layer k needs something of layer k-1 (sorted ids)."""
    depth = _longest_from_roots(needs, lambda _: 1)
    layers: list[list[str]] = []
    for skill, d in depth.items():
        while len(layers) < d:
            layers.append([])
        layers[d - 1].append(skill)
    return [sorted(layer) for layer in layers]


def learning_order(needs: Needs, sort_key: Callable[[str], Any] = lambda s: s) -> list[str]:
    """Each skill after its prerequisites; of skills ready together, smallest `sort_key` first."""
    missing = {node: 0 for node in nodes_of(needs)}
    for skill, prerequisites in needs.items():
        missing[skill] = len(set(prerequisites))
    reverse = dependents_of(needs)
    ready = [(sort_key(s), s) for s, count in missing.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, skill = heapq.heappop(ready)
        order.append(skill)
        for dependent in reverse[skill]:
            missing[dependent] -= 1
            if missing[dependent] == 0:
                heapq.heappush(ready, (sort_key(dependent), dependent))
    if len(order) < len(missing):
        raise CycleFound(find_cycle(needs) or [])
    return order


@dataclass(frozen=True)
class CriticalPath:
    """The chain of prerequisites to a skill that takes longest, in learning order."""

    skills: list[str]
    minutes: int


def critical_path(needs: Needs, target: str, minutes: Mapping[str, int | None]) -> CriticalPath:
    """The longest chain (by estimated minutes, the target included) that ends at `target`."""
    relevant = transitive_prerequisites(needs, target)
    best: dict[str, tuple[int, str | None]] = {}
    for skill in learning_order({s: needs.get(s, ()) for s in [*relevant, target]}):
        own = minutes.get(skill) or 0
        before = max(
            ((best[p][0], p) for p in needs.get(skill, ())), default=(0, None), key=lambda t: t[0]
        )
        best[skill] = (before[0] + own, before[1])
    chain: list[str] = []
    cursor: str | None = target
    while cursor is not None:
        chain.append(cursor)
        cursor = best[cursor][1]
    return CriticalPath(skills=chain[::-1], minutes=best[target][0])


def transitive_prerequisites(needs: Needs, skill: str) -> dict[str, int]:
    """Every skill `skill` needs, at any depth, with its distance (1 = a direct prerequisite)."""
    # Level by level: each skill is met first at its distance, and visited once.
    distance: dict[str, int] = {skill: 0}
    level = [skill]
    depth = 0
    while level:
        depth += 1
        following: list[str] = []
        for node in level:
            for prerequisite in needs.get(node, ()):
                if prerequisite not in distance:
                    distance[prerequisite] = depth
                    following.append(prerequisite)
        level = following
    del distance[skill]
    return distance


def _longest_from_roots(needs: Needs, weight: Callable[[str], int]) -> dict[str, int]:
    total: dict[str, int] = {}
    for skill in learning_order(needs):
        total[skill] = weight(skill) + max((total[p] for p in needs.get(skill, ())), default=0)
    return total


def layered_positions(
    needs: Needs,
    skills: Sequence[str],
    *,
    level_height: float = 200.0,
    node_spacing: float = 220.0,
) -> dict[str, tuple[float, float]]:
    """Positions (x, y) from topological layers: layer -> y, order within the layer -> x."""
    graph = {s: list(needs.get(s, ())) for s in skills}
    positions: dict[str, tuple[float, float]] = {}
    for depth, layer in enumerate(topological_layers(graph)):
        for index, skill in enumerate(layer):
            positions[skill] = (index * node_spacing, depth * level_height)
    return positions
