"""When a skill's mastery is reviewed next: FSRS (the `fsrs` package) with its default parameters,
no learning steps (a skill is reviewed in days, not minutes) and no fuzz (the same reviews give
the same schedule).

A card's first review is its skill's completion (rated by `mastery_completion_rating`,
db/schema/mastery.sql); PostgreSQL knows the days that first review gives (`mastery_first_days`),
so a completed skill not reviewed yet is due without a stored card. tests/mastery/test_scheduling.py
checks both agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fsrs import Card, Rating, Scheduler

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
CARD_ID = 1
"""Every card's `card_id` (a card is named by its learner and skill: fsrs's own id, the time it
was made, is not needed, and making it sleeps a millisecond)."""


def first_card(completed_at: datetime, rating: int) -> Card:
    """The card of a skill completed at `completed_at`, its completion rated `rating` (1-4)."""
    card, _ = SCHEDULER.review_card(
        Card(card_id=CARD_ID, due=completed_at), Rating(rating), completed_at
    )
    return card


def first_days(rating: int) -> int:
    """The days until a new card rated `rating` is due."""
    at = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
    return (first_card(at, rating).due - at).days


def reviewed(begun: dict[str, Any], now: datetime) -> Card:
    """The card after the review `begun` describes (`mastery_begin`'s answer: the stored card,
    or the completion that stands for it, and the review's rating), made at `now`."""
    if begun["card"] is not None:
        card = Card.from_dict(begun["card"])
    else:
        card = first_card(datetime.fromisoformat(begun["completedAt"]), begun["completionRating"])
    # A clock behind the last review (another server's) reviews at the last review's time.
    at = max(now, card.last_review) if card.last_review else now
    after, _ = SCHEDULER.review_card(card, Rating(begun["rating"]), at)
    return after
