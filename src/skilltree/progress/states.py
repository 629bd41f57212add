"""Skill states as the rules define them, from a tree's prerequisites and a learner's rows.

A skill with no row, or a row saying LOCKED or AVAILABLE, takes its state from its prerequisites:
AVAILABLE when every active prerequisite is satisfied (COMPLETED, or SKIPPED when optional), else
LOCKED. IN_PROGRESS, COMPLETED and SKIPPED are what the row says.

Pure functions (no database), for the read side (tree documents, learning paths), which derives
every skill's state from the cached graph. Progress events apply the same rule in SQL
(`progress_skill_state`, db/schema/progress.sql); tests/progress/test_sql_engine.py checks they
agree.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from skilltree.models import SkillProgressStatus as Status

RECORDED = frozenset({Status.IN_PROGRESS, Status.COMPLETED, Status.SKIPPED})


def is_satisfied(skill: str, rows: Mapping[str, Status], optional: Collection[str]) -> bool:
    """Whether `skill` no longer holds back the skills that need it."""
    status = rows.get(skill)
    return status is Status.COMPLETED or (status is Status.SKIPPED and skill in optional)


def state_of(
    skill: str,
    needs: Mapping[str, Iterable[str]],
    rows: Mapping[str, Status],
    optional: Collection[str],
) -> Status:
    """The learner's state in `skill`."""
    status = rows.get(skill)
    if status in RECORDED:
        return status
    if all(is_satisfied(p, rows, optional) for p in needs.get(skill, ())):
        return Status.AVAILABLE
    return Status.LOCKED


def satisfied_skills(rows: Mapping[str, Status], optional: Collection[str]) -> set[str]:
    """The skills of `rows` that no longer hold back the skills that need them (is_satisfied),
    for deciding the states of many skills at once (`state_given`)."""
    # is_satisfied, inlined (a learner far into a large tree has 10,000 rows).
    return {
        skill
        for skill, status in rows.items()
        if status is Status.COMPLETED or (status is Status.SKIPPED and skill in optional)
    }


def state_given(
    skill: str,
    needs: Mapping[str, Iterable[str]],
    rows: Mapping[str, Status],
    satisfied: set[str],
) -> Status:
    """The learner's state in `skill`, as `state_of`, with their `satisfied_skills` known."""
    status = rows.get(skill)
    if status in RECORDED:
        return status
    if satisfied.issuperset(needs.get(skill, ())):
        return Status.AVAILABLE
    return Status.LOCKED
