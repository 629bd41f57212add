"""The race tests' committed rows leave nothing behind, even rows the test kept no reference to
(other tests count categories and users)."""

from __future__ import annotations

import gc

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from skilltree.models import SkillCategory, SkillTree, User
from tests.committed import committed_rows
from tests.factories import make_category, make_skill, make_tree, make_user


def counts(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(kind))
            for kind in (User, SkillTree, SkillCategory)
        )


def test_committed_rows_are_all_deleted_at_the_end(engine: Engine) -> None:
    before = counts(engine)
    with committed_rows(engine) as session:
        make_skill(session, make_tree(session, make_category(session)))
        make_user(session)
        session.commit()
        gc.collect()  # nothing references them: the session's identity map has let them go
        assert counts(engine) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert counts(engine) == before
