"""The XP histogram (migration 0013) always equals a full recount of user_profiles.total_xp."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Engine, delete, text
from sqlalchemy.orm import Session

from skilltree.db.rls import act_as_learner
from skilltree.gamification import repository
from skilltree.models import User, UserProfile
from tests.factories import make_user

DIFFERENCES = """
SELECT coalesce(h.total_xp, p.total_xp), coalesce(h.learners, 0), coalesce(p.learners, 0)
FROM (SELECT total_xp, sum(learners) AS learners
      FROM (SELECT total_xp, learners FROM xp_histogram
            UNION ALL SELECT total_xp, learners FROM xp_histogram_pending) rows
      GROUP BY total_xp) h
FULL JOIN (SELECT total_xp, count(*) AS learners FROM user_profiles GROUP BY total_xp) p
       ON p.total_xp = h.total_xp
WHERE coalesce(h.learners, 0) <> coalesce(p.learners, 0)
"""


def differences(connection: Connection | Session) -> list[tuple[int, int, int]]:
    """(XP, histogram count, recount) wherever the histogram is wrong (XP changes move it at
    commit: make the transaction's pending moves now)."""
    connection.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))
    return [tuple(row) for row in connection.execute(text(DIFFERENCES))]  # type: ignore[misc]


CHANGES = st.lists(
    st.tuples(
        st.sampled_from(["set", "add", "delete", "bulk"]), st.integers(0, 5), st.integers(0, 300)
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=CHANGES)
def test_the_histogram_equals_a_recount_after_any_changes(
    session: Session, changes: list[tuple[str, int, int]]
) -> None:
    with session.begin_nested() as example:
        users = [make_user(session) for _ in range(6)]
        session.add_all(UserProfile(user_id=u.id) for u in users)
        session.flush()
        ids = [u.id for u in users]
        for kind, index, xp in changes:
            user_id = ids[index]
            if kind == "set":
                session.execute(
                    text("UPDATE user_profiles SET total_xp = :xp WHERE user_id = :u"),
                    {"xp": xp, "u": user_id},
                )
            elif kind == "add":
                session.execute(
                    text("UPDATE user_profiles SET total_xp = total_xp + :xp WHERE user_id = :u"),
                    {"xp": xp, "u": user_id},
                )
            elif kind == "delete":
                session.execute(delete(User).where(User.id == user_id))
            else:  # one statement moving every learner, some to the same value
                session.execute(
                    text(
                        "UPDATE user_profiles SET total_xp = (total_xp + :xp) % 7 * 50"
                        " WHERE user_id = ANY(:ids)"
                    ),
                    {"xp": xp, "ids": ids},
                )
            assert differences(session) == []
        example.rollback()


def test_ranks_come_from_the_histogram(session: Session) -> None:
    base = repository.rank_of_xp(session, 10**9)
    assert base == 1
    users = [make_user(session) for _ in range(4)]
    for user, xp in zip(users, [10**8 + 5, 10**8 + 5, 10**8 + 1, 10**8], strict=True):
        session.add(UserProfile(user_id=user.id, total_xp=xp))
    session.flush()
    assert repository.rank_of_xp(session, 10**8 + 5) == 1
    assert repository.rank_of_xp(session, 10**8 + 1) == 3
    assert repository.rank_of_xp(session, 10**8) == 4


def test_the_api_role_reads_the_histogram_but_cannot_write_it(session: Session) -> None:
    user = make_user(session)
    session.add(UserProfile(user_id=user.id))
    session.flush()
    act_as_learner(session, user.id)
    assert repository.rank_of_xp(session, -1) >= 1
    # Its XP changes still move the histogram (the trigger runs as the owner).
    session.execute(
        text("UPDATE user_profiles SET total_xp = 12345 WHERE user_id = :u"), {"u": user.id}
    )
    with pytest.raises(Exception, match="permission denied"), session.begin_nested():
        session.execute(text("UPDATE xp_histogram SET learners = learners + 1"))
    assert differences(session) == []


@pytest.fixture
def profiles(engine: Engine) -> Iterator[list[str]]:
    """Committed learners (parallel connections must see them)."""
    tag = uuid.uuid4().hex[:8]
    with Session(engine) as session:
        users = [
            User(email=f"h{tag}{n}@example.com", username=f"h{tag}{n}", password_hash="x")
            for n in range(8)
        ]
        session.add_all(users)
        session.flush()
        session.add_all(UserProfile(user_id=u.id) for u in users)
        session.commit()
        ids = [u.id for u in users]
    yield ids
    with Session(engine) as session:
        session.execute(delete(User).where(User.id.in_(ids)))
        session.commit()


def test_concurrent_xp_changes_keep_the_histogram_exact(
    engine: Engine, profiles: list[str]
) -> None:
    """8 connections move their learners through the same XP values at the same time."""
    barrier = threading.Barrier(len(profiles))
    failures: list[BaseException] = []

    def run(user_id: str) -> None:
        try:
            barrier.wait()
            for step in range(25):
                with engine.begin() as conn:
                    conn.execute(
                        text(
                            "UPDATE user_profiles SET total_xp = total_xp + :d WHERE user_id = :u"
                        ),
                        {"d": 10 * (step % 3), "u": user_id},
                    )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(u,)) for u in profiles]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    with engine.connect() as conn:
        assert differences(conn) == []


