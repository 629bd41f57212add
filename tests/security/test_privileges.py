"""What `skilltree_app` may do in plain SQL to accounts (migration 0024): no password or token
hash, no email, no role; a profile only its learner writes; secrets only through the narrow
SECURITY DEFINER functions, each of which needs the password or the token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session

from skilltree.accounts.passwords import hash_like, hash_password
from skilltree.accounts.service import new_token, token_digest, token_user
from skilltree.db.rls import APP_ROLE, LEARNER_SETTING, act_as_learner, act_as_owner
from skilltree.models import User, UserProfile, UserSession
from tests.factories import make_category, make_skill, make_tree, make_user
from tests.security.conftest import Learners

DENIED = "permission denied"
REFUSED = "new row violates row-level security policy"


def refused(session: Session, statement: str, match: str = DENIED, **parameters: Any) -> None:
    """`statement` fails with `match`, in a savepoint, so the test's transaction goes on."""
    with pytest.raises(ProgrammingError, match=match), session.begin_nested():
        session.execute(text(statement), parameters)


def learner(session: Session) -> str:
    return str(session.execute(text(f"SELECT current_setting('{LEARNER_SETTING}', true)")).scalar())


def profile_of(session: Session, user: User) -> UserProfile:
    """`user`'s profile, as the owner writes it (created when missing)."""
    profile = session.get(UserProfile, user.id)
    if profile is None:
        profile = UserProfile(user_id=user.id)
        session.add(profile)
        session.flush()
    return profile


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "SELECT password_hash FROM users",
        "SELECT email FROM users",
        "SELECT * FROM users",
        "SELECT u FROM users u",  # a whole-row reference reads every column
        "SELECT count(*) FROM users WHERE password_hash LIKE '$argon2%'",  # so does a filter
        "SELECT id FROM users WHERE email = 'user1@example.com'",
        "SELECT token_hash FROM user_sessions",
        "SELECT * FROM user_sessions",
        "SELECT id FROM user_sessions WHERE token_hash IS NOT NULL",
    ],
)
def test_the_role_reads_no_hash_and_no_email(
    session: Session, learners: Learners, query: str
) -> None:
    act_as_learner(session, learners.a.id)
    refused(session, query)


def test_not_even_its_own_email_or_hashes(session: Session, learners: Learners) -> None:
    act_as_learner(session, learners.a.id)
    refused(session, "SELECT email, password_hash FROM users WHERE id = :me", me=learners.a.id)
    refused(session, "SELECT token_hash FROM user_sessions WHERE user_id = :me", me=learners.a.id)


def test_the_role_reads_what_the_api_shows(session: Session, learners: Learners) -> None:
    # Every user's public columns (the leaderboard's usernames), the learner's own sessions.
    for user in (learners.a, learners.b):
        profile_of(session, user)
    act_as_learner(session, learners.a.id)
    board = session.execute(
        text(
            "SELECT u.id, u.username, u.role, u.is_active, p.total_xp, p.current_level"
            " FROM users u JOIN user_profiles p ON p.user_id = u.id"
        )
    ).all()
    assert {learners.a.id, learners.b.id} <= {row.id for row in board}
    sessions = session.execute(
        text("SELECT user_id, expires_at, is_active, last_activity_at FROM user_sessions")
    ).all()
    assert {row.user_id for row in sessions} == {learners.a.id}


# --- roles -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE users SET role = 'ADMIN' WHERE id = :me",
        "UPDATE users SET role = 'ADMIN'",
        "UPDATE users SET is_active = true WHERE id = :me",
        "UPDATE users SET username = 'renamed' WHERE id = :me",
        "UPDATE users SET last_login_at = now() WHERE id = :me",
        "DELETE FROM users WHERE id = :me",
        "INSERT INTO users (id, email, username, password_hash, role)"
        " VALUES ('x1', 'x1@example.com', 'x1', 'x', 'ADMIN')",
        "INSERT INTO users (id, email, username, password_hash, email_verified)"
        " VALUES ('x2', 'x2@example.com', 'x2', 'x', true)",
    ],
)
def test_the_role_cannot_raise_itself_nor_change_any_account(
    session: Session, learners: Learners, statement: str
) -> None:
    act_as_learner(session, learners.a.id)
    refused(session, statement, me=learners.a.id)


def test_the_role_may_register_a_learner_and_nothing_more(session: Session) -> None:
    act_as_learner(session, None)
    session.execute(
        text(
            "INSERT INTO users (id, email, username, password_hash, first_name, last_name)"
            " VALUES ('newcomer-1', 'new@example.com', 'newcomer', 'x', 'Ada', 'Lovelace')"
        )
    )
    act_as_owner(session)
    assert session.execute(
        text("SELECT role, email_verified, is_active FROM users WHERE id = 'newcomer-1'")
    ).one() == ("LEARNER", False, True)


