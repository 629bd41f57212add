"""Learning paths: the way to a target skill, and what to learn next."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from skilltree.graph import ranks
from skilltree.progress import repository
from tests.progress.conftest import Curriculum


def complete(client: TestClient, curriculum: Curriculum, key: str, learner: dict[str, str]) -> None:
    url = f"/api/v1/skills/{curriculum.id(key)}/complete"
    assert client.post(url, json={}, headers=learner).status_code == 200


def names(steps: list[dict[str, object]]) -> list[object]:
    return [s["name"] for s in steps]


def test_path_to_a_skill_lists_what_is_left_in_order(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    for key, minutes, y in [
        ("html", 60, 0),
        ("css", 120, 100),
        ("js", 240, 100),
        ("react", 300, 200),
    ]:
        curriculum.skills[key].estimated_minutes = minutes
        curriculum.skills[key].position_y = y
    curriculum.skills["css"].position_x, curriculum.skills["js"].position_x = 0, 100
    session.commit()
    url = f"/api/v1/me/trees/frontend/path?to={curriculum.id('react')}"
    path = client.get(url, headers=learner).json()
    assert names(path["steps"]) == ["HTML", "CSS", "JS", "REACT"]
    assert path["totalMinutes"] == 720
    assert path["totalXp"] == 50 + 75 + 100 + 200
    assert [s["status"] for s in path["steps"]] == ["AVAILABLE", "LOCKED", "LOCKED", "LOCKED"]
    complete(client, curriculum, "html", learner)
    complete(client, curriculum, "js", learner)
    after = client.get(url, headers=learner).json()
    assert names(after["steps"]) == ["CSS", "REACT"]
    assert after["totalXp"] == 275


def test_a_path_comes_a_page_at_a_time_with_the_whole_paths_totals(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str], session: Session
) -> None:
    for key, y in [("html", 0), ("css", 100), ("js", 100), ("react", 200)]:
        curriculum.skills[key].estimated_minutes = 10
        curriculum.skills[key].position_y = y
    curriculum.skills["css"].position_x, curriculum.skills["js"].position_x = 0, 100
    session.commit()
    url = f"/api/v1/me/trees/frontend/path?to={curriculum.id('react')}"
    whole = client.get(url, headers=learner).json()
    assert whole["totalSteps"] == 4
    assert whole["nextOffset"] is None
    pages, offset = [], 0
    while offset is not None:
        page = client.get(f"{url}&limit=3&offset={offset}", headers=learner).json()
        assert (page["totalSteps"], page["totalMinutes"], page["totalXp"]) == (
            4,
            40,
            whole["totalXp"],
        )
        pages.append(names(page["steps"]))
        offset = page["nextOffset"]
    assert pages == [["HTML", "CSS", "JS"], ["REACT"]]
    past = client.get(f"{url}&offset=10", headers=learner).json()
    assert past["steps"] == []
    assert past["nextOffset"] is None
    assert past["totalSteps"] == 4
    for bad in ("limit=0", "limit=1001", "offset=-1"):
        answer = client.get(f"{url}&{bad}", headers=learner)
        assert answer.status_code == 422, bad
        assert answer.headers["content-type"].startswith("application/problem+json")


def test_path_to_a_done_skill_is_empty_and_unknown_is_404(
    client: TestClient, curriculum: Curriculum, learner: dict[str, str]
) -> None:
    complete(client, curriculum, "html", learner)
    done = client.get(
        f"/api/v1/me/trees/frontend/path?to={curriculum.id('html')}", headers=learner
    ).json()
    assert done["steps"] == []
    assert client.get("/api/v1/me/trees/frontend/path?to=nope", headers=learner).status_code == 404
    inactive = f"/api/v1/me/trees/frontend/path?to={curriculum.id('gone')}"
    assert client.get(inactive, headers=learner).status_code == 404


@pytest.mark.parametrize("ranked", [False, True], ids=["from the graph", "from stored ranks"])
def test_next_skills_rank_started_then_milestones_then_what_unlocks_most(
    client: TestClient,
    curriculum: Curriculum,
    learner: dict[str, str],
    session: Session,
    ranked: bool,
) -> None:
    # The curriculum is written by hand (no tree writer stored its ranks): ranked from its
    # graph, unless ranked first as a tree writer would (graph.ranks).
    if ranked:
        ranks.refresh(session, curriculum.tree.id)
        session.commit()
    assert (repository.next_facts(session, "nobody", curriculum.tree.id) is not None) is ranked
    first = client.get("/api/v1/me/trees/frontend/next", headers=learner).json()
    top = first["recommendations"][0]
    assert top["skill"]["name"] == "HTML"
    assert sorted(u["name"] for u in top["unlocks"]) == ["CSS", "JS", "QUIZ"]
    assert "unlocks 3 skills" in top["reason"]
    complete(client, curriculum, "html", learner)
    client.post(f"/api/v1/skills/{curriculum.id('js')}/start", headers=learner)
    ranked = client.get("/api/v1/me/trees/frontend/next", headers=learner).json()
    assert names([r["skill"] for r in ranked["recommendations"]])[:2] == ["JS", "CSS"]
    assert ranked["recommendations"][0]["reason"].startswith("You have started it")
    css = ranked["recommendations"][1]
    assert [u["name"] for u in css["unlocks"]] == ["LAYOUT"]  # REACT also needs JS
    limited = client.get("/api/v1/me/trees/frontend/next?limit=1", headers=learner).json()
    assert len(limited["recommendations"]) == 1
