"""Pure graph algorithms, without a database: exact at any depth, on random DAGs too."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skilltree.graph import dag


@st.composite
def dags(draw: st.DrawFn, max_size: int = 30) -> dict[str, list[str]]:
    """A random DAG: skill i may only need skills j < i, so there is never a cycle."""
    size = draw(st.integers(1, max_size))
    names = [f"s{i:03d}" for i in range(size)]
    needs: dict[str, list[str]] = {}
    for i, name in enumerate(names):
        needs[name] = sorted(draw(st.sets(st.sampled_from(names[:i]), max_size=3))) if i else []
    return needs


def chain(length: int) -> dict[str, list[str]]:
    return {f"s{i}": [f"s{i - 1}"] if i else [] for i in range(length)}


@given(dags())
def test_learning_order_puts_every_skill_after_its_prerequisites(
    needs: dict[str, list[str]],
) -> None:
    order = dag.learning_order(needs)
    position = {skill: i for i, skill in enumerate(order)}
    assert sorted(order) == sorted(needs)
    for skill, prerequisites in needs.items():
        assert all(position[p] < position[skill] for p in prerequisites)


@given(dags())
def test_layers_are_longest_distance_from_the_roots(needs: dict[str, list[str]]) -> None:
    layer_of = {s: i for i, layer in enumerate(dag.topological_layers(needs)) for s in layer}
    for skill, prerequisites in needs.items():
        expected = 1 + max((layer_of[p] for p in prerequisites), default=-1)
        assert layer_of[skill] == expected


@given(dags())
def test_dependents_mirror_prerequisites(needs: dict[str, list[str]]) -> None:
    reverse = dag.dependents_of(needs)
    pairs = {(s, p) for s, ps in needs.items() for p in ps}
    assert pairs == {(s, p) for p, ss in reverse.items() for s in ss}


@given(dags(), st.data())
def test_transitive_prerequisites_are_exact(
    needs: dict[str, list[str]], data: st.DataObject
) -> None:
    skill = data.draw(st.sampled_from(sorted(needs)))
    found = dag.transitive_prerequisites(needs, skill)
    # Reference: breadth-first by whole levels.
    expected: dict[str, int] = {}
    level, depth = set(needs[skill]), 1
    while level:
        for s in level:
            expected.setdefault(s, depth)
        level = {p for s in level for p in needs[s]} - set(expected)
        depth += 1
    assert found == expected
    # Dependents at any depth, as graph.service finds them: prerequisites in the reverse graph.
    dependents = dag.transitive_prerequisites(dag.dependents_of(needs), skill)
    assert all(skill in dag.transitive_prerequisites(needs, d) for d in dependents)


@given(dags(), st.data())
def test_an_edge_back_to_a_dependent_is_a_cycle(
    needs: dict[str, list[str]], data: st.DataObject
) -> None:
    skill = data.draw(st.sampled_from(sorted(needs)))
    ancestors = dag.transitive_prerequisites(needs, skill)
    assert dag.find_cycle(needs) is None
    if ancestors:
        ancestor = data.draw(st.sampled_from(sorted(ancestors)))
        cyclic = {**needs, ancestor: [*needs[ancestor], skill]}
        cycle = dag.find_cycle(cyclic)
        assert cycle is not None
        assert cycle[0] == cycle[-1]
        assert all(b in cyclic[a] for a, b in itertools.pairwise(cycle))


@pytest.mark.parametrize("length", [11, 50, 500, 5000])
def test_deep_chains_are_handled(length: int) -> None:
    needs = chain(length)
    last = f"s{length - 1}"
    assert len(dag.transitive_prerequisites(needs, last)) == length - 1
    assert dag.transitive_prerequisites(needs, last)["s0"] == length - 1
    assert len(dag.topological_layers(needs)) == length
    assert dag.learning_order(needs)[-1] == last
    path = dag.critical_path(needs, last, dict.fromkeys(needs, 2))
    assert path.minutes == 2 * length
    assert path.skills[0] == "s0"


def test_learning_order_breaks_ties_by_the_given_key() -> None:
    needs: dict[str, list[str]] = {"a": [], "b": [], "c": ["a", "b"], "d": []}
    position = {"a": (100.0, 0.0), "b": (0.0, 50.0), "c": (0.0, 200.0), "d": (0.0, 0.0)}
    order = dag.learning_order(needs, sort_key=lambda s: (position[s][1], position[s][0], s))
    assert order == ["d", "a", "b", "c"]


def test_critical_path_follows_the_longest_minutes() -> None:
    needs: dict[str, list[str]] = {
        "html": [],
        "css": ["html"],
        "js": ["html"],
        "react": ["css", "js"],
    }
    minutes: dict[str, int | None] = {"html": 300, "css": 480, "js": 900, "react": 600}
    path = dag.critical_path(needs, "react", minutes)
    assert path.skills == ["html", "js", "react"]
    assert path.minutes == 1800


def test_learning_order_of_a_cyclic_graph_raises_with_the_cycle() -> None:
    with pytest.raises(dag.CycleFound) as found:
        dag.learning_order({"a": ["b"], "b": ["c"], "c": ["a"]})
    assert found.value.cycle == ["a", "b", "c", "a"]


def test_layered_positions() -> None:
    positions = dag.layered_positions({"b": ["a"], "c": ["a"]}, ["a", "b", "c"])
    assert positions == {"a": (0.0, 0.0), "b": (0.0, 200.0), "c": (220.0, 200.0)}
