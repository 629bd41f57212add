"""GET /trees/{slug}/map: a lean document that draws the tree (the same for every viewer, built
and compressed once per version), GET /me/trees/{slug}/states: a learner's states that differ
from the tree's defaults, and GET /skills/{id} with an ETag: a skill's details when it is opened."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from skilltree import compression
from skilltree.catalog.document_cache import CachedMap, map_key
from skilltree.catalog.service import DOCUMENTS
from skilltree.models import (
    Skill,
    SkillProgressStatus,
    SkillTree,
    User,
    UserRole,
    UserSkillProgress,
)
from skilltree.models.enums import CompletionMethod
from tests.api import bearer
from tests.factories import (
    add_dependency,
    make_category,
    make_skill,
    make_token,
    make_tree,
    make_user,
)

MAP = "/api/v1/trees/lean/map"
FIELDS = [
    "id",
    "name",
    "shortName",
    "positionX",
    "positionY",
    "nodeSize",
    "xpValue",
    "estimatedMinutes",
    "isOptional",
    "isMilestone",
    "dependencies",
]


def a_tree(session: Session, **tree: Any) -> tuple[SkillTree, list[Skill]]:
    """Lean: A, then B and C needing A, then D needing B and C (C optional)."""
    made = make_tree(session, make_category(session), slug="lean", **tree)
    a = make_skill(session, made, name="A", short_name="a", position_x=0, position_y=0)
    b = make_skill(session, made, name="B", position_x=0, position_y=100, xp_value=25)
    c = make_skill(session, made, name="C", position_x=100, position_y=100, is_optional=True)
    d = make_skill(session, made, name="D", position_x=50, position_y=200, is_milestone=True)
    for skill, needs in ((b, a), (c, a), (d, b), (d, c)):
        add_dependency(session, skill, needs)
    return made, [a, b, c, d]


def make_progress(session: Session, learner: User, skill: Skill, status: str) -> None:
    session.add(
        UserSkillProgress(
            user_id=learner.id,
            skill_id=skill.id,
            skill_tree_id=skill.skill_tree_id,
            status=SkillProgressStatus(status),
            completion_method=CompletionMethod.MANUAL if status == "COMPLETED" else None,
            started_at=datetime.now(UTC),
            completed_at=datetime.now(UTC) if status == "COMPLETED" else None,
        )
    )
    session.flush()


def as_objects(tree_map: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The map's skills by id as objects, their dependencies as ids."""
    ids = [row[0] for row in tree_map["skills"]]
    skills = {}
    for row in tree_map["skills"]:
        skill = dict(zip(tree_map["skillFields"], row, strict=True))
        skill["dependencies"] = sorted(ids[rank] for rank in skill["dependencies"])
        skills[skill["id"]] = skill
    return skills


def test_the_map_shows_what_the_full_document_shows_of_the_graph(
    client: TestClient, session: Session
) -> None:
    tree, (a, b, c, d) = a_tree(session)

    answer = client.get(MAP)
    full = client.get("/api/v1/trees/lean").json()

    assert answer.status_code == 200
    tree_map = answer.json()
    assert tree_map["skillFields"] == FIELDS
    assert [row[0] for row in tree_map["skills"]] == [a.id, b.id, c.id, d.id]  # by position
    skills = as_objects(tree_map)
    for skill in full["skills"]:
        lean = skills[skill["id"]]
        assert {name: skill[name] for name in FIELDS} == lean
    assert [tree_map["skills"][rank][0] for rank in tree_map["learningOrder"]] == full[
        "learningOrder"
    ]
    assert [[tree_map["skills"][r][0] for r in layer] for layer in tree_map["layers"]] == full[
        "layers"
    ]
    for name in ("id", "name", "slug", "category", "layoutConfig", "themeConfig", "version"):
        assert tree_map[name] == full[name]
    assert tree_map["structureVersion"] == session.get(SkillTree, tree.id).structure_version  # type: ignore[union-attr]
    assert "content" not in answer.text  # details come with GET /skills/{id}


