"""As `skilltree_app`, each learner table shows and takes only the current learner's rows."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from skilltree.db.rls import APP_ROLE, act_as_learner, act_as_owner
from skilltree.models import Base
from tests.factories import make_user
from tests.security.conftest import PROTECTED_TABLES, Learners, learner_row

REFUSED = "new row violates row-level security policy"
DENIED = "permission denied"


def owners(session: Session, table: str) -> set[str]:
    """Whose rows of `table` the session sees (a query that forgot `WHERE user_id`)."""
    return set(session.execute(text(f"SELECT user_id FROM {table}")).scalars())


def write(session: Session, row: Base) -> None:
    """Insert `row` in a savepoint, so a refusal leaves the test's transaction usable."""
    with session.begin_nested():
        session.add(row)


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_a_query_without_where_sees_only_the_learners_rows(
    session: Session, learners: Learners, table: str
) -> None:
    act_as_learner(session, learners.a.id)
    assert owners(session, table) == {learners.a.id}
    act_as_learner(session, learners.b.id)
    assert owners(session, table) == {learners.b.id}


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_the_owner_sees_every_learners_rows(
    session: Session, learners: Learners, table: str
) -> None:
    act_as_learner(session, learners.a.id)
    act_as_owner(session)
    assert owners(session, table) >= {learners.a.id, learners.b.id}


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_with_no_learner_nothing_is_visible(
    session: Session, learners: Learners, table: str
) -> None:
    act_as_learner(session, None)
    assert owners(session, table) == set()


def test_with_the_setting_never_made_nothing_is_visible(
    connection: Connection, learners: Learners
) -> None:
    connection.execute(text("RESET app.current_user_id"))
    connection.execute(text(f"SET LOCAL ROLE {APP_ROLE}"))
    for table in PROTECTED_TABLES:
        assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_a_learner_writes_their_own_rows_and_no_one_elses(
    session: Session, learners: Learners, table: str
) -> None:
    newcomer, someone_else = make_user(session), make_user(session)
    act_as_learner(session, newcomer.id)
    write(session, learner_row(table, newcomer, learners.catalog))
    with pytest.raises(ProgrammingError, match=REFUSED):
        write(session, learner_row(table, someone_else, learners.catalog))


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_with_no_learner_no_row_can_be_written(
    session: Session, learners: Learners, table: str
) -> None:
    someone = make_user(session)
    act_as_learner(session, None)
    with pytest.raises(ProgrammingError, match=REFUSED):
        write(session, learner_row(table, someone, learners.catalog))


# progress_events is left out: it refuses every UPDATE (append-only, migration 0006).
@pytest.mark.parametrize("table", [t for t in PROTECTED_TABLES if t != "progress_events"])
def test_a_row_cannot_be_handed_to_another_learner(
    session: Session, learners: Learners, table: str
) -> None:
    # A session's user_id cannot even be updated (migration 0024: its time and end only).
    refusal = DENIED if table == "user_sessions" else REFUSED
    act_as_learner(session, learners.a.id)
    with pytest.raises(ProgrammingError, match=refusal), session.begin_nested():
        session.execute(text(f"UPDATE {table} SET user_id = :b"), {"b": learners.b.id})


# A column each table lets the role update (user_sessions: not user_id, migration 0024).
UPDATABLE = dict.fromkeys(PROTECTED_TABLES, "user_id") | {"user_sessions": "last_activity_at"}


@pytest.mark.parametrize("table", PROTECTED_TABLES)
def test_updates_and_deletes_without_where_touch_only_the_learners_rows(
    session: Session, learners: Learners, table: str
) -> None:
    act_as_learner(session, learners.a.id)
    if table != "progress_events":
        column = UPDATABLE[table]
        touched = session.execute(text(f"UPDATE {table} SET {column} = {column}"))
        assert touched.rowcount == 1  # type: ignore[attr-defined]
    if table == "user_sessions":  # a session ends, it is never deleted (migration 0024)
        with pytest.raises(ProgrammingError, match=DENIED), session.begin_nested():
            session.execute(text(f"DELETE FROM {table}"))
    else:
        deleted = session.execute(text(f"DELETE FROM {table}"))
        assert deleted.rowcount == 1  # type: ignore[attr-defined]
    act_as_owner(session)
    assert learners.b.id in owners(session, table)


def test_users_stay_readable_across_learners(session: Session, learners: Learners) -> None:
    # The leaderboard ranks every learner: users are not row-protected (their secrets are
    # column-protected, tests/security/test_privileges.py).
    act_as_learner(session, learners.a.id)
    ids = set(session.execute(text("SELECT id FROM users")).scalars())
    assert {learners.a.id, learners.b.id} <= ids
