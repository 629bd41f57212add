"""Skill states as the rules define them, from a tree's prerequisites and a learner's rows.

Pure functions (no database). A skill with no row, or a row saying LOCKED or AVAILABLE, takes its
state from its prerequisites: AVAILABLE when every active prerequisite is satisfied (COMPLETED, or
SKIPPED when optional), else LOCKED. IN_PROGRESS, COMPLETED and SKIPPED are what the row says.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

from skilltree.graph import dag
from skilltree.models import SkillProgressStatus as Status

RECORDED = frozenset({Status.IN_PROGRESS, Status.COMPLETED, Status.SKIPPED})


def is_satisfied(skill: str, rows: Mapping[str, Status], optional: Collection[str]) -> bool:
    """Whether `skill` no longer holds back the skills that need it."""
    status = rows.get(skill)
    return status is Status.COMPLETED or (status is Status.SKIPPED and skill in optional)


def state_of(
    skill: str,
    needs: Mapping[str, list[str]],
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


def missing_prerequisites(
    skill: str,
    needs: Mapping[str, list[str]],
    rows: Mapping[str, Status],
    optional: Collection[str],
    name: Callable[[str], str] = str,
) -> list[str]:
    """Unsatisfied prerequisites of `skill`, at any depth: nearest first, then by name."""
    distance = dag.transitive_prerequisites(needs, skill)
    missing = [p for p in distance if not is_satisfied(p, rows, optional)]
    return sorted(missing, key=lambda p: (distance[p], name(p), p))