def test_the_map_has_an_etag_that_changes_with_the_tree(
    client: TestClient, session: Session
) -> None:
    a_tree(session)
    first = client.get(MAP)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "no-cache"
    assert "Accept-Encoding" in first.headers["Vary"]

    same = client.get(MAP, headers={"If-None-Match": etag})
    assert (same.status_code, same.content, same.headers["ETag"]) == (304, b"", etag)

    session.execute(text("UPDATE skills SET name = 'Renamed' WHERE name = 'A'"))
    changed = client.get(MAP, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "Renamed" in {row[1] for row in changed.json()["skills"]}


def test_a_drafts_map_is_for_its_author_only(client: TestClient, session: Session) -> None:
    author = make_user(session, UserRole.AUTHOR)
    a_tree(session, is_published=False, created_by=author.id)
    stranger = make_user(session)

    assert client.get(MAP).status_code == 404
    assert client.get(MAP, headers=bearer(make_token(session, stranger))).status_code == 404
    own = client.get(MAP, headers=bearer(make_token(session, author)))
    assert own.status_code == 200
    assert own.headers["Cache-Control"] == "private, no-cache"


def raw_get(client: TestClient, url: str, accept_encoding: str) -> tuple[dict[str, str], bytes]:
    """The answer's headers and its bytes as sent (not decoded)."""
    with client.stream("GET", url, headers={"Accept-Encoding": accept_encoding}) as answer:
        assert answer.status_code == 200
        return dict(answer.headers), b"".join(answer.iter_raw())


def test_the_map_is_compressed_when_the_client_accepts_gzip(
    client: TestClient, session: Session
) -> None:
    a_tree(session)
    plain_headers, plain = raw_get(client, MAP, "identity")
    gzip_headers, packed = raw_get(client, MAP, "br;q=1, gzip;q=0.5")
    refused_headers, refused = raw_get(client, MAP, "gzip;q=0, deflate")

    assert "content-encoding" not in plain_headers
    assert gzip_headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed) == plain
    assert "content-encoding" not in refused_headers
    assert refused == plain
    assert gzip_headers["etag"] == plain_headers["etag"]
    assert "Accept-Encoding" in gzip_headers["vary"]


def test_the_map_is_compressed_once_per_version_and_counted_in_the_cache(
    client: TestClient, session: Session
) -> None:
    a_tree(session)
    raw_get(client, MAP, "identity")
    kept = DOCUMENTS.get(map_key("lean"))
    assert isinstance(kept, CachedMap)
    used = DOCUMENTS.used
    before = compression.compressions

    for _ in range(3):
        raw_get(client, MAP, "gzip")
    assert compression.compressions == before + 1
    assert kept.body.gzipped is not None
    assert DOCUMENTS.used == used + len(kept.body.gzipped)  # the budget counts both forms

    session.execute(text("UPDATE skills SET name = 'Renamed' WHERE name = 'A'"))
    _, packed = raw_get(client, MAP, "gzip")
    assert compression.compressions == before + 2  # a new version: compressed again, once
    assert b"Renamed" in gzip.decompress(packed)


def test_visitors_full_document_is_compressed_once_too(
    client: TestClient, session: Session
) -> None:
    a_tree(session)
    before = compression.compressions
    headers, packed = raw_get(client, "/api/v1/trees/lean", "gzip")
    raw_get(client, "/api/v1/trees/lean", "gzip")

    assert headers["content-encoding"] == "gzip"
    assert compression.compressions == before + 1
    assert b'"skillStates":null' in gzip.decompress(packed)


def test_a_learners_states_are_what_differs_from_the_defaults(
    client: TestClient, session: Session
) -> None:
    _, (a, b, c, d) = a_tree(session)
    learner = make_user(session)
    token = bearer(make_token(session, learner))
    make_progress(session, learner, a, status="COMPLETED")
    states_url = "/api/v1/me/trees/lean/states"

    answer = client.get(states_url, headers=token)

    assert answer.status_code == 200
    states = answer.json()
    assert states["structureVersion"] == client.get(MAP).json()["structureVersion"]
    assert states["progress"] is None  # not enrolled
    assert states["skillStates"].keys() == {a.id, b.id, c.id}  # D stays LOCKED: the default
    assert states["skillStates"][a.id]["status"] == "COMPLETED"
    assert states["skillStates"][b.id] == {"status": "AVAILABLE"}
    full = client.get("/api/v1/trees/lean", headers=token).json()["skillStates"]
    for skill, value in states["skillStates"].items():
        assert full[skill] == value
    assert full[d.id] == {"status": "LOCKED"}

    etag = answer.headers["ETag"]
    assert client.get(states_url, headers=token | {"If-None-Match": etag}).status_code == 304
    make_progress(session, learner, b, status="IN_PROGRESS")
    assert client.get(states_url, headers=token | {"If-None-Match": etag}).status_code == 200
    assert client.get(states_url).status_code == 401


def test_a_skills_details_have_an_etag(client: TestClient, session: Session) -> None:
    _, (a, *_) = a_tree(session)
    url = f"/api/v1/skills/{a.id}"
    first = client.get(url)
    assert first.status_code == 200
    assert first.json()["name"] == "A"
    assert first.json()["dependents"]
    etag = first.headers["ETag"]

    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    session.execute(text("UPDATE skills SET description = 'Now described' WHERE name = 'A'"))
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.json()["description"] == "Now described"


def test_compression_follows_accept_encoding() -> None:
    assert compression.accepts_gzip("gzip")
    assert compression.accepts_gzip("deflate, gzip;q=0.1")
    assert compression.accepts_gzip("*")
    assert compression.accepts_gzip("X-GZIP")
    assert not compression.accepts_gzip(None)
    assert not compression.accepts_gzip("")
    assert not compression.accepts_gzip("identity")
    assert not compression.accepts_gzip("gzip;q=0")
    assert not compression.accepts_gzip("*;q=0.5, gzip;q=0")
    assert not compression.accepts_gzip("gzip;q=nonsense")