def test_a_move_never_waits_for_a_held_row_and_is_folded_in_later(
    engine: Engine, profiles: list[str]
) -> None:
    """B moves while A holds the rows: B's change goes pending; the next mover folds it in."""
    move = text("UPDATE user_profiles SET total_xp = :xp WHERE user_id = :u")
    pending = text("SELECT count(*) FROM xp_histogram_pending WHERE total_xp IN (0, 70)")
    with engine.connect() as a, engine.connect() as b:
        a.execute(text("SET lock_timeout = '5s'"))
        a.execute(move, {"xp": 70, "u": profiles[0]})
        a.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # A now holds the rows of 0 and 70
        b.execute(text("SET lock_timeout = '2s'"))  # would fail, not hang, if B waited
        before = b.execute(pending).scalar_one()
        b.execute(move, {"xp": 70, "u": profiles[1]})
        b.commit()
        assert b.execute(pending).scalar_one() == before + 2  # -1 at 0, +1 at 70
        b.commit()
        a.commit()
    with engine.begin() as conn:
        assert differences(conn) == []
        conn.execute(move, {"xp": 70, "u": profiles[2]})
    with engine.begin() as conn:
        assert conn.execute(pending).scalar_one() == 0
        assert differences(conn) == []


def test_a_move_between_a_free_row_and_a_held_one_applies_one_side_and_defers_the_other(
    engine: Engine, profiles: list[str]
) -> None:
    """Since 0021 a move locks what it can of its two rows at once: the free row takes its side
    of the move at once, the held one's side goes pending, and neither waits."""
    move = text("UPDATE user_profiles SET total_xp = :xp WHERE user_id = :u")
    learners = text("SELECT learners FROM xp_histogram WHERE total_xp = :xp")
    pending = text(
        "SELECT coalesce(sum(learners), 0) FROM xp_histogram_pending WHERE total_xp = :xp"
    )
    with engine.begin() as conn:  # the rows exist (a new value's row is inserted once)
        conn.execute(move, {"xp": 40, "u": profiles[1]})
        conn.execute(move, {"xp": 75, "u": profiles[2]})
    with engine.connect() as a, engine.connect() as b:
        a.execute(move, {"xp": 75, "u": profiles[0]})
        a.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # A now holds the rows of 0 and 75
        b.execute(text("SET lock_timeout = '2s'"))  # would fail, not hang, if B waited
        at_40 = b.execute(learners, {"xp": 40}).scalar_one()
        pending_75 = b.execute(pending, {"xp": 75}).scalar_one()
        b.commit()
        b.execute(move, {"xp": 75, "u": profiles[1]})  # from 40 (free) to 75 (held by A)
        b.commit()
        assert b.execute(learners, {"xp": 40}).scalar_one() == at_40 - 1
        assert b.execute(pending, {"xp": 40}).scalar_one() == 0
        assert b.execute(pending, {"xp": 75}).scalar_one() == pending_75 + 1
        b.commit()
        a.commit()
    with engine.connect() as conn:
        assert differences(conn) == []


def test_compaction_folds_pending_changes_and_skips_a_row_held_by_a_learner(
    engine: Engine, profiles: list[str]
) -> None:
    """Housekeeping folds what is pending, but leaves a value whose row a progress event holds
    (that event folds it itself), without waiting."""
    move = text("UPDATE user_profiles SET total_xp = :xp WHERE user_id = :u")
    pending = text("SELECT count(*) FROM xp_histogram_pending WHERE total_xp IN (0, 80, 90)")
    with engine.begin() as conn:  # the values' rows exist (a new value's row is inserted once)
        conn.execute(move, {"xp": 80, "u": profiles[4]})
        conn.execute(move, {"xp": 90, "u": profiles[5]})
    with engine.connect() as a, engine.connect() as b:
        a.execute(move, {"xp": 80, "u": profiles[0]})
        a.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # A holds the rows of 0 and 80
        b.execute(move, {"xp": 80, "u": profiles[1]})
        b.commit()  # -1 at 0 and +1 at 80 pending
        a.commit()
        a.execute(move, {"xp": 90, "u": profiles[2]})
        a.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # A holds the rows of 0 and 90
        b.execute(move, {"xp": 90, "u": profiles[3]})
        b.commit()  # -1 at 0 and +1 at 90 pending
        assert b.execute(pending).scalar_one() >= 4
        with Session(b) as housekeeping:
            housekeeping.execute(text("SET LOCAL lock_timeout = '2s'"))  # fails if it waited
            folded, _ = repository.compact_xp_histogram(housekeeping)
            housekeeping.commit()
        assert folded >= 1  # 80's change; 0's and 90's rows are A's
        left = b.execute(
            text("SELECT DISTINCT total_xp FROM xp_histogram_pending WHERE total_xp IN (0, 80, 90)")
        ).scalars()
        assert set(left) == {0, 90}
        b.commit()
        a.commit()
    with engine.begin() as conn:
        assert differences(conn) == []
    with Session(engine) as session:
        repository.compact_xp_histogram(session)
        session.commit()
        assert session.execute(pending).scalar_one() == 0
        assert differences(session) == []
