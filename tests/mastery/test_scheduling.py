"""FSRS as the API runs it, and PostgreSQL's copy of its first intervals and of the level rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fsrs import Card, Rating
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Connection, text

from skilltree.mastery import scheduling

AT = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
MAXIMUM = timedelta(days=scheduling.SCHEDULER.maximum_interval)


def sql(connection: Connection, expression: str, **values: Any) -> Any:
    return connection.execute(text(f"SELECT {expression}"), values).scalar_one()


@pytest.mark.parametrize("rating", [1, 2, 3, 4])
def test_sql_first_intervals_are_fsrs_own(connection: Connection, rating: int) -> None:
    days = sql(connection, "mastery_first_days(:r)", r=rating)
    assert days == scheduling.first_days(rating)
    assert scheduling.first_card(AT, rating).due == AT + timedelta(days=days)


def test_a_better_completion_is_due_later() -> None:
    assert [scheduling.first_days(r) for r in (1, 2, 3, 4)] == sorted(
        scheduling.first_days(r) for r in (1, 2, 3, 4)
    )


@given(ratings=st.lists(st.sampled_from([2, 3, 4]), min_size=1, max_size=6))
def test_a_good_review_when_due_always_gives_a_longer_interval(ratings: list[int]) -> None:
    card = scheduling.first_card(AT, 3)
    for rating in ratings:
        assert card.last_review is not None
        interval = card.due - card.last_review
        begun = {"card": card.to_dict(), "rating": rating}
        after = scheduling.reviewed(begun, card.due)
        assert after.due > card.due  # due dates move forward
        if rating >= 3 and after.due - card.due < MAXIMUM:
            assert after.due - card.due > interval  # and further apart after a good review
        card = after


def test_a_review_before_the_last_one_is_made_at_the_last_ones_time() -> None:
    card = scheduling.first_card(AT, 3)
    after = scheduling.reviewed({"card": card.to_dict(), "rating": 3}, AT - timedelta(hours=1))
    assert after.last_review == AT
    assert after.due > AT


def test_a_card_not_stored_yet_starts_from_its_completion() -> None:
    begun = {"card": None, "completedAt": AT.isoformat(), "completionRating": 2, "rating": 3}
    after = scheduling.reviewed(begun, AT + timedelta(days=1))
    expected, _ = scheduling.SCHEDULER.review_card(
        scheduling.first_card(AT, 2), Rating.Good, AT + timedelta(days=1)
    )
    assert after.to_dict() == expected.to_dict()
    assert Card.from_dict(after.to_dict()).due == after.due


@pytest.mark.parametrize(
    ("evidence", "verified", "level"),
    [
        (0, False, "FAMILIAR"),
        (0.5, False, "FAMILIAR"),
        (1, False, "PROFICIENT"),
        (1, True, "PROFICIENT"),
        (2, False, "PROFICIENT"),
        (5, False, "PROFICIENT"),
        (2, True, "MASTERED"),
        (1.5, True, "PROFICIENT"),
    ],
)
def test_the_level_the_evidence_supports(
    connection: Connection, evidence: float, verified: bool, level: str
) -> None:
    found = sql(connection, "mastery_level_for(CAST(:e AS numeric), :v)", e=evidence, v=verified)
    assert found == level


DAY = timedelta(days=1)


@pytest.mark.parametrize(
    ("earned", "now", "shown"),
    [
        ("MASTERED", AT + 4 * DAY, "MASTERED"),  # not due yet
        ("MASTERED", AT + 10 * DAY, "MASTERED"),  # due this instant: not overdue
        ("MASTERED", AT + 10 * DAY + timedelta(seconds=1), "PROFICIENT"),  # overdue
        ("MASTERED", AT + 20 * DAY, "PROFICIENT"),
        ("MASTERED", AT + 20 * DAY + timedelta(seconds=1), "FAMILIAR"),  # by more than 10 days
        ("PROFICIENT", AT + 11 * DAY, "FAMILIAR"),
        ("FAMILIAR", AT + 400 * DAY, "FAMILIAR"),  # never below
    ],
)
def test_an_overdue_level_is_shown_lower(
    connection: Connection, earned: str, now: datetime, shown: str
) -> None:
    # Reviewed at AT, due 10 days later.
    assert (
        sql(
            connection,
            'mastery_shown_level(CAST(:l AS "MasteryLevel"), :due, :last, :now)',
            l=earned,
            due=AT + 10 * DAY,
            last=AT,
            now=now,
        )
        == shown
    )
