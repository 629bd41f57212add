"""The path to a skill, without a database: a page of it is the page of the whole path the rules
make (every prerequisite at any depth not done, in learning order with ties by position), and its
totals are the whole path's, on random trees (drawn top down or not, positions tied), random
learner rows and random pages."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from skilltree.graph import dag
from skilltree.graph.tree_graphs import TreeGraph
from skilltree.models import SkillProgressStatus as Status
from skilltree.progress import paths, states
from tests.graph.test_tree_graphs import drawn_top_down, placed


@st.composite
def learners(draw: st.DrawFn) -> tuple[TreeGraph, dict[str, Status]]:
    """A tree (positions tied or not, drawn top down or not; minutes, XP and optional skills
    varied) and a learner's rows on some of its skills, plus a row of a skill no longer active."""
    shape = draw(st.one_of(placed(), drawn_top_down()))
    skills = {
        s: (
            row[0],
            row[1],
            row[2],
            draw(st.none() | st.integers(0, 90)),
            draw(st.booleans()),
            draw(st.integers(0, 50)),
            False,
        )
        for s, row in shape.skills.rows.items()
    }
    graph = TreeGraph("tree", 1, skills, shape.needs)
    rows = draw(st.dictionaries(st.sampled_from(sorted(skills)), st.sampled_from(list(Status))))
    rows = {s: st_ for s, st_ in rows.items() if st_ is not Status.SKIPPED or s in graph.optional}
    rows["inactive"] = draw(st.sampled_from(list(Status)))
    return graph, rows


def whole_path(graph: TreeGraph, rows: dict[str, Status], target: str) -> list[str]:
    """The rules' path, the slow way: the target and every prerequisite at any depth that is
    neither completed nor skipped, ordered as the graph they make (dag.learning_order), ties by
    position (y, x, id)."""
    wanted = {target, *dag.transitive_prerequisites(graph.needs, target)}
    todo = {s for s in wanted if rows.get(s) not in (Status.COMPLETED, Status.SKIPPED)}
    inside = {s: [p for p in graph.needs[s] if p in todo] for s in todo}
    facts = graph.skills
    return dag.learning_order(
        inside, lambda s: (facts[s].position_y, facts[s].position_x, s)
    ) if inside else []  # fmt: skip


@given(learners(), st.data())
def test_a_page_of_the_path_is_that_page_of_the_whole_path_with_its_totals(
    learner: tuple[TreeGraph, dict[str, Status]], data: st.DataObject
) -> None:
    graph, rows = learner
    target = data.draw(st.sampled_from(sorted(graph.needs)))
    limit = data.draw(st.integers(1, 8))
    offset = data.draw(st.integers(0, 12))
    expected = whole_path(graph, rows, target)
    page: dict[str, Any] = dict(paths.path_page(graph, rows, target, limit, offset))
    assert [step["id"] for step in page["steps"]] == expected[offset : offset + limit]
    for step in page["steps"]:
        facts = graph.skills[step["id"]]
        assert step == {
            "id": step["id"],
            "name": facts.name,
            "status": states.state_of(step["id"], graph.needs, rows, graph.optional).value,
            "estimatedMinutes": facts.estimated_minutes,
            "xpValue": facts.xp_value,
        }
    assert page["target"] == {"id": target, "name": graph.skills[target].name}
    assert page["totalSteps"] == len(expected)
    assert page["totalMinutes"] == sum(graph.skills[s].estimated_minutes or 0 for s in expected)
    assert page["totalXp"] == sum(graph.skills[s].xp_value for s in expected)
    more = offset + limit < len(expected)
    assert page["nextOffset"] == (offset + limit if more else None)
