"""Gamification API: your achievements, the leaderboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from skilltree.dependencies import CurrentUser, DbSession, OptionalUser, replica_reads
from skilltree.gamification import service
from skilltree.gamification.schemas import Leaderboard, MyAchievements

router = APIRouter(tags=["gamification"])


@router.get("/me/achievements", response_model=MyAchievements)
def my_achievements(session: DbSession, user: CurrentUser) -> MyAchievements:
    """Achievements you have earned, and the visible ones ahead with your progress toward them."""
    return service.my_achievements(session, user)


@router.get("/leaderboard", response_model=Leaderboard)
@replica_reads()
def leaderboard(
    session: DbSession,
    viewer: OptionalUser,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Leaderboard:
    """The learners with the most XP (username, level, XP only), and your own rank if signed in."""
    return service.leaderboard(session, limit, viewer)
