"""A learner's skill states in the tree document: exactly progress.states' rules for every
active skill, however few skills the fast path asks about and splices into the template of a
learner with no rows (property-based, no database)."""

from __future__ import annotations

import json

import orjson
from hypothesis import given
from hypothesis import strategies as st

from skilltree.catalog.document_cache import StatesTemplate
from skilltree.catalog.service import skill_states, state_changes
from skilltree.graph.tree_graphs import SkillFacts, TreeGraph
from skilltree.models import SkillProgressStatus
from skilltree.progress import states as progress_states


@st.composite
def graphs_and_rows(draw: st.DrawFn) -> tuple[TreeGraph, list[dict[str, object]]]:
    """A random DAG of active skills (each needs some earlier ones), random optional flags and
    positions, and random learner rows (some for skills not in the graph: inactive ones)."""
    size = draw(st.integers(1, 14))
    ids = [f"s{n:02d}" for n in range(size)]
    needs = {
        skill: sorted(draw(st.sets(st.sampled_from(ids[:n]), max_size=3)) if n else [])
        for n, skill in enumerate(ids)
    }
    skills = {
        skill: SkillFacts(
            skill,
            float(draw(st.integers(0, 3))),
            float(draw(st.integers(0, 3))),
            None,
            draw(st.booleans()),
            10,
            False,
        )
        for skill in ids
    }
    touched = draw(st.sets(st.sampled_from([*ids, "inactive"])))
    rows = [
        {
            "skillId": skill,
            "status": draw(st.sampled_from(list(SkillProgressStatus))).value,
            "progressPercent": draw(st.integers(0, 100)),
        }
        for skill in sorted(touched)
    ]
    return TreeGraph("tree", 1, skills, needs), rows


@given(graphs_and_rows())
def test_every_skill_has_the_state_the_rules_give(
    case: tuple[TreeGraph, list[dict[str, object]]],
) -> None:
    graph, rows = case
    by_skill = {str(row["skillId"]): row for row in rows}
    statuses = {
        skill: SkillProgressStatus(row["status"])
        for skill, row in by_skill.items()
        if skill in graph.skills
    }

    answer = orjson.loads(skill_states(graph, StatesTemplate(graph), json.dumps(rows)))

    assert list(answer) == graph.by_position
    for skill in graph.skills:
        state = progress_states.state_of(skill, graph.needs, statuses, graph.optional)
        row = by_skill.get(skill)
        expected = {"status": state.value}
        if row is not None:
            expected = {k: v for k, v in row.items() if k != "skillId"} | expected
        assert answer[skill] == expected


def test_no_rows_leaves_only_the_skills_that_need_nothing_available() -> None:
    facts = SkillFacts("x", 0.0, 0.0, None, False, 10, False)
    graph = TreeGraph("t", 1, {"a": facts, "b": facts}, {"a": [], "b": ["a"]})
    assert orjson.loads(skill_states(graph, StatesTemplate(graph), None)) == {
        "a": {"status": "AVAILABLE"},
        "b": {"status": "LOCKED"},
    }


def test_the_template_is_the_states_of_a_learner_with_no_rows_in_position_order() -> None:
    def at(y: float, x: float) -> SkillFacts:
        return SkillFacts("x", y, x, None, False, 10, False)

    skills = {"c": at(1.0, 0.0), "a": at(0.0, 5.0), 'b"q': at(0.0, 5.0), "d": at(0.0, 1.0)}
    graph = TreeGraph("t", 1, skills, {"c": ["a"], "a": [], 'b"q': [], "d": ['b"q']})
    template = StatesTemplate(graph)

    assert template.text == orjson.dumps(
        {
            "d": {"status": "LOCKED"},
            "a": {"status": "AVAILABLE"},
            'b"q': {"status": "AVAILABLE"},
            "c": {"status": "LOCKED"},
        }
    )
    assert list(orjson.loads(template.text)) == graph.by_position
    assert template.splice([(3, b"1"), (0, b"[]")]) == orjson.dumps(
        {"d": [], "a": {"status": "AVAILABLE"}, 'b"q': {"status": "AVAILABLE"}, "c": 1}
    )


@given(graphs_and_rows())
def test_the_changes_on_the_defaults_are_every_skills_state(
    case: tuple[TreeGraph, list[dict[str, object]]],
) -> None:
    # GET /me/trees/{slug}/states sends only the changes: a client that puts them on the
    # defaults (AVAILABLE when a skill needs nothing, else LOCKED) has the full document's states.
    graph, rows = case
    full = orjson.loads(skill_states(graph, StatesTemplate(graph), json.dumps(rows)))
    changes = dict(state_changes(graph, json.dumps(rows)))

    assert len(changes) == len(state_changes(graph, json.dumps(rows)))  # each skill once
    for skill in graph.skills:
        default = {"status": "AVAILABLE" if not graph.needs[skill] else "LOCKED"}
        shown = orjson.loads(changes[skill]) if skill in changes else default
        assert shown == full[skill]
