"""The leaderboard: top learners by XP with competition ranks; only public fields."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from skilltree.models import User, UserProfile
from tests.api import bearer, sign_up


def test_top_learners_and_my_rank(client: TestClient, session: Session) -> None:
    tokens = {}
    for name, xp in [("ann", 300), ("bob", 500), ("cid", 300), ("dee", 10)]:
        token, user = sign_up(client, email=f"{name}@example.com", username=name)
        tokens[name] = token
        profile = session.get(UserProfile, user["id"])
        assert profile is not None
        profile.total_xp = xp
        session.commit()
    board = client.get("/api/v1/leaderboard", params={"limit": 3}).json()
    assert board["entries"] == [
        {"rank": 1, "username": "bob", "currentLevel": 1, "totalXp": 500},
        {"rank": 2, "username": "ann", "currentLevel": 1, "totalXp": 300},
        {"rank": 2, "username": "cid", "currentLevel": 1, "totalXp": 300},
    ]
    assert board["me"] is None
    mine = client.get("/api/v1/leaderboard", headers=bearer(tokens["dee"])).json()["me"]
    assert mine == {"rank": 4, "username": "dee", "currentLevel": 1, "totalXp": 10}


def test_the_leaderboard_shows_no_private_fields(client: TestClient, session: Session) -> None:
    sign_up(client)
    entry = client.get("/api/v1/leaderboard").json()["entries"][0]
    assert set(entry) == {"rank", "username", "currentLevel", "totalXp"}
    assert session.scalars(select(User)).first() is not None


def test_limit_is_bounded(client: TestClient) -> None:
    assert client.get("/api/v1/leaderboard", params={"limit": 0}).status_code == 422
    assert client.get("/api/v1/leaderboard", params={"limit": 101}).status_code == 422
