"""catalog.tree_writes: holding a tree is for tree writers only, and writers do not nest."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from skilltree.catalog.tree_writes import hold_tree, tree_writer
from tests.factories import make_category, make_tree


def test_holding_a_tree_outside_a_tree_writer_is_refused(session: Session) -> None:
    tree = make_tree(session, make_category(session))
    with pytest.raises(RuntimeError, match="tree writers"):
        hold_tree(session, tree.id)


def test_tree_writers_do_not_nest(session: Session) -> None:
    @tree_writer
    def inner(session: Session) -> None:
        pass

    @tree_writer
    def outer(session: Session) -> None:
        inner(session)

    with pytest.raises(RuntimeError, match="do not nest"):
        outer(session)
    inner(session)  # the failed writer left nothing behind


def test_a_tree_deleted_before_it_is_held_is_reported(session: Session) -> None:
    tree = make_tree(session, make_category(session))
    session.delete(tree)
    session.flush()

    @tree_writer
    def hold(session: Session) -> bool:
        return hold_tree(session, tree.id)

    assert hold(session) is False
