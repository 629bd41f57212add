"""The leaderboard: top learners by XP with competition ranks; only public fields."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from skilltree.gamification.repository import TOP_LEARNERS_SQL, top_learners
from skilltree.models import User
from tests.api import bearer, sign_up
from tests.factories import make_category, make_skill, make_tree


def test_top_learners_and_my_rank(client: TestClient, session: Session) -> None:
    """Learners earn their XP through the progress engine (levels start at 0, 100, 400 XP)."""
    tree = make_tree(session, make_category(session))
    worth = {xp: make_skill(session, tree, xp_value=xp).id for xp in (300, 200, 10)}
    tokens = {}
    for name, completed in [("ann", [300]), ("bob", [300, 200]), ("cid", [300]), ("dee", [10])]:
        token, _ = sign_up(client, email=f"{name}@example.com", username=name)
        tokens[name] = token
        assert client.post(f"/api/v1/trees/{tree.slug}/enroll", headers=bearer(token)).is_success
        for xp in completed:
            done = client.post(
                f"/api/v1/skills/{worth[xp]}/complete", json={}, headers=bearer(token)
            )
            assert done.json()["xpAwarded"] == xp, done.text
    board = client.get("/api/v1/leaderboard", params={"limit": 3}).json()
    assert board["entries"] == [
        {"rank": 1, "username": "bob", "currentLevel": 3, "totalXp": 500},
        {"rank": 2, "username": "ann", "currentLevel": 2, "totalXp": 300},
        {"rank": 2, "username": "cid", "currentLevel": 2, "totalXp": 300},
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


def test_the_top_learners_are_read_by_one_process_whatever_the_costs(session: Session) -> None:
    """At a million profiles the planner ran the top 100 on parallel workers, 25x slower than
    the index read backwards (benchmarks/million.py): the read is serial, even when parallel
    plans are made as cheap as they can be."""
    for setting in ("parallel_setup_cost", "parallel_tuple_cost"):
        session.execute(text(f"SET LOCAL {setting} = 0"))
    session.execute(text("SET LOCAL min_parallel_index_scan_size = 0"))
    session.execute(text("SET LOCAL min_parallel_table_scan_size = 0"))
    statement = TOP_LEARNERS_SQL.replace("%(limit)s", "100")
    assert "Gather" in plan_of(session, statement)  # what it would be
    top_learners(session, 100)
    assert "Gather" not in plan_of(session, statement)


def plan_of(session: Session, statement: str) -> str:
    return "\n".join(session.scalars(text(f"EXPLAIN {statement}")))
