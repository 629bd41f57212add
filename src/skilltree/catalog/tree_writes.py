"""Changes of a tree that its learners' progress is counted from, and the one way they are made.

Adding, deleting or (de)activating a skill, making it optional or a milestone, changing
prerequisites, deleting a tree or re-importing it: each changes what the tree's learners have
unlocked and what their enrolments and profiles count. Every such writer is a `tree_writer` and
calls `hold_tree` before its first write to the tree; the learners of every tree it held are
recounted after its last write, in the same unit of work. Nothing else recounts learners.

Why the hold comes first (issue 12). A progress event locks its learner's profile, then writes
the learner's rows, whose foreign keys lock the skills they name, and a learner's first event in
a tree locks the tree before counting its skills. A change that wrote (locking what it deleted)
and only then locked the learners to recount them deadlocked with an event between its two
steps, and an event that read a skill before the change deleted it wrote a row for it.
`hold_tree` locks the tree and then its learners' profiles before the change writes anything:
an event in flight finishes first, a later one waits for the change and reads what it left.

After its last write, a tree writer also stores what "what next" ranks the skills of each tree
it changed by (graph.ranks: their chains ahead, linear in the tree), before the learners are
recounted: a learner's request then reads the ranks of the skills it looks at, never the whole
graph. A tree the writer created (nothing to hold) is named with `tree_created`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from skilltree.graph import ranks
from skilltree.progress import service as learners

P = ParamSpec("P")
T = TypeVar("T")

_HELD = "skilltree.catalog.held_trees"
"""session.info key: tree id -> the learners held for it, during a tree writer."""


def tree_writer(
    service: Callable[Concatenate[Session, P], T],
) -> Callable[Concatenate[Session, P], T]:
    """`service(session, ...)`, after whose last write every tree it held (`hold_tree`) or
    created (`tree_created`) gets its ranks stored (graph.ranks) and its learners recounted.
    Put `atomic` outside it: a rerun holds the trees again."""

    @functools.wraps(service)
    def run(session: Session, /, *args: P.args, **kwargs: P.kwargs) -> T:
        if _HELD in session.info:
            raise RuntimeError(f"{service.__name__}: tree writers do not nest")
        held: dict[str, list[str]] = {}
        session.info[_HELD] = held
        try:
            result = service(session, *args, **kwargs)
            for tree_id, tree_learners in held.items():
                ranks.refresh(session, tree_id)
                learners.recount_learners(session, tree_id, tree_learners)
            return result
        finally:
            del session.info[_HELD]

    return run


def hold_tree(session: Session, tree_id: str) -> bool:
    """Before a tree writer's first write to tree `tree_id`: lock the tree and its learners
    until the transaction ends, and have the learners recounted after the writer's last write.
    False: the tree is gone (deleted since the writer read it)."""
    held: dict[str, list[str]] | None = session.info.get(_HELD)
    if held is None:
        raise RuntimeError("hold_tree is for tree writers (tree_writer)")
    if tree_id not in held:
        found = learners.hold_learners(session, tree_id)
        if found is None:
            return False
        held[tree_id] = found
    return True


def tree_created(session: Session, tree_id: str) -> None:
    """A tree writer created tree `tree_id` (it has no learners to hold): its ranks are stored
    after the writer's last write, as those of the trees it held."""
    held: dict[str, list[str]] | None = session.info.get(_HELD)
    if held is None:
        raise RuntimeError("tree_created is for tree writers (tree_writer)")
    held.setdefault(tree_id, [])
