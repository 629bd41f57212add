"""A tree's kept graph answers as the pure algorithms do (random DAGs, random positions), while
holding nothing the cyclic garbage collector has to look at."""

from __future__ import annotations

import gc

from hypothesis import given
from hypothesis import strategies as st

from skilltree.graph import dag
from skilltree.graph.tree_graphs import SkillFacts, TreeGraph
from tests.graph.test_dag import dags


@st.composite
def placed(draw: st.DrawFn) -> TreeGraph:
    """A random DAG whose skills have random positions (ties included)."""
    needs = draw(dags())
    coordinate = st.sampled_from([0.0, 100.0, 200.0])
    skills = {
        s: (s.upper(), draw(coordinate), draw(coordinate), None, False, 10, False) for s in needs
    }
    return TreeGraph("tree", 1, skills, {s: tuple(p) for s, p in needs.items()})


@st.composite
def drawn_top_down(draw: st.DrawFn) -> TreeGraph:
    """A random DAG drawn as maps usually are: each skill below all its prerequisites (y by
    depth, maybe lower still), so the order by position is topological (the plan's one pass)."""
    needs = draw(dags())
    depth: dict[str, int] = {}
    for skill in dag.learning_order(needs):
        depth[skill] = max((depth[p] + 1 for p in needs.get(skill, ())), default=0)
        depth[skill] += draw(st.integers(0, 1))
    skills = {
        s: (s, 100.0 * depth[s], draw(st.sampled_from([0.0, 100.0])), None, False, 10, False)
        for s in depth
    }
    return TreeGraph("tree", 1, skills, {s: tuple(needs.get(s, ())) for s in depth})


def by_position(graph: TreeGraph, skill: str) -> tuple[float, float, str]:
    facts = graph.skills[skill]
    return (facts.position_y, facts.position_x, skill)


@given(st.one_of(placed(), drawn_top_down()))
def test_the_learning_plan_is_the_learning_order_and_layers_of_the_pure_algorithms(
    graph: TreeGraph,
) -> None:
    plan = graph.learning_order
    assert plan.order == dag.learning_order(graph.needs, lambda s: by_position(graph, s))
    assert plan.layers == dag.topological_layers(graph.needs)


@given(st.one_of(placed(), drawn_top_down()), st.data())
def test_part_of_a_graph_is_ordered_as_the_graph_it_makes(
    graph: TreeGraph, data: st.DataObject
) -> None:
    part = data.draw(st.sets(st.sampled_from(sorted(graph.needs))))
    inside = {s: [p for p in graph.needs[s] if p in part] for s in part}
    assert graph.ordered(part) == dag.learning_order(inside, lambda s: by_position(graph, s))


@given(drawn_top_down())
def test_a_graph_drawn_top_down_is_known_as_such(graph: TreeGraph) -> None:
    assert graph.drawn_top_down
    upside_down = TreeGraph(
        "tree",
        1,
        {s: (s, -row[1], row[2], *row[3:]) for s, row in graph.skills.rows.items()},
        graph.needs,
    )
    has_edge = any(graph.needs.values())
    assert upside_down.drawn_top_down is not has_edge


@given(st.one_of(placed(), drawn_top_down()))
def test_a_graph_is_drawn_top_down_when_every_prerequisite_comes_first_by_position(
    graph: TreeGraph,
) -> None:
    ahead = graph.position_rank
    expected = all(ahead[p] < ahead[s] for s, needs in graph.needs.items() for p in needs)
    assert graph.drawn_top_down is expected


@given(placed())
def test_dependents_are_the_reverse_graph(graph: TreeGraph) -> None:
    reverse = dag.dependents_of(graph.needs)
    assert graph.dependents == {s: tuple(reverse.get(s, [])) for s in graph.needs}


def test_facts_read_back_as_they_were_given() -> None:
    facts = SkillFacts("A", 1.0, 2.0, 30, True, 10, False)
    graph = TreeGraph("tree", 1, {"a": facts, "b": tuple(facts)}, {"a": (), "b": ("a",)})
    assert graph.skills["a"] == graph.skills["b"] == facts
    assert graph.skills["b"].estimated_minutes == 30
    assert list(graph.skills) == ["a", "b"]
    assert "a" in graph.skills
    assert len(graph.skills) == 2


def test_a_kept_graph_leaves_the_collector_nothing_per_skill() -> None:
    size = 2_000
    needs = {f"s{i}": (f"s{i - 1}",) if i else () for i in range(size)}
    skills = {s: (s, 0.0, float(i), 30, False, 10, False) for i, s in enumerate(needs)}
    graph = TreeGraph("tree", 1, skills, needs)
    for view in ("dependents", "chain_ahead", "roots", "optional", "position_rank"):
        getattr(graph, view)
    gc.collect()
    tracked = [
        value
        for table in (graph.skills.rows, graph.needs, graph.dependents)
        for value in table.values()
        if gc.is_tracked(value)
    ]
    assert tracked == []