def test_the_owner_still_changes_roles(session: Session, learners: Learners) -> None:
    # `skilltree users set-role` runs as the owner (the CLI).
    session.execute(text("UPDATE users SET role = 'ADMIN' WHERE id = :me"), {"me": learners.a.id})
    session.refresh(learners.a)
    assert learners.a.role.value == "ADMIN"


# --- profiles --------------------------------------------------------------------------------


def test_a_learner_changes_their_own_profile_and_no_one_elses(
    session: Session, learners: Learners
) -> None:
    a, b = profile_of(session, learners.a), profile_of(session, learners.b)
    a_xp, b_xp = a.total_xp, b.total_xp
    act_as_learner(session, learners.a.id)
    theirs = session.execute(
        text("UPDATE user_profiles SET total_xp = 100000 WHERE user_id = :b"), {"b": learners.b.id}
    )
    assert theirs.rowcount == 0  # type: ignore[attr-defined]
    every = session.execute(text("UPDATE user_profiles SET total_xp = total_xp + 1"))
    assert every.rowcount == 1  # type: ignore[attr-defined]
    act_as_owner(session)
    session.expire_all()
    assert (a.total_xp, b.total_xp) == (a_xp + 1, b_xp)


def test_a_learner_creates_only_their_own_profile(session: Session) -> None:
    me, someone_else = make_user(session), make_user(session)
    act_as_learner(session, me.id)
    refused(
        session, "INSERT INTO user_profiles (user_id) VALUES (:id)", REFUSED, id=someone_else.id
    )
    session.execute(text("INSERT INTO user_profiles (user_id) VALUES (:id)"), {"id": me.id})


def test_a_profile_cannot_be_handed_to_another_learner(
    session: Session, learners: Learners
) -> None:
    profile_of(session, learners.a)
    newcomer = make_user(session)
    act_as_learner(session, learners.a.id)
    refused(session, "UPDATE user_profiles SET user_id = :new", REFUSED, new=newcomer.id)


def test_no_profile_is_deleted_by_the_role(session: Session, learners: Learners) -> None:
    profile_of(session, learners.a)
    act_as_learner(session, learners.a.id)
    refused(session, "DELETE FROM user_profiles WHERE user_id = :me", me=learners.a.id)


def test_with_no_learner_no_profile_is_written(session: Session, learners: Learners) -> None:
    profile_of(session, learners.a)
    act_as_learner(session, None)
    touched = session.execute(text("UPDATE user_profiles SET total_xp = 7"))
    assert touched.rowcount == 0  # type: ignore[attr-defined]
    refused(session, "INSERT INTO user_profiles (user_id) VALUES (:id)", REFUSED, id="nobody")


def test_an_author_still_recounts_every_learner_of_their_tree(session: Session) -> None:
    # refresh_tree_enrolments is SECURITY DEFINER: it writes the tree's learners' profiles for
    # an author acting as the role, which row-level security would not let the author do.
    author, learner = make_user(session), make_user(session)
    tree = make_tree(session, make_category(session), created_by=author.id)
    skill = make_skill(session, tree)
    session.commit()
    act_as_learner(session, learner.id)
    session.execute(text("SELECT progress_enrol(:u, :t, now())"), {"u": learner.id, "t": tree.slug})
    session.execute(
        text("SELECT progress_skill_event('COMPLETE', :u, :s, now())"),
        {"u": learner.id, "s": skill.id},
    )
    act_as_owner(session)
    session.execute(
        text("UPDATE user_profiles SET skills_completed = 0 WHERE user_id = :u"), {"u": learner.id}
    )
    act_as_learner(session, author.id)
    learners = session.execute(text("SELECT hold_tree_learners(:t)"), {"t": tree.id}).scalar_one()
    session.execute(
        text("SELECT refresh_tree_enrolments(:t, :learners)"), {"t": tree.id, "learners": learners}
    )
    act_as_owner(session)
    recounted = session.execute(
        text("SELECT skills_completed FROM user_profiles WHERE user_id = :u"), {"u": learner.id}
    ).scalar_one()
    assert recounted == 1


# --- the functions -----------------------------------------------------------------------------


PASSWORD = "correct horse"


def user_with_password(session: Session) -> User:
    return make_user(session, password_hash=hash_password(PASSWORD))


def settings_for(session: Session, email: str | None, username: str | None) -> tuple[Any, ...]:
    return tuple(
        session.execute(
            text("SELECT settings, hash_length FROM account_password_settings(:email, :username)"),
            {"email": email, "username": username},
        ).one()
    )


def verify(session: Session, email: str | None, username: str | None, candidate: str) -> Any:
    return session.execute(
        text("SELECT * FROM account_verify_login(:email, :username, :candidate)"),
        {"email": email, "username": username, "candidate": candidate},
    ).one()


