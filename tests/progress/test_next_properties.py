"""What to learn next, without a database: the linear search finds exactly what the rules say.

`paths.workable` reads only roots, the learner's rows and dependents of satisfied skills, and
`paths.unlocked_by` counts each dependent's prerequisites once; both are checked here against
the rules applied to every skill of random trees with random learner rows.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skilltree.graph import dag
from skilltree.graph.tree_graphs import SkillFacts, TreeGraph
from skilltree.models import SkillProgressStatus as Status
from skilltree.progress import paths, states
from tests.graph.test_dag import dags


@st.composite
def learners(draw: st.DrawFn) -> tuple[TreeGraph, dict[str, Status]]:
    """A tree (some skills optional) and a learner's rows on some of its skills (any status,
    as rows may be stale after the tree changed), plus a row of a skill no longer active."""
    needs = draw(dags())
    optional = draw(st.sets(st.sampled_from(sorted(needs))))
    skills = {s: SkillFacts(s, 0.0, 0.0, None, s in optional, 10, False) for s in needs}
    rows = draw(st.dictionaries(st.sampled_from(sorted(needs)), st.sampled_from(list(Status))))
    rows = {s: st_ for s, st_ in rows.items() if st_ is not Status.SKIPPED or s in optional}
    rows["inactive"] = draw(st.sampled_from(list(Status)))
    return TreeGraph("tree", 1, skills, needs), rows


@given(learners())
def test_workable_skills_are_exactly_those_the_rules_make_available_or_started(
    learner: tuple[TreeGraph, dict[str, Status]],
) -> None:
    graph, rows = learner
    expected = {
        s: state
        for s in graph.skills
        if (state := states.state_of(s, graph.needs, rows, graph.optional)) in paths.WORKABLE
    }
    assert paths.workable(graph, rows) == expected


@given(learners())
def test_a_state_given_the_satisfied_skills_is_the_state_by_the_rules(
    learner: tuple[TreeGraph, dict[str, Status]],
) -> None:
    graph, rows = learner
    satisfied = states.satisfied_skills(rows, graph.optional)
    for s in graph.skills:
        expected = states.state_of(s, graph.needs, rows, graph.optional)
        assert states.state_given(s, graph.needs, rows, satisfied) is expected


@given(learners())
def test_a_skill_unlocks_the_locked_dependents_it_alone_holds_back(
    learner: tuple[TreeGraph, dict[str, Status]],
) -> None:
    graph, rows = learner
    now = paths.workable(graph, rows)
    found = paths.unlocked_by(graph, rows, now)
    for skill in now:
        # Finishing `skill`: which LOCKED skills become AVAILABLE?
        after = rows | {skill: Status.COMPLETED}
        expected = [
            d
            for d in graph.dependents[skill]
            if states.state_of(d, graph.needs, rows, graph.optional) is Status.LOCKED
            and states.state_of(d, graph.needs, after, graph.optional) is Status.AVAILABLE
        ]
        assert found[skill] == expected


@given(dags())
def test_the_chain_ahead_is_the_longest_path_of_dependents(needs: dict[str, list[str]]) -> None:
    skills = {s: SkillFacts(s, 0.0, 0.0, None, False, 10, False) for s in needs}
    graph = TreeGraph("tree", 1, skills, needs)
    reverse = dag.dependents_of(needs)

    def longest(skill: str) -> int:
        return max((1 + longest(d) for d in reverse[skill]), default=0)

    assert graph.chain_ahead == {s: longest(s) for s in needs}


def many_roots(size: int) -> TreeGraph:
    """The shape that took 8 s: a root every 10th skill, each other skill needing two of the
    200 skills before it."""
    needs = {
        f"s{i}": sorted({f"s{i - 1 - (i * 7) % min(i, 200)}", f"s{i - 1 - (i * 13) % min(i, 200)}"})
        if i % 10
        else []
        for i in range(size)
    }
    skills = {s: SkillFacts(s, 0.0, 0.0, None, False, 10, False) for s in needs}
    return TreeGraph("tree", 1, skills, needs)


def test_what_next_looks_at_each_skill_and_edge_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Counted, not timed: the rule checks what next makes grow with skills + edges, never with
    # their square (the quadratic version made 40 million at 4,000 skills).
    calls = {"count": 0}
    state_of, is_satisfied, state_given = states.state_of, states.is_satisfied, states.state_given

    def counted_state_of(*args: Any) -> Status:
        calls["count"] += 1
        return state_of(*args)

    def counted_is_satisfied(*args: Any) -> bool:
        calls["count"] += 1
        return is_satisfied(*args)

    def counted_state_given(*args: Any) -> Status:
        calls["count"] += 1
        return state_given(*args)

    monkeypatch.setattr(states, "state_of", counted_state_of)
    monkeypatch.setattr(states, "is_satisfied", counted_is_satisfied)
    monkeypatch.setattr(states, "state_given", counted_state_given)
    for size in (2_000, 8_000):
        graph = many_roots(size)
        edges = sum(len(p) for p in graph.needs.values())
        rows = {f"s{i}": Status.COMPLETED for i in range(0, size, 3)}
        calls["count"] = 0
        now = paths.workable(graph, rows)
        paths.unlocked_by(graph, rows, now)
        assert now
        assert calls["count"] <= 4 * (size + edges), (size, calls["count"])