def test_the_password_settings_are_the_salt_and_parameters_not_the_hash(
    session: Session,
) -> None:
    user = user_with_password(session)
    stored = user.password_hash
    act_as_learner(session, None)
    by_email = settings_for(session, user.email, None)
    assert by_email == settings_for(session, None, user.username)
    settings, hash_length = by_email
    assert stored.startswith(settings + "$")
    assert stored.rsplit("$", 1)[1] not in settings
    assert hash_length == 32
    assert settings_for(session, "nobody@example.com", None) == (None, None)
    assert settings_for(session, None, user.username.upper()) == by_email  # any case


def test_the_password_settings_name_the_account_for_the_sign_in_throttle(
    session: Session,
) -> None:
    user = user_with_password(session)
    act_as_learner(session, None)
    for email, username in (
        (user.email, None),
        (None, user.username),
        (None, user.username.upper()),
    ):
        found = session.execute(
            text("SELECT user_id FROM account_password_settings(:email, :username)"),
            {"email": email, "username": username},
        ).scalar_one()
        assert found == user.id


def test_a_login_is_verified_in_the_database(session: Session) -> None:
    user = user_with_password(session)
    act_as_learner(session, None)
    settings, hash_length = settings_for(session, None, user.username)

    wrong = verify(session, None, user.username, hash_like(settings, hash_length, "incorrect"))
    assert tuple(wrong) == (None, None)
    assert learner(session) == ""

    right = verify(session, None, user.username, hash_like(settings, hash_length, PASSWORD))
    assert tuple(right) == (user.id, user.email)
    # Proving the password makes the user the transaction's learner, and records the login.
    assert learner(session) == user.id
    act_as_owner(session)
    session.refresh(user)
    assert user.last_login_at is not None


def test_the_stored_hash_itself_does_not_pass(session: Session) -> None:
    # What is compared is a hash computed from a password, never something read back.
    user = user_with_password(session)
    act_as_learner(session, None)
    assert tuple(verify(session, user.email, None, "")) == (None, None)
    assert tuple(verify(session, user.email, None, hash_password(PASSWORD))) == (None, None)


def test_an_inactive_user_has_no_settings_and_cannot_sign_in(session: Session) -> None:
    user = user_with_password(session)
    stored_settings = user.password_hash.rsplit("$", 1)[0]
    candidate = hash_like(stored_settings, 32, PASSWORD)
    user.is_active = False
    session.flush()
    act_as_learner(session, None)
    assert settings_for(session, user.email, None) == (None, None)
    assert tuple(verify(session, user.email, None, candidate)) == (None, None)


def live_session(session: Session, user: User, **overrides: Any) -> str:
    token = new_token(user.id)
    values: dict[str, Any] = {
        "user_id": user.id,
        "token_hash": token_digest(token),
        "expires_at": datetime.now(UTC) + timedelta(hours=1),
    }
    login = UserSession(**(values | overrides))
    session.add(login)
    session.flush()
    return token


def look_up(session: Session, token: str) -> tuple[Any, ...]:
    return tuple(
        session.execute(
            text("SELECT user_id, email FROM account_session(:hash, :user)"),
            {"hash": token_digest(token), "user": token_user(token)},
        ).one()
    )


def test_a_session_is_found_by_its_token_hash(session: Session) -> None:
    user = make_user(session)
    token = live_session(session, user)
    act_as_learner(session, None)
    assert look_up(session, "not a token") == (None, None)
    assert learner(session) == ""
    assert look_up(session, token) == (user.id, user.email)
    # Presenting the token makes its user the transaction's learner.
    assert learner(session) == user.id


@pytest.mark.parametrize(
    "overrides",
    [
        {"expires_at": datetime.now(UTC) - timedelta(seconds=1)},
        {"is_active": False, "ended_at": datetime.now(UTC)},
    ],
)
def test_an_expired_or_ended_session_is_not_found(
    session: Session, overrides: dict[str, Any]
) -> None:
    token = live_session(session, make_user(session), **overrides)
    act_as_learner(session, None)
    assert look_up(session, token) == (None, None)


def test_the_session_of_an_inactive_user_is_not_found(session: Session) -> None:
    token = live_session(session, make_user(session, is_active=False))
    act_as_learner(session, None)
    assert look_up(session, token) == (None, None)


ACCOUNT_FUNCTIONS = (
    "account_password_settings(text, text)",
    "account_verify_login(text, text, text)",
    "account_session(bytea, text)",
)


@pytest.mark.parametrize("function", ACCOUNT_FUNCTIONS)
def test_only_the_api_role_may_call_the_account_functions(
    connection: Connection, function: str
) -> None:
    may = "SELECT has_function_privilege(:role, :function, 'EXECUTE')"
    for role, allowed in ((APP_ROLE, True), ("public", False)):
        assert connection.execute(text(may), {"role": role, "function": function}).scalar() is (
            allowed
        )
